package diag

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Severity says whether a diagnostic blocks what it is about.
type Severity int

const (
	Error Severity = iota
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Pos is a place in a file a person wrote (intent, template, daemon config).
// Line and Col are 1-based; zero means unknown.
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"column,omitempty"`
}

func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Diagnostic is one problem found in what a person wrote, with its place.
type Diagnostic struct {
	Severity Severity
	Pos      Pos
	// Field is the path of the offending field inside the document,
	// e.g. "spec.routes[2].nextHop"; empty for file-level problems.
	Field string
	// Summary says what is wrong; Detail, when set, says what to do next.
	Summary string
	Detail  string
	// Related are the other places the problem is about: the other service
	// of a clash, or problems elsewhere that follow from this one.
	Related []Related
}

// Related is another place a diagnostic concerns, and what is there.
type Related struct {
	Pos     Pos
	Field   string
	Message string
}

func (r Related) String() string {
	if r.Field == "" {
		return r.Pos.String() + ": " + r.Message
	}
	return r.Pos.String() + ": " + r.Field + ": " + r.Message
}

func (d Diagnostic) String() string {
	var b strings.Builder
	b.WriteString(d.Pos.String())
	b.WriteString(": ")
	if d.Field != "" {
		b.WriteString(d.Field)
		b.WriteString(": ")
	}
	b.WriteString(d.Summary)
	if d.Detail != "" {
		b.WriteString(" (")
		b.WriteString(d.Detail)
		b.WriteString(")")
	}
	for _, r := range d.Related {
		b.WriteString("; see ")
		b.WriteString(r.String())
	}
	return b.String()
}

// Diagnostics is a list of problems; the zero value is an empty list.
type Diagnostics []Diagnostic

// Append adds diagnostics and returns the extended list.
func (ds Diagnostics) Append(more ...Diagnostic) Diagnostics { return append(ds, more...) }

// Errorf appends an error at pos for field.
func (ds Diagnostics) Errorf(pos Pos, field, format string, args ...any) Diagnostics {
	return append(ds, Diagnostic{Severity: Error, Pos: pos, Field: field, Summary: fmt.Sprintf(format, args...)})
}

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	return slices.ContainsFunc(ds, func(d Diagnostic) bool { return d.Severity == Error })
}

// Sort orders diagnostics by file, line, column, then text, so output is stable.
func (ds Diagnostics) Sort() {
	slices.SortStableFunc(ds, func(a, b Diagnostic) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
			cmp.Compare(a.Field, b.Field),
			cmp.Compare(a.Summary, b.Summary),
		)
	})
}

// Err returns the diagnostics as an error when any is an error, else nil.
func (ds Diagnostics) Err() error {
	if !ds.HasErrors() {
		return nil
	}
	return &DiagnosticsError{Diagnostics: ds}
}

// DiagnosticsError carries diagnostics through an error return.
type DiagnosticsError struct{ Diagnostics Diagnostics }

func (e *DiagnosticsError) Error() string {
	n := 0
	for _, d := range e.Diagnostics {
		if d.Severity == Error {
			n++
		}
	}
	first := ""
	for _, d := range e.Diagnostics {
		if d.Severity == Error {
			first = d.String()
			break
		}
	}
	if n == 1 {
		return first
	}
	return fmt.Sprintf("%s (and %d more errors)", first, n-1)
}

// About splits ds into the diagnostics about the given files or folders
// (slash-separated, relative like the positions) and the others. A diagnostic
// is about a path when its place or one of its related places is that file
// or lies under that folder; one with no file (a problem of the whole input)
// is about every path. "." selects everything.
func (ds Diagnostics) About(paths []string) (about, other Diagnostics) {
	in := func(file string) bool {
		return slices.ContainsFunc(paths, func(p string) bool {
			return p == "." || file == p || strings.HasPrefix(file, strings.TrimSuffix(p, "/")+"/")
		})
	}
	for _, d := range ds {
		if d.Pos.File == "" || in(d.Pos.File) || slices.ContainsFunc(d.Related, func(r Related) bool { return in(r.Pos.File) }) {
			about = append(about, d)
		} else {
			other = append(other, d)
		}
	}
	return about, other
}
