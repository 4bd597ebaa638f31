package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/netrecon/netrecon/schema"
)

// FormatVersion is the version of every JSON document netrecon writes. Minor
// versions add fields; a major version change removes or changes one.
// 1.2 added diagnostics' related places and the error document.
const FormatVersion = "1.2"

// DiagnosticFormats are the formats Diagnostics accepts.
var DiagnosticFormats = []string{"text", "json", "github"}

// Diagnostics writes validation results in the given format. The list is
// printed in the order given (callers sort it).
func Diagnostics(w io.Writer, format string, ds schema.Diagnostics) error {
	switch format {
	case "text":
		return diagnosticsText(w, ds)
	case "json":
		return diagnosticsJSON(w, ds)
	case "github":
		return diagnosticsGitHub(w, ds)
	}
	return fmt.Errorf("output format %q is not supported. Supported formats are %q", format, DiagnosticFormats)
}

func counts(ds schema.Diagnostics) (errs, warns int) {
	for _, d := range ds {
		if d.Severity == schema.Error {
			errs++
		} else {
			warns++
		}
	}
	return errs, warns
}

func diagnosticsText(w io.Writer, ds schema.Diagnostics) error {
	for _, d := range ds {
		field := ""
		if d.Field != "" {
			field = d.Field + ": "
		}
		fmt.Fprintf(w, "%s: %s: %s%s\n", d.Pos, d.Severity, field, d.Summary)
		if d.Detail != "" {
			fmt.Fprintf(w, "    %s\n", d.Detail)
		}
		for _, r := range d.Related {
			fmt.Fprintf(w, "    %s\n", r)
		}
	}
	errs, warns := counts(ds)
	switch {
	case errs == 0 && warns == 0:
		_, err := fmt.Fprintln(w, "The intent is valid.")
		return err
	case errs == 0:
		_, err := fmt.Fprintf(w, "The intent is valid, with %s.\n", Count(warns, "warning"))
		return err
	}
	_, err := fmt.Fprintf(w, "The intent is invalid: %s, %s.\n", Count(errs, "error"), Count(warns, "warning"))
	return err
}

// jsonDiagnostic is one entry of the validate JSON output (docs/json-output.md).
type jsonDiagnostic struct {
	Severity string `json:"severity"`
	File     string `json:"file"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	Field    string `json:"field,omitempty"`
	Message  string `json:"message"`
	Detail   string `json:"detail,omitempty"`
	// Related are the other places the problem concerns (since 1.2).
	Related []jsonRelated `json:"related,omitempty"`
}

type jsonRelated struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

type jsonValidation struct {
	FormatVersion string           `json:"format_version"`
	Valid         bool             `json:"valid"`
	Errors        int              `json:"errors"`
	Warnings      int              `json:"warnings"`
	Diagnostics   []jsonDiagnostic `json:"diagnostics"`
}

func diagnosticsJSON(w io.Writer, ds schema.Diagnostics) error {
	errs, warns := counts(ds)
	out := jsonValidation{FormatVersion: FormatVersion, Valid: errs == 0, Errors: errs, Warnings: warns, Diagnostics: toJSONDiagnostics(ds)}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func toJSONDiagnostics(ds schema.Diagnostics) []jsonDiagnostic {
	out := []jsonDiagnostic{}
	for _, d := range ds {
		jd := jsonDiagnostic{
			Severity: d.Severity.String(), File: d.Pos.File, Line: d.Pos.Line, Column: d.Pos.Col,
			Field: d.Field, Message: d.Summary, Detail: d.Detail,
		}
		for _, r := range d.Related {
			jd.Related = append(jd.Related, jsonRelated{File: r.Pos.File, Line: r.Pos.Line, Column: r.Pos.Col, Field: r.Field, Message: r.Message})
		}
		out = append(out, jd)
	}
	return out
}

// jsonError is the document every command given --output json writes on
// stdout when it fails (docs/json-output.md).
type jsonError struct {
	FormatVersion string        `json:"format_version"`
	Error         jsonErrorBody `json:"error"`
}

type jsonErrorBody struct {
	Message  string `json:"message"`
	ExitCode int    `json:"exit_code"`
	// Diagnostics are the problems in what a person wrote behind the error
	// (an invalid revision of the intent); absent otherwise.
	Diagnostics []jsonDiagnostic `json:"diagnostics,omitempty"`
}

// ErrorJSON writes a failed command's error as JSON, so that a tool reading
// --output json gets an answer on stdout whatever went wrong.
func ErrorJSON(w io.Writer, message string, exitCode int, ds schema.Diagnostics) error {
	out := jsonError{FormatVersion: FormatVersion, Error: jsonErrorBody{Message: message, ExitCode: exitCode}}
	if len(ds) > 0 {
		out.Error.Diagnostics = toJSONDiagnostics(ds)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// diagnosticsGitHub writes workflow commands that GitHub Actions turns into
// annotations on the pull request's changed lines. Each related place gets a
// notice too: of two clashing services, the one a pull request adds may be
// either, and its author must see the clash on their own file.
// https://docs.github.com/actions/reference/workflow-commands-for-github-actions
func diagnosticsGitHub(w io.Writer, ds schema.Diagnostics) error {
	for _, d := range ds {
		cmd := "error"
		if d.Severity == schema.Warning {
			cmd = "warning"
		}
		msg := d.Summary
		if d.Field != "" {
			msg = d.Field + ": " + msg
		}
		for _, r := range d.Related {
			msg += "\nsee " + r.String()
		}
		if d.Detail != "" {
			msg += "\n" + d.Detail
		}
		if _, err := fmt.Fprintf(w, "::%s %s::%s\n", cmd, ghProps(d.Pos), ghData(msg)); err != nil {
			return err
		}
		for _, r := range d.Related {
			if r.Pos.File == "" {
				continue
			}
			note := r.Message + "\n" + d.Severity.String() + " at " + d.Pos.String() + ": " + d.Summary
			if _, err := fmt.Fprintf(w, "::notice %s::%s\n", ghProps(r.Pos), ghData(note)); err != nil {
				return err
			}
		}
	}
	errs, warns := counts(ds)
	_, err := fmt.Fprintf(w, "netrecon validate: %s, %s\n", Count(errs, "error"), Count(warns, "warning"))
	return err
}

// ghProps are a workflow command's place properties.
func ghProps(p schema.Pos) string {
	props := "file=" + ghProperty(p.File)
	if p.Line > 0 {
		props += fmt.Sprintf(",line=%d", p.Line)
	}
	if p.Col > 0 {
		props += fmt.Sprintf(",col=%d", p.Col)
	}
	return props + ",title=" + ghProperty("netrecon validate")
}

// ghData escapes a workflow command's message: a newline in a YAML value must
// not end the command, nor start another one.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a workflow command's property value.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
