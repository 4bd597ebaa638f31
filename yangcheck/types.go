package yangcheck

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/openconfig/goyang/pkg/yang"
)

// leafType is a YANG type compiled for checking values (RFC 7950 9).
type leafType struct {
	kind       yang.TypeKind
	name       string // the type's name as the module wrote it, for messages
	ranges     yang.YangRange
	length     yang.YangRange
	patterns   []pattern
	enums      map[string]bool
	bits       map[string]bool
	fracDigits int
	// identities are the identities an identityref accepts: those derived
	// from its base (RFC 7950 9.10.2), by namespace and name.
	identities map[qname]bool
	base       string // the identityref's base, for messages
	union      []*leafType
	target     *leafType // a leafref's target type; nil: unchecked
}

type pattern struct {
	re     *regexp.Regexp
	text   string
	invert bool
}

// maxLeafrefDepth bounds how many leafrefs to leafrefs are followed.
const maxLeafrefDepth = 8

func (c *compiler) leafType(e *yang.Entry, y *yang.YangType, depth int) *leafType {
	if y == nil {
		return nil
	}
	if t, ok := c.types[y]; ok && y.Kind != yang.Yleafref {
		return t
	}
	t := &leafType{kind: y.Kind, name: y.Name, ranges: y.Range, length: y.Length, fracDigits: y.FractionDigits}
	switch y.Kind {
	case yang.Ystring, yang.Ybinary:
		for _, p := range y.Pattern {
			re, err := compilePattern(p)
			if err != nil {
				c.note("%s: pattern %q not checked: %v", e.Path(), p, err)
				continue
			}
			t.patterns = append(t.patterns, pattern{re: re, text: p, invert: c.inverted[p]})
		}
	case yang.Yenum:
		if y.Enum != nil {
			t.enums = map[string]bool{}
			for _, n := range y.Enum.Names() {
				t.enums[n] = true
			}
		}
	case yang.Ybits:
		if y.Bit != nil {
			t.bits = map[string]bool{}
			for _, n := range y.Bit.Names() {
				t.bits[n] = true
			}
		}
	case yang.Yidentityref:
		if y.IdentityBase != nil {
			t.base = y.IdentityBase.Name
			t.identities = map[qname]bool{}
			for _, id := range y.IdentityBase.Values {
				t.identities[qname{c.identitySpace(id), id.Name}] = true
			}
		}
	case yang.Yunion:
		for _, m := range y.Type {
			if mt := c.leafType(e, m, depth); mt != nil {
				t.union = append(t.union, mt)
			}
		}
	case yang.Yleafref:
		if depth < maxLeafrefDepth {
			if target := e.Find(stripPredicates(y.Path)); target != nil && target.Type != nil {
				t.target = c.leafType(target, target.Type, depth+1)
			}
		}
	}
	if c.types == nil {
		c.types = map[*yang.YangType]*leafType{}
	}
	if y.Kind != yang.Yleafref {
		c.types[y] = t
	}
	return t
}

// identitySpace is the namespace of the module that defines id (a
// submodule's identities are its module's).
func (c *compiler) identitySpace(id *yang.Identity) string {
	m := yang.RootNode(id)
	if m == nil {
		return ""
	}
	if m.BelongsTo != nil {
		if mi := c.set.byName[m.BelongsTo.Name]; mi != nil {
			return mi.namespace
		}
		return ""
	}
	if m.Namespace != nil {
		return m.Namespace.Name
	}
	return ""
}

// stripPredicates drops the [...] predicates of a leafref path, which
// goyang's Find does not read.
func stripPredicates(p string) string {
	var b strings.Builder
	depth := 0
	for _, r := range p {
		switch {
		case r == '[':
			depth++
		case r == ']' && depth > 0:
			depth--
		case depth == 0 && r != ' ' && r != '\t' && r != '\n':
			b.WriteRune(r)
		}
	}
	return b.String()
}

// check returns why value (with valueSpace, the namespace of an identity's
// prefix when configtree resolved it, and elemSpace, the element's own
// namespace) is not a value of t, or "" when it is.
func (t *leafType) check(value, valueSpace, elemSpace string, s *Set) string {
	if t == nil {
		return ""
	}
	switch t.kind {
	case yang.Yint8, yang.Yint16, yang.Yint32, yang.Yint64, yang.Yuint8, yang.Yuint16, yang.Yuint32, yang.Yuint64:
		return t.checkInt(value)
	case yang.Ydecimal64:
		if t.fracDigits < 1 {
			return ""
		}
		n, err := yang.ParseDecimal(value, uint8(t.fracDigits))
		if err != nil || strings.ContainsAny(value, "xXeE") {
			return fmt.Sprintf("%q is not a decimal64 with at most %d fraction digits", value, t.fracDigits)
		}
		return t.inRange(n, value)
	case yang.Ystring:
		if msg := t.checkLength(uint64(utf8.RuneCountInString(value)), value, "characters"); msg != "" {
			return msg
		}
		return t.checkPatterns(value)
	case yang.Ybinary:
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(value), ""))
		if err != nil {
			return fmt.Sprintf("%q is not base64 (type binary)", truncate(value))
		}
		return t.checkLength(uint64(len(b)), value, "bytes")
	case yang.Ybool:
		if value != "true" && value != "false" {
			return fmt.Sprintf("%q is not a boolean: write true or false", value)
		}
	case yang.Yempty:
		if value != "" {
			return fmt.Sprintf("%q given to a leaf of type empty, which takes no value", truncate(value))
		}
	case yang.Yenum:
		if t.enums != nil && !t.enums[value] {
			return fmt.Sprintf("%q is not one of the enumeration's values %s", value, quoteList(t.enums))
		}
	case yang.Ybits:
		for _, b := range strings.Fields(value) {
			if t.bits != nil && !t.bits[b] {
				return fmt.Sprintf("bit %q is not one of %s", b, quoteList(t.bits))
			}
		}
	case yang.Yidentityref:
		return t.checkIdentity(value, valueSpace, elemSpace, s)
	case yang.Yunion:
		if len(t.union) == 0 {
			return ""
		}
		var reasons []string
		for _, m := range t.union {
			msg := m.check(value, valueSpace, elemSpace, s)
			if msg == "" {
				return ""
			}
			reasons = append(reasons, msg)
		}
		return fmt.Sprintf("%q matches no member of the union: %s", truncate(value), strings.Join(reasons, "; "))
	case yang.Yleafref:
		return t.target.check(value, valueSpace, elemSpace, s)
	}
	return ""
}

