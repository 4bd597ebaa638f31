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
const FormatVersion = "1.1"

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
	}
	errs, warns := counts(ds)
	switch {
	case errs == 0 && warns == 0:
		_, err := fmt.Fprintln(w, "The intent is valid.")
		return err
	case errs == 0:
		_, err := fmt.Fprintf(w, "The intent is valid, with %s.\n", plural(warns, "warning"))
		return err
	}
	_, err := fmt.Fprintf(w, "The intent is invalid: %s, %s.\n", plural(errs, "error"), plural(warns, "warning"))
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
	out := jsonValidation{FormatVersion: FormatVersion, Valid: errs == 0, Errors: errs, Warnings: warns, Diagnostics: []jsonDiagnostic{}}
	for _, d := range ds {
		out.Diagnostics = append(out.Diagnostics, jsonDiagnostic{
			Severity: d.Severity.String(), File: d.Pos.File, Line: d.Pos.Line, Column: d.Pos.Col,
			Field: d.Field, Message: d.Summary, Detail: d.Detail,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// diagnosticsGitHub writes workflow commands that GitHub Actions turns into
// annotations on the pull request's changed lines.
// https://docs.github.com/actions/reference/workflow-commands-for-github-actions
func diagnosticsGitHub(w io.Writer, ds schema.Diagnostics) error {
	for _, d := range ds {
		cmd := "error"
		if d.Severity == schema.Warning {
			cmd = "warning"
		}
		props := "file=" + ghProperty(d.Pos.File)
		if d.Pos.Line > 0 {
			props += fmt.Sprintf(",line=%d", d.Pos.Line)
		}
		if d.Pos.Col > 0 {
			props += fmt.Sprintf(",col=%d", d.Pos.Col)
		}
		props += ",title=" + ghProperty("netrecon validate")
		msg := d.Summary
		if d.Field != "" {
			msg = d.Field + ": " + msg
		}
		if d.Detail != "" {
			msg += "\n" + d.Detail
		}
		if _, err := fmt.Fprintf(w, "::%s %s::%s\n", cmd, props, ghData(msg)); err != nil {
			return err
		}
	}
	errs, warns := counts(ds)
	_, err := fmt.Fprintf(w, "netrecon validate: %s, %s\n", plural(errs, "error"), plural(warns, "warning"))
	return err
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

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
