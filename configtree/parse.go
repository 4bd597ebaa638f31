package configtree

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits that keep the memory of a parse bounded whatever the input: a
// template bug or a hostile device must not be able to exhaust the daemon.
const (
	// MaxDepth is the deepest element nesting Parse accepts. Real
	// configurations stay well under 20 levels.
	MaxDepth = 64
	// MaxInputSize is the largest document Parse accepts, in bytes. A full
	// PE configuration is a few megabytes.
	MaxInputSize = 64 << 20
)

// NetconfNS is the NETCONF base namespace, home of the operation attribute
// and of the <data> and <config> wrappers.
const NetconfNS = "urn:ietf:params:xml:ns:netconf:base:1.0"

// xmlNS is the namespace bound to the reserved prefix "xml"; xmlnsNS is the
// one of "xmlns" (Namespaces in XML 1.0 §3). Neither may be bound to any
// other prefix, nor be a default namespace.
const (
	xmlNS   = "http://www.w3.org/XML/1998/namespace"
	xmlnsNS = "http://www.w3.org/2000/xmlns/"
)

// IdentityLeaf marks a leaf path in Keys whose YANG type is identityref
// (RFC 7950 §9.10): Keys{"/interfaces/interface/type": {IdentityLeaf}}. Only
// the value of such a leaf is read as an identity; on any other leaf
// "prefix:local" is text, whatever prefixes are declared around it. With
// LeafListKey on the same path ({LeafListKey, IdentityLeaf}) it is a
// leaf-list of identities. It is not an XML name, so it never clashes with
// a key leaf.
const IdentityLeaf = "(identityref)"

// Parse reads a sequence of top-level elements (a rendered fragment, or the
// content of a NETCONF <data> reply) into a tree.
//
// Elements with only character data, or nothing, are leaves; the others are
// containers, or list entries when their element path (local names from the
// top, "/interfaces/interface") is in keys, in which case every key leaf must
// be present. The value "prefix:local" of a leaf whose path keys carry
// IdentityLeaf (a YANG identityref), when the prefix is declared in scope,
// is an identity: it is stored as ValueSpace=namespace, Value=local, so that
// the same identity written with two prefixes compares equal (RFC 7950
// §9.10.3). Any other value is text: "foo:bar" in a description stays
// "foo:bar" even where a prefix foo is declared. Values are trimmed of surrounding XML whitespace: templates
// indent them, devices do not, and YANG string values that matter to
// netrecon (descriptions, names) never rely on leading or trailing blanks.
//
// Parse refuses, with a *SyntaxError giving the position: malformed XML,
// mixed content, duplicate siblings, siblings with one local name in two
// namespaces, undeclared prefixes, bindings of the reserved xml and xmlns
// namespaces (Namespaces in XML 1.0 §3), elements in the xml namespace,
// DOCTYPE, and attributes other than
// namespace declarations — a rendered template must not be able to smuggle
// in nc:operation="delete".
func Parse(r io.Reader, name string, keys Keys) (*Tree, error) {
	p, err := newParser(r, name, keys)
	if err != nil {
		return nil, err
	}
	return p.run(false)
}

// ParseOffsets is Parse that also says where each node's start tag begins
// in the input, as a byte offset: the renderer maps a node back to the
// template line that wrote it.
func ParseOffsets(r io.Reader, name string, keys Keys) (*Tree, map[*Node]int, error) {
	p, err := newParser(r, name, keys)
	if err != nil {
		return nil, nil, err
	}
	p.offsets = map[*Node]int{}
	t, err := p.run(false)
	if err != nil {
		return nil, nil, err
	}
	return t, p.offsets, nil
}

// ParseData reads a document made of one <data> or <config> element (the
// wrapper of a NETCONF get-config reply or of an edit-config) and returns the
// tree of its children. Key paths in keys start below the wrapper.
func ParseData(r io.Reader, name string, keys Keys) (*Tree, error) {
	p, err := newParser(r, name, keys)
	if err != nil {
		return nil, err
	}
	return p.run(true)
}

