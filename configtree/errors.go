package configtree

import (
	"fmt"
	"strings"
)

// Error formats the error as "name:line:col: msg", the form editors and CI
// annotations understand.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.Name, e.Line, e.Col, e.Msg)
}

// Error names the path, both owners and both values, so that the author of
// either service can see whom to talk to.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s: conflict: %s sets %q but %s sets %q",
		e.Path, ownerName(e.Owner), e.Value, ownerName(e.Other), e.OtherValue)
}

func ownerName(o string) string {
	if o == "" {
		return "(unowned)"
	}
	return o
}

func joinOwners(owners []string) string { return strings.Join(owners, ", ") }

// EditError is an edit-config the simulated datastore refuses, shaped like a
// NETCONF <rpc-error> so that the simulator can send it back as one.
type EditError struct {
	// Tag is the RFC 6241 Appendix A error-tag: data-exists, data-missing,
	// malformed-message, bad-attribute, unknown-attribute, unknown-element,
	// unknown-namespace, missing-element, bad-element, invalid-value.
	//
	// [RFC6241 Appendix A]: https://www.rfc-editor.org/rfc/rfc6241#appendix-A
	Tag    string
	AppTag string // error-app-tag, "" for none (RFC 6241 §4.3)
	Path   Path   // the node concerned, "" when the payload could not be parsed
	Msg    string
	Err    error // the underlying error, such as a *SyntaxError, or nil
}

func (e *EditError) Error() string {
	if e.Path != "" {
		return fmt.Sprintf("%s: %s: %s", e.Tag, e.Path, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Tag, e.Msg)
}

func (e *EditError) Unwrap() error { return e.Err }

// PathError is a path that does not follow the syntax of Path.
type PathError struct {
	Path   Path
	Offset int // byte offset in Path
	Msg    string
}

func (e *PathError) Error() string {
	return fmt.Sprintf("path %q: at %d: %s", string(e.Path), e.Offset, e.Msg)
}
