package render

import (
	"fmt"
	"strings"

	"github.com/netrecon/netrecon/diag"
)

// TemplateError is a template that failed for one service on one device: it did
// not execute, or its output is not well-formed XML (or closes an element it did
// not open). Template and Line point into the template; for bad output, which
// cannot be mapped back to a template line, OutputLine and Snippet show the
// rendered XML instead.
type TemplateError struct {
	Template string // template file name, e.g. "service-types/transit/junos.xml.tmpl"
	Line     int    // 1-based line in the template; 0 when unknown
	Service  string
	Device   string
	// OutputLine and Snippet locate a syntax error in the rendered XML.
	OutputLine int
	Snippet    string
	Err        error
}

func (e *TemplateError) Error() string {
	var b strings.Builder
	b.WriteString(e.Template)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	fmt.Fprintf(&b, ": service %q on device %q: %v", e.Service, e.Device, e.Err)
	if e.OutputLine > 0 {
		fmt.Fprintf(&b, " (rendered line %d: %s)", e.OutputLine, e.Snippet)
	}
	return b.String()
}

func (e *TemplateError) Unwrap() error { return e.Err }

// ValueError is a spec value that cannot be rendered whatever the template: a
// string that is not valid UTF-8 or holds a character XML 1.0 forbids (most
// control characters). html/template escapes markup but passes these through,
// and the device would refuse the whole edit.
type ValueError struct {
	Service string
	Device  string
	Field   string // e.g. "spec.routes[2].description"
	Msg     string
	// Template is the template line that would write the value (the
	// file alone when no line reads it by name).
	Template diag.Pos
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("service %q: %s: %s", e.Service, e.Field, e.Msg)
}

// BrokenTemplateError is a service whose template did not parse or failed
// its static check: New reported why, at the template.
type BrokenTemplateError struct {
	Template, Service, Device string
}

func (e *BrokenTemplateError) Error() string {
	return fmt.Sprintf("service %q on device %q is not rendered: its template %s has errors", e.Service, e.Device, e.Template)
}

// NoTemplateError is a service whose type has no template for the platform of
// a device it names.
type NoTemplateError struct {
	Kind, Platform, Service, Device string
}

func (e *NoTemplateError) Error() string {
	return fmt.Sprintf("service %q: type %q has no template for platform %q of device %q",
		e.Service, e.Kind, e.Platform, e.Device)
}
