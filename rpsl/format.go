package rpsl

import "strings"

// valueColumn is where values start, as the RIPE database and IRRd print them.
const valueColumn = 16

// Format prints an object deterministically: one "name:" per attribute padded
// to column 16, continuation lines indented to the same column, an empty
// continuation line as "+". The result ends with a newline and parses back to
// an equal object.
func Format(o *Object) string {
	var b strings.Builder
	for _, a := range o.Attrs {
		b.WriteString(a.Name)
		b.WriteByte(':')
		for i, line := range strings.Split(a.Value, "\n") {
			if i > 0 {
				b.WriteByte('\n')
				if line == "" {
					b.WriteByte('+')
					continue
				}
				b.WriteString(strings.Repeat(" ", valueColumn))
				b.WriteString(line)
				continue
			}
			if line == "" {
				continue
			}
			pad := valueColumn - len(a.Name) - 1
			if pad < 1 {
				pad = 1
			}
			b.WriteString(strings.Repeat(" ", pad))
			b.WriteString(line)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// FormatAll prints objects separated by a blank line.
func FormatAll(objs []*Object) string {
	parts := make([]string, len(objs))
	for i, o := range objs {
		parts[i] = Format(o)
	}
	return strings.Join(parts, "\n")
}
