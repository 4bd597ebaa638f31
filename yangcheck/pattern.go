package yangcheck

import (
	"fmt"
	"regexp"
	"strings"
)

// compilePattern translates a YANG pattern, an XML Schema regular
// expression (RFC 7950 9.4.5, W3C XML Schema Part 2 appendix F), into a Go
// regular expression. The two dialects mostly agree; where they do not:
//
//   - an XSD pattern always matches the whole value: it is anchored here;
//   - ^ and $ are ordinary characters in XSD: they are escaped;
//   - \d and \w are Unicode classes in XSD (RE2's are ASCII);
//   - \i and \c (XML name characters) and the \p{IsBlock} block escapes
//     have no RE2 form: the common ones are spelled out;
//   - character class subtraction ([a-z-[aeiou]]) has none at all: such a
//     pattern is an error, and the caller leaves it unchecked.
func compilePattern(p string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString(`^(?:`)
	inClass := false
	rs := []rune(p)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\\' && i+1 < len(rs):
			i++
			esc := rs[i]
			switch esc {
			case 'd':
				b.WriteString(`\p{Nd}`)
			case 'D':
				b.WriteString(`\P{Nd}`)
			case 'w':
				if inClass {
					b.WriteString(`\p{L}\p{M}\p{N}\p{S}`)
				} else {
					b.WriteString(`[^\p{P}\p{Z}\p{C}]`)
				}
			case 'W':
				if inClass {
					return nil, fmt.Errorf(`\W inside a character class has no Go form`)
				}
				b.WriteString(`[\p{P}\p{Z}\p{C}]`)
			case 'i':
				b.WriteString(class(inClass, `\p{L}_:`))
			case 'I':
				if inClass {
					return nil, fmt.Errorf(`\I inside a character class has no Go form`)
				}
				b.WriteString(`[^\p{L}_:]`)
			case 'c':
				b.WriteString(class(inClass, `\p{L}\p{N}\p{M}._:\-`))
			case 'C':
				if inClass {
					return nil, fmt.Errorf(`\C inside a character class has no Go form`)
				}
				b.WriteString(`[^\p{L}\p{N}\p{M}._:\-]`)
			case 'p', 'P':
				end := strings.IndexRune(string(rs[i:]), '}')
				if i+1 >= len(rs) || rs[i+1] != '{' || end < 0 {
					return nil, fmt.Errorf(`malformed \%c escape`, esc)
				}
				name := string(rs[i+2 : i+end])
				i += end
				if strings.HasPrefix(name, "Is") {
					rng, ok := xsdBlock(name)
					if !ok {
						return nil, fmt.Errorf(`block escape \p{%s} is not supported`, name)
					}
					if esc == 'P' {
						if inClass {
							return nil, fmt.Errorf(`\P{%s} inside a character class has no Go form`, name)
						}
						b.WriteString(`[^` + rng + `]`)
					} else {
						b.WriteString(class(inClass, rng))
					}
					continue
				}
				fmt.Fprintf(&b, `\%c{%s}`, esc, name)
			default:
				b.WriteRune('\\')
				b.WriteRune(esc)
			}
		case inClass && r == '-' && i+1 < len(rs) && rs[i+1] == '[':
			return nil, fmt.Errorf("character class subtraction has no Go form")
		case r == '[' && !inClass:
			inClass = true
			b.WriteRune(r)
			if i+1 < len(rs) && rs[i+1] == '^' {
				b.WriteRune('^')
				i++
			}
		case r == ']' && inClass:
			inClass = false
			b.WriteRune(r)
		case (r == '^' || r == '$') && !inClass:
			b.WriteRune('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteString(`)$`)
	return regexp.Compile(b.String())
}

// class writes a set of characters as a class, or as the bare members when
// already inside one.
func class(inClass bool, members string) string {
	if inClass {
		return members
	}
	return "[" + members + "]"
}

// xsdBlock spells out the Unicode block escapes YANG modules use in
// practice.
func xsdBlock(name string) (string, bool) {
	switch name {
	case "IsBasicLatin":
		return `\x{0}-\x{7F}`, true
	case "IsLatin-1Supplement":
		return `\x{80}-\x{FF}`, true
	case "IsLatinExtended-A":
		return `\x{100}-\x{17F}`, true
	case "IsLatinExtended-B":
		return `\x{180}-\x{24F}`, true
	case "IsGeneralPunctuation":
		return `\x{2000}-\x{206F}`, true
	}
	return "", false
}