func (t *leafType) checkInt(value string) string {
	var signed bool
	var bits int
	switch t.kind {
	case yang.Yint8, yang.Yuint8:
		bits = 8
	case yang.Yint16, yang.Yuint16:
		bits = 16
	case yang.Yint32, yang.Yuint32:
		bits = 32
	default:
		bits = 64
	}
	switch t.kind {
	case yang.Yint8, yang.Yint16, yang.Yint32, yang.Yint64:
		signed = true
	}
	kind := t.kind.String()
	// RFC 7950 9.2.1: an optional sign and decimal digits; no hexadecimal,
	// no octal, no spaces.
	var n yang.Number
	if signed {
		v, err := strconv.ParseInt(value, 10, bits)
		if err != nil {
			return fmt.Sprintf("%q is not an %s", truncate(value), kind)
		}
		n = yang.FromInt(v)
	} else {
		if strings.HasPrefix(value, "-") {
			return fmt.Sprintf("%q is not a %s: it cannot be negative", value, kind)
		}
		v, err := strconv.ParseUint(strings.TrimPrefix(value, "+"), 10, bits)
		if err != nil {
			return fmt.Sprintf("%q is not a %s", truncate(value), kind)
		}
		n = yang.FromUint(v)
	}
	return t.inRange(n, value)
}

func (t *leafType) inRange(n yang.Number, value string) string {
	if len(t.ranges) == 0 {
		return ""
	}
	for _, r := range t.ranges {
		if !n.Less(r.Min) && !r.Max.Less(n) {
			return ""
		}
	}
	return fmt.Sprintf("%s is out of the range %s of type %s", value, t.ranges, t.name)
}

func (t *leafType) checkLength(n uint64, value, unit string) string {
	if len(t.length) == 0 {
		return ""
	}
	num := yang.FromUint(n)
	for _, r := range t.length {
		if !num.Less(r.Min) && !r.Max.Less(num) {
			return ""
		}
	}
	return fmt.Sprintf("%q is %d %s long, outside the length %s of type %s", truncate(value), n, unit, t.length, t.name)
}

func (t *leafType) checkPatterns(value string) string {
	for _, p := range t.patterns {
		if p.re.MatchString(value) == p.invert {
			if p.invert {
				return fmt.Sprintf("%q matches the pattern %q, which type %s excludes", truncate(value), p.text, t.name)
			}
			return fmt.Sprintf("%q does not match the pattern %q of type %s", truncate(value), p.text, t.name)
		}
	}
	return ""
}

// checkIdentity resolves an identityref value (RFC 7950 9.10.3): a
// prefixed value names the identity in the prefix's namespace, which
// configtree resolved into valueSpace when the leaf is known to be an
// identityref, and otherwise is taken to be a module's own prefix; an
// unprefixed one is in the element's namespace.
func (t *leafType) checkIdentity(value, valueSpace, elemSpace string, s *Set) string {
	if t.identities == nil {
		return ""
	}
	space, local := valueSpace, value
	if space == "" {
		if p, l, ok := strings.Cut(value, ":"); ok {
			local = l
			for _, m := range s.byName {
				if m.prefix == p {
					space = m.namespace
				}
			}
			if space == "" {
				return fmt.Sprintf("%q: no module has the prefix %q (the value must be an identity derived from %s)", value, p, t.base)
			}
		} else {
			space = elemSpace
		}
	}
	if t.identities[qname{space, local}] {
		return ""
	}
	var names []string
	for q := range t.identities {
		if m := s.modules[q.space]; m != nil {
			names = append(names, m.prefix+":"+q.name)
		} else {
			names = append(names, q.name)
		}
	}
	slices.Sort(names)
	where := "namespace " + space
	if m := s.modules[space]; m != nil {
		where = "module " + m.name
	}
	return fmt.Sprintf("%q is not an identity derived from %s (%s has none of that name); allowed: %s", value, t.base, where, shortList(names))
}

func quoteList(set map[string]bool) string {
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	slices.Sort(names)
	return shortList(names)
}

// shortList writes at most a dozen names, so that an identity with three
// hundred derived ones (iana-if-type) makes a readable message.
func shortList(names []string) string {
	const most = 12
	if len(names) > most {
		return strings.Join(names[:most], ", ") + fmt.Sprintf(", … (%d in all)", len(names))
	}
	return strings.Join(names, ", ")
}

func truncate(s string) string {
	if len(s) <= 80 {
		return s
	}
	cut := 80
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
