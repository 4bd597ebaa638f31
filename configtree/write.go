package configtree

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
)

// WriteOptions shape the XML that WriteXML writes.
type WriteOptions struct {
	// Indent is written once per level before each element; "" writes the
	// whole tree on one line.
	Indent string
	// Owners writes a node's owners as a comment before it,
	// <!-- owners: a, b -->, where they differ from its parent's (so a
	// fragment owned by one service carries one comment). Parse ignores
	// comments, so the output still parses to the same tree.
	Owners bool
}

// WriteXML writes t as a sequence of top-level elements in canonical form:
//
//   - siblings sorted by local name, list entries of one list by their key
//     values (in Keys order, compared as strings), and the key leaves of an
//     entry first, in Keys order, as RFC 7950 §7.8.5 requires;
//   - each element names its namespace with a default namespace declaration
//     (xmlns="...") only where it differs from its parent's;
//   - an identity value is written prefix:local, with the prefix declared on
//     its own leaf (the source's prefix when known), except the reserved
//     prefix xml, which is never declared; an element or an identity in the
//     xmlns namespace, or an element in the xml namespace, is an error.
//
// The same tree always gives the same bytes, so the output can be hashed
// (Fingerprint) and compared in golden files.
func (t *Tree) WriteXML(w io.Writer, opts WriteOptions) error {
	xw := newXMLWriter(opts)
	if err := xw.children(t.root(), ""); err != nil {
		return err
	}
	if opts.Indent != "" && xw.buf.Len() > 0 {
		xw.buf.WriteByte('\n')
	}
	_, err := w.Write(xw.buf.Bytes())
	return err
}

// String returns t as indented canonical XML, for tests and debugging.
func (t *Tree) String() string {
	var b strings.Builder
	if err := t.WriteXML(&b, WriteOptions{Indent: "  "}); err != nil {
		return "<!-- " + err.Error() + " -->"
	}
	return b.String()
}

// xmlWriter writes through an xml.Encoder, which escapes text and attribute
// values; indentation is written beside it because the encoder would escape
// tabs and cannot indent comments.
type xmlWriter struct {
	buf  bytes.Buffer
	enc  *xml.Encoder
	opts WriteOptions
	ops  map[*Node]string // nc:operation per node, for EditConfig
	// plainPrefixes ignores the source's identity prefixes, so that trees
	// that are Equal write the same bytes (Fingerprint).
	plainPrefixes bool
	depth         int
}

func newXMLWriter(opts WriteOptions) *xmlWriter {
	xw := &xmlWriter{opts: opts}
	xw.enc = xml.NewEncoder(&xw.buf)
	return xw
}

func (xw *xmlWriter) indent() error {
	if xw.opts.Indent == "" {
		return nil
	}
	if err := xw.enc.Flush(); err != nil {
		return err
	}
	if xw.buf.Len() > 0 {
		xw.buf.WriteByte('\n')
	}
	for range xw.depth {
		xw.buf.WriteString(xw.opts.Indent)
	}
	return nil
}

func (xw *xmlWriter) children(n *Node, space string) error {
	for _, c := range sortedChildren(n) {
		if err := xw.node(c, space, nil); err != nil {
			return err
		}
	}
	return xw.enc.Flush()
}

func (xw *xmlWriter) node(n *Node, parentSpace string, parentOwners []string) error {
	if !isNCName(n.Name) {
		return fmt.Errorf("configtree: cannot write element name %q", n.Name)
	}
	if xw.opts.Owners && len(n.Owners) > 0 && !slices.Equal(n.Owners, parentOwners) {
		if err := xw.indent(); err != nil {
			return err
		}
		// "--" may not occur inside an XML comment.
		c := strings.ReplaceAll(joinOwners(n.Owners), "--", "- -")
		if err := xw.enc.EncodeToken(xml.Comment(" owners: " + c + " ")); err != nil {
			return err
		}
	}
	if n.Space == xmlNS || n.Space == xmlnsNS {
		return fmt.Errorf("configtree: cannot write <%s> in the reserved namespace %q", n.Name, n.Space)
	}
	if err := xw.indent(); err != nil {
		return err
	}
	start := xml.StartElement{Name: xml.Name{Local: n.Name}}
	if n.Space != parentSpace {
		start.Attr = append(start.Attr, xml.Attr{Name: xml.Name{Local: "xmlns"}, Value: n.Space})
	}
	if xw.ops != nil && xw.depth == 0 {
		// One declaration per top-level element serves every operation
		// attribute below it.
		start.Attr = append(start.Attr, xml.Attr{Name: xml.Name{Local: "xmlns:nc"}, Value: NetconfNS})
	}
	if op := xw.ops[n]; op != "" {
		start.Attr = append(start.Attr, xml.Attr{Name: xml.Name{Local: "nc:operation"}, Value: op})
	}
	value := n.Value
	switch {
	case !n.Leaf || n.ValueSpace == "":
	case n.ValueSpace == xmlNS:
		// The prefix xml is bound by definition and the namespace may not
		// be bound to any other (Namespaces in XML 1.0 §3).
		value = "xml:" + n.Value
	case n.ValueSpace == xmlnsNS:
		return fmt.Errorf("configtree: cannot write the value of <%s> in the reserved namespace %q", n.Name, n.ValueSpace)
	default:
		prefix := n.ValuePrefix
		if xw.plainPrefixes || !isNCName(prefix) || strings.HasPrefix(strings.ToLower(prefix), "xml") || prefix == "nc" {
			prefix = "id"
		}
		start.Attr = append(start.Attr, xml.Attr{Name: xml.Name{Local: "xmlns:" + prefix}, Value: n.ValueSpace})
		value = prefix + ":" + n.Value
	}
	if n.Leaf && value == "" && xw.ops[n] == "remove" {
		return xw.emptyElement(start)
	}
	if err := xw.enc.EncodeToken(start); err != nil {
		return err
	}
	if n.Leaf {
		if value != "" {
			if err := xw.enc.EncodeToken(xml.CharData(value)); err != nil {
				return err
			}
		}
	} else if len(n.Children) > 0 {
		xw.depth++
		for _, c := range sortedChildren(n) {
			if err := xw.node(c, n.Space, n.Owners); err != nil {
				return err
			}
		}
		xw.depth--
		if err := xw.indent(); err != nil {
			return err
		}
	}
	return xw.enc.EncodeToken(start.End())
}

// emptyElement writes start as <name .../>. A removed leaf needs no value,
// and yuma123 netconfd 2.13 reads <mtu></mtu> as the value "" of the leaf's
// type: the remove of a uint16 is refused (invalid-value), of a boolean
// unknown-element "wrong node type"; <mtu/> it removes (lab-verified,
// docs/quirks.md). encoding/xml only writes the long form, so this one is
// written by hand, after what the encoder holds.
func (xw *xmlWriter) emptyElement(start xml.StartElement) error {
	if err := xw.enc.Flush(); err != nil {
		return err
	}
	xw.buf.WriteString("<" + start.Name.Local)
	for _, a := range start.Attr {
		xw.buf.WriteString(" " + a.Name.Local + `="`)
		if err := xml.EscapeText(&xw.buf, []byte(a.Value)); err != nil {
			return err
		}
		xw.buf.WriteByte('"')
	}
	xw.buf.WriteString("/>")
	return nil
}
