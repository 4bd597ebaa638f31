package rpsl

import (
	"fmt"
	"strings"
)

// SyntaxError is a malformed line, with its place in the text (1-based).
type SyntaxError struct {
	Line, Col int
	Msg       string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// Parse reads RPSL objects from text ([RFC 2622] §2):
//
//   - "name: value" lines; a name starts with a letter and holds letters,
//     digits, "-" and "_"; it is case-insensitive and returned lower-case;
//   - a line starting with a space, a tab or "+" continues the previous
//     attribute's value ("+" lets a value hold an empty line);
//   - "#" starts a comment to the end of the line; a line that is only a
//     comment is skipped;
//   - one or more blank lines (empty or only white space) end an object.
//
// CR before LF is dropped, so mail bodies parse as they are. The first error
// is returned with its line and column; Parse never panics on any input.
//
// [RFC 2622]: https://www.rfc-editor.org/rfc/rfc2622#section-2
func Parse(text string) ([]*Object, error) {
	var objs []*Object
	var cur *Object
	lines := strings.Split(text, "\n")
	for i, raw := range lines {
		n := i + 1
		line := strings.TrimSuffix(raw, "\r")
		if strings.TrimSpace(line) == "" {
			cur = nil
			continue
		}
		if line[0] == '#' {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' || line[0] == '+' {
			if cur == nil {
				return nil, &SyntaxError{Line: n, Col: 1, Msg: "continuation line outside an attribute (a line starting with space, tab or \"+\" continues the previous line's value)"}
			}
			a := &cur.Attrs[len(cur.Attrs)-1]
			a.Value += "\n" + cleanValue(line[1:])
			continue
		}
		colon := strings.IndexByte(line, ':')
		if colon < 0 {
			return nil, &SyntaxError{Line: n, Col: 1, Msg: fmt.Sprintf("%q is not an attribute: want \"name: value\"", clip(line))}
		}
		name := line[:colon]
		if col, ok := checkName(name); !ok {
			return nil, &SyntaxError{Line: n, Col: col, Msg: fmt.Sprintf("bad attribute name %q: a name starts with a letter and holds letters, digits, \"-\" and \"_\"", clip(name))}
		}
		if cur == nil {
			cur = &Object{}
			objs = append(objs, cur)
		}
		cur.Attrs = append(cur.Attrs, Attr{
			Name:  strings.ToLower(name),
			Value: cleanValue(line[colon+1:]),
			Line:  n,
			Col:   1,
		})
	}
	return objs, nil
}

// ParseOne reads text that must hold exactly one object.
func ParseOne(text string) (*Object, error) {
	objs, err := Parse(text)
	if err != nil {
		return nil, err
	}
	if len(objs) != 1 {
		return nil, &SyntaxError{Line: 1, Col: 1, Msg: fmt.Sprintf("want one object, found %d", len(objs))}
	}
	return objs[0], nil
}

// cleanValue drops an end-of-line comment and the white space around a value.
func cleanValue(s string) string {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// checkName reports whether name is an RPSL attribute name; when it is not, the
// 1-based column of the first offending character.
func checkName(name string) (int, bool) {
	if name == "" {
		return 1, false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case isLetter(c):
		case i > 0 && (isDigit(c) || c == '-' || c == '_'):
		default:
			return i + 1, false
		}
	}
	return 0, true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// clip shortens s for an error message.
func clip(s string) string {
	const max = 40
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