type parser struct {
	name string
	src  []byte
	keys Keys
	// edit accepts the NETCONF operation attribute and records it in ops.
	edit bool
	ops  map[*Node]string
	// filter lets siblings repeat, for subtree filters.
	filter bool
	// lastTag is the RFC 6241 error-tag of the last error, for ApplyEdit.
	lastTag string
	// offsets, when set, records each node's start tag (ParseOffsets).
	offsets map[*Node]int
	// text is the character data of the innermost open element: only it
	// can hold text, since an element with text may not contain another.
	text []byte
	// free holds frames of closed elements, for the next ones.
	free []*frame
}

// indexFrom is the number of children from which an element indexes them
// in maps; below it, a scan of the children is cheaper.
const indexFrom = 8

func newParser(r io.Reader, name string, keys Keys) (*parser, error) {
	src, err := io.ReadAll(io.LimitReader(r, MaxInputSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &parser{name: name, src: src, keys: keys}
	if len(src) > MaxInputSize {
		return p, p.errAt(MaxInputSize, "too-big", "input larger than %d bytes", MaxInputSize)
	}
	return p, nil
}

// Error tags of parse errors, for ApplyEdit (RFC 6241 Appendix A).
const (
	tagMalformed    = "malformed-message"
	tagBadElement   = "bad-element"
	tagUnknownAttr  = "unknown-attribute"
	tagBadAttr      = "bad-attribute"
	tagUnknownNS    = "unknown-namespace"
	tagMissingElem  = "missing-element"
	tagUnknownElem  = "unknown-element"
	tagInvalidValue = "invalid-value"
)

// errAt builds a SyntaxError whose line and column are computed from a byte
// offset of the input.
func (p *parser) errAt(off int, tag, format string, args ...any) *SyntaxError {
	off = min(max(off, 0), len(p.src))
	before := p.src[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	col := utf8.RuneCount(before[lineStart:]) + 1
	if tag != "" {
		p.lastTag = tag
	}
	return &SyntaxError{Name: p.name, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// frame is an open element.
type frame struct {
	node    *Node
	raw     xml.Name          // as written, to match the end tag
	path    string            // element path of local names, for Keys
	decl    map[string]string // prefixes declared on this element
	defNS   string            // default namespace in scope
	off     int               // offset of the start tag
	textOff int               // offset of the first non-blank character data
	hasText bool              // its text is in parser.text
	hasElem bool
	wrapper bool
	// ids and spaces index the children by identity and by name, for
	// duplicates and namespace clashes, once there are more than
	// indexFrom of them; fewer are compared one by one.
	ids    map[string]*Node
	spaces map[string]string
}

func (p *parser) resolve(stack []*frame, prefix string) (string, bool) {
	if prefix == "xml" {
		return xmlNS, true
	}
	for i := len(stack) - 1; i >= 0; i-- {
		if ns, ok := stack[i].decl[prefix]; ok {
			return ns, true
		}
	}
	return "", false
}

func (p *parser) run(wrapper bool) (*Tree, error) {
	root := &Node{}
	stack := []*frame{{node: root}}
	dec := xml.NewDecoder(bytes.NewReader(p.src))
	dec.Strict = true
	wrapped := false // the wrapper element has been seen
	for {
		off := int(dec.InputOffset())
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			msg := err.Error()
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				msg = se.Msg
			}
			return nil, p.errAt(int(dec.InputOffset()), tagMalformed, "malformed XML: %s", msg)
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) > MaxDepth {
				return nil, p.errAt(off, tagMalformed, "elements nested deeper than %d", MaxDepth)
			}
			if top.hasText {
				return nil, p.errAt(off, tagBadElement, "mixed content: <%s> inside <%s> after text at %s", t.Name.Local, top.raw.Local, p.pos(top.textOff))
			}
			f, err := p.open(stack, t, off)
			if err != nil {
				return nil, err
			}
			if wrapper && len(stack) == 1 {
				if wrapped {
					return nil, p.errAt(off, tagMalformed, "a second top-level element <%s>: expected a single <data> or <config>", t.Name.Local)
				}
				if f.node.Name != "data" && f.node.Name != "config" {
					return nil, p.errAt(off, tagUnknownElem, "expected <data> or <config>, found <%s>", t.Name.Local)
				}
				wrapped, f.wrapper, f.node, f.path = true, true, root, ""
			}
			top.hasElem = true
			stack = append(stack, f)
		case xml.EndElement:
			if len(stack) == 1 {
				return nil, p.errAt(off, tagMalformed, "end tag </%s> without a start tag", t.Name.Local)
			}
			if t.Name != top.raw {
				return nil, p.errAt(off, tagMalformed, "end tag </%s> does not match <%s> at %s", qname(t.Name), qname(top.raw), p.pos(top.off))
			}
			stack = stack[:len(stack)-1]
			if err := p.close(stack, top); err != nil {
				return nil, err
			}
			*top = frame{}
			p.free = append(p.free, top)
		case xml.CharData:
			blank := isBlank(t)
			switch {
			case blank && !top.hasText:
				// Indentation between elements is dropped, and so are
				// blanks before a leaf's text: the value is trimmed.
			case len(stack) == 1 || top.wrapper:
				return nil, p.errAt(off, tagBadElement, "text outside an element")
			case top.hasElem:
				return nil, p.errAt(off, tagBadElement, "mixed content: text inside <%s> after an element", top.raw.Local)
			default:
				if !top.hasText {
					top.hasText = true
					top.textOff = off + firstNonBlank(t)
					p.text = p.text[:0]
				}
				p.text = append(p.text, t...)
			}
		case xml.Directive:
			// DOCTYPE could declare entities; configuration never needs one.
			return nil, p.errAt(off, tagMalformed, "directive <!%s> not accepted", firstWord(t))
		case xml.Comment, xml.ProcInst:
			// Comments carry nothing; <?xml ...?> and other processing
			// instructions are not configuration.
		}
	}
	if len(stack) > 1 {
		f := stack[len(stack)-1]
		return nil, p.errAt(len(p.src), tagMalformed, "unexpected end of input: <%s> at %s is not closed", qname(f.raw), p.pos(f.off))
	}
	if wrapper && !wrapped {
		return nil, p.errAt(len(p.src), tagMalformed, "expected a <data> or <config> element")
	}
	sortChildren(root)
	if wrapper {
		dropNetconfSpace(root)
	}
	return &Tree{Root: root}, nil
}

// dropNetconfSpace gives "no namespace" to nodes that only inherited the
// NETCONF base namespace from the <data> or <config> wrapper. Configuration
// never lives in that namespace, and a device that writes its configuration
// without a namespace of its own (Junos: <configuration>) would otherwise
// differ, node by node, from the same configuration rendered by netrecon.
func dropNetconfSpace(n *Node) {
	for _, c := range n.Children {
		if c.Space == NetconfNS {
			c.Space = ""
		}
		dropNetconfSpace(c)
	}
}

func (p *parser) pos(off int) string {
	e := p.errAt(off, "", "")
	return fmt.Sprintf("%d:%d", e.Line, e.Col)
}

// open reads a start tag: namespace declarations, the attributes it accepts,
// and the element's namespace.
func (p *parser) open(stack []*frame, t xml.StartElement, off int) (*frame, error) {
	// encoding/xml's raw tokens let through names such as ":" that no XML
	// writer can write back; a name is a prefix and a local part, both NCNames.
	if !isNCName(t.Name.Local) || (t.Name.Space != "" && !isNCName(t.Name.Space)) {
		return nil, p.errAt(off, tagMalformed, "%q is not an XML element name", qname(t.Name))
	}
	parent := stack[len(stack)-1]
	var f *frame
	if n := len(p.free); n > 0 {
		f, p.free = p.free[n-1], p.free[:n-1]
	} else {
		f = new(frame)
	}
	f.raw, f.off, f.defNS = t.Name, off, parent.defNS
	seen := make(map[xml.Name]bool, len(t.Attr))
	for _, a := range t.Attr {
		if seen[a.Name] {
			return nil, p.errAt(off, tagBadAttr, "attribute %s repeated on <%s>", qname(a.Name), t.Name.Local)
		}
		seen[a.Name] = true
		switch {
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			if a.Value == xmlNS || a.Value == xmlnsNS {
				return nil, p.errAt(off, tagBadAttr, "namespace %q is reserved and cannot be the default namespace (Namespaces in XML 1.0 §3)", a.Value)
			}
			f.defNS = a.Value
		case a.Name.Space == "xmlns":
			if a.Name.Local == "xmlns" || (a.Name.Local == "xml" && a.Value != xmlNS) {
				return nil, p.errAt(off, tagBadAttr, "prefix %q cannot be declared", a.Name.Local)
			}
			// Namespaces in XML 1.0 §3: the xml namespace belongs to the
			// prefix xml alone, the xmlns namespace to no declaration.
			if (a.Value == xmlNS && a.Name.Local != "xml") || a.Value == xmlnsNS {
				return nil, p.errAt(off, tagBadAttr, "prefix %q bound to the reserved namespace %q (Namespaces in XML 1.0 §3)", a.Name.Local, a.Value)
			}
			// Namespaces in XML 1.0 §5: a prefix cannot be undeclared.
			if a.Value == "" {
				return nil, p.errAt(off, tagBadAttr, "prefix %q declared with an empty namespace", a.Name.Local)
			}
			if f.decl == nil {
				f.decl = make(map[string]string)
			}
			f.decl[a.Name.Local] = a.Value
		}
	}
	var op string
	for _, a := range t.Attr {
		if a.Name.Local == "xmlns" && a.Name.Space == "" || a.Name.Space == "xmlns" {
			continue
		}
		if p.edit && a.Name.Space != "" {
			ns, ok := p.resolve(append(stack, f), a.Name.Space)
			if ok && ns == NetconfNS && a.Name.Local == "operation" {
				switch a.Value {
				case "merge", "replace", "create", "delete", "remove":
					op = a.Value
					continue
				}
				return nil, p.errAt(off, tagBadAttr, "operation %q on <%s>: expected merge, replace, create, delete or remove (RFC 6241 §7.2)", a.Value, t.Name.Local)
			}
		}
		return nil, p.errAt(off, tagUnknownAttr, "attribute %s on <%s> not accepted: configuration is element content only", qname(a.Name), t.Name.Local)
	}
	space := f.defNS
	if t.Name.Space != "" {
		ns, ok := p.resolve(append(stack, f), t.Name.Space)
		if !ok {
			return nil, p.errAt(off, tagUnknownNS, "undeclared namespace prefix %q in <%s>", t.Name.Space, qname(t.Name))
		}
		space = ns
	}
	if space == xmlNS {
		// Only attributes (xml:lang, xml:space) live there, and no writer
		// may declare it as the namespace of an element.
		return nil, p.errAt(off, tagUnknownNS, "element <%s> in the reserved xml namespace", qname(t.Name))
	}
	f.node = &Node{Name: t.Name.Local, Space: space}
	if p.offsets != nil {
		p.offsets[f.node] = off
	}
	f.path = parent.path + "/" + t.Name.Local
	if op != "" {
		p.ops[f.node] = op
	}
	return f, nil
}

// close finishes an element: leaf value, list keys, and its place among its
// siblings.
func (p *parser) close(stack []*frame, f *frame) error {
	if f.wrapper {
		return nil
	}
	n := f.node
	if !f.hasElem {
		n.Leaf = true
		if f.hasText {
			n.Value = string(bytes.Trim(p.text, xmlBlanks))
		}
		// A subtree filter has no schema: its content-match nodes keep any
		// declared prefix as an identity, and Select also compares their
		// text as written (contentMatches).
		if p.filter || p.keys.identity(f.path) {
			if prefix, local, ok := splitQName(n.Value); ok {
				if ns, ok := p.resolve(append(stack, f), prefix); ok {
					n.Value, n.ValueSpace, n.ValuePrefix = local, ns, prefix
				}
			}
		}
	}
	if ks := p.keys.list(f.path); len(ks) > 0 {
		for _, k := range ks {
			if n.keyLeaf(k) == nil {
				return p.errAt(f.off, tagMissingElem, "list entry <%s> has no key leaf <%s> (%s is keyed by %s)", f.raw.Local, k, f.path, strings.Join(ks, ", "))
			}
		}
		n.Keys = slices.Clone(ks)
	}
	sortChildren(n)

	parent := stack[len(stack)-1]
	if err := p.sibling(parent, f, n); err != nil {
		return err
	}
	parent.node.Children = append(parent.node.Children, n)
	return nil
}

// sibling checks n against the children parent already has: siblings must
// not share a local name across namespaces, nor (but in a filter) an
// identity.
func (p *parser) sibling(parent, f *frame, n *Node) error {
	children := parent.node.Children
	if parent.spaces == nil && len(children) >= indexFrom {
		parent.spaces = make(map[string]string, 2*len(children))
		parent.ids = make(map[string]*Node, 2*len(children))
		for _, c := range children {
			if _, ok := parent.spaces[c.Name]; !ok {
				parent.spaces[c.Name] = c.Space
			}
			parent.ids[c.PathStep()] = c
		}
	}
	var (
		clash   bool
		clashNS string // the namespace of a same-named sibling in another
		dup     bool
	)
	if parent.spaces != nil {
		if sp, ok := parent.spaces[n.Name]; ok && sp != n.Space {
			clash, clashNS = true, sp
		} else if !ok {
			parent.spaces[n.Name] = n.Space
		}
		if !p.filter && !clash {
			id := n.PathStep()
			if _, dup = parent.ids[id]; !dup {
				parent.ids[id] = n
			}
		}
	} else {
		// Identities are compared as paths, as the maps would: an
		// entry's key values are in its step.
		var id string
		for _, c := range children {
			if c.Name != n.Name {
				continue
			}
			if c.Space != n.Space {
				clash, clashNS = true, c.Space
				break
			}
			if p.filter {
				continue
			}
			if id == "" {
				id = n.PathStep()
			}
			if c.PathStep() == id {
				dup = true
				break
			}
		}
	}
	if clash {
		return p.errAt(f.off, tagBadElement, "<%s> in namespace %q next to <%s> in namespace %q: siblings must not share a local name across namespaces", n.Name, n.Space, n.Name, clashNS)
	}
	if dup {
		what := "element"
		switch {
		case n.IsEntry():
			what = "list entry"
		case n.Leaf:
			what = "leaf"
		}
		return p.errAt(f.off, tagBadElement, "duplicate %s %s", what, n.PathStep())
	}
	return nil
}

// list returns the key leaf names of the list at path, without IdentityLeaf.
func (k Keys) list(path string) []string {
	ks := k[path]
	if !slices.Contains(ks, IdentityLeaf) {
		return ks
	}
	var out []string
	for _, name := range ks {
		if name != IdentityLeaf {
			out = append(out, name)
		}
	}
	return out
}

// identity reports whether the leaf at path is identity-typed.
func (k Keys) identity(path string) bool { return slices.Contains(k[path], IdentityLeaf) }

// xmlBlanks is XML's whitespace (XML 1.0 §2.3 S), narrower than Unicode's.
const xmlBlanks = " \t\r\n"

func isBlank(b []byte) bool { return len(bytes.Trim(b, xmlBlanks)) == 0 }

func firstNonBlank(b []byte) int {
	return len(b) - len(bytes.TrimLeft(b, xmlBlanks))
}

func firstWord(b []byte) string {
	s := string(b)
	if i := strings.IndexAny(s, xmlBlanks); i >= 0 {
		s = s[:i]
	}
	return s
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// splitQName splits "prefix:local" when both halves are NCNames. IPv6
// addresses and times ("2001:db8::1", "12:30") are not QNames and stay plain.
func splitQName(v string) (prefix, local string, ok bool) {
	prefix, local, ok = strings.Cut(v, ":")
	if !ok || !isNCName(prefix) || !isNCName(local) {
		return "", "", false
	}
	return prefix, local, true
}

// isNCName approximates the XML NCName production (a name without colon).
func isNCName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r):
		case i > 0 && (r == '-' || r == '.' || unicode.IsDigit(r)):
		default:
			return false
		}
	}
	return true
}
