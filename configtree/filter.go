package configtree

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
)

// Filter returns the subtree filter (RFC 6241 §6) that reads back what
// desired manages, so that a get-config asks a device for the managed part
// of its configuration only: containers become containment nodes, each list
// entry is addressed by its key leaves as content-match nodes (which selects
// the whole entry, foreign children included, so that drift inside it is
// seen), and leaves and empty containers outside entries become selection
// nodes.
//
// [RFC6241 6]: https://www.rfc-editor.org/rfc/rfc6241#section-6
func Filter(desired *Tree) *Tree {
	out := New()
	var build func(src, dst *Node)
	build = func(src, dst *Node) {
		for _, c := range sortedChildren(src) {
			var n *Node
			switch {
			case c.IsEntry() && c.Leaf:
				// A leaf-list: one selection node reads all its instances.
				if k := len(dst.Children); k > 0 && dst.Children[k-1].Name == c.Name {
					continue
				}
				n = &Node{Name: c.Name, Space: c.Space, Leaf: true}
			case c.IsEntry():
				n = c.shallow()
				n.Owners = nil
			case isEmptyElem(c) || c.Leaf:
				n = &Node{Name: c.Name, Space: c.Space, Leaf: true}
			default:
				n = &Node{Name: c.Name, Space: c.Space}
				build(c, n)
			}
			dst.Children = append(dst.Children, n)
		}
	}
	build(desired.root(), out.Root)
	return out
}

// FilterXML returns filter as the content of <filter type="subtree">. The
// elements declare their namespaces, an empty one included, because they sit
// inside <filter> in the NETCONF namespace. An empty filter gives "", which
// selects nothing (RFC 6241 §6.4.2).
func FilterXML(filter *Tree) string {
	xw := newXMLWriter(WriteOptions{})
	if err := xw.children(filter.root(), NetconfNS); err != nil {
		// Only a node name that is not an XML name gets here, and Filter
		// copies names from trees; say so rather than send half a filter.
		return "<!-- " + err.Error() + " -->"
	}
	return xw.buf.String()
}

// ParseFilter reads the content of a <filter type="subtree"> for the
// simulator. Unlike Parse it lets siblings repeat (two entries of one list
// selected by two content-match nodes) and does not require list keys.
func ParseFilter(r io.Reader, name string) (*Tree, error) {
	p, err := newParser(r, name, nil)
	if err != nil {
		return nil, err
	}
	p.filter = true
	return p.run(false)
}

// Select returns the part of t that filter selects, following RFC 6241
// §6.2: a filter node without namespace matches any namespace; content-match
// nodes (leaves with a value) must all match for their siblings to be
// selected; when a sibling set holds only content-match nodes, the whole
// parent is selected; selection nodes (empty elements) select their match
// whole; containment nodes select what their own children select. The
// result is a copy.
//
// [RFC6241 6.2]: https://www.rfc-editor.org/rfc/rfc6241#section-6.2
func (t *Tree) Select(filter *Tree) *Tree {
	out := New()
	f := filter.root()
	if len(f.Children) > 0 {
		out.Root.Children, _ = selectChildren(t.root(), f)
	}
	canonicalize(out.Root)
	return out
}

// contentMatches compares content-match node fc with data leaf dc. A filter
// has no schema, so ParseFilter reads a declared prefix as an identity; a
// leaf that is text in the data (not identity-typed) matches the filter's
// text as written.
func contentMatches(fc, dc *Node) bool {
	if dc.Value == fc.Value && dc.ValueSpace == fc.ValueSpace {
		return true
	}
	return dc.ValueSpace == "" && fc.ValueSpace != "" && dc.Value == fc.ValuePrefix+":"+fc.Value
}

func filterMatches(f, d *Node) bool {
	return f.Name == d.Name && (f.Space == "" || f.Space == d.Space)
}

// selectChildren returns copies of the children of d selected by the
// children of filter node f, and false when a content-match node fails.
func selectChildren(d, f *Node) ([]*Node, bool) {
	var others []*Node
	var out []*Node
	for _, fc := range f.Children {
		if !fc.Leaf || isEmptyElem(fc) {
			others = append(others, fc)
			continue
		}
		found := false
		for _, dc := range d.Children {
			if filterMatches(fc, dc) && dc.Leaf && contentMatches(fc, dc) {
				found = true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	if len(others) == 0 {
		// Only content-match nodes: the whole parent is selected.
		out = make([]*Node, len(d.Children))
		for i, dc := range d.Children {
			out[i] = dc.clone()
		}
		return out, true
	}
	selected := make(map[*Node]*Node)
	var order []*Node
	add := func(dc, r *Node) {
		if prev, ok := selected[dc]; ok {
			mergeNode(prev, r)
			return
		}
		selected[dc] = r
		order = append(order, dc)
	}
	for _, fc := range f.Children {
		for _, dc := range d.Children {
			if !filterMatches(fc, dc) {
				continue
			}
			switch {
			case fc.Leaf && !isEmptyElem(fc):
				if dc.Leaf && contentMatches(fc, dc) {
					add(dc, dc.clone())
				}
			case isEmptyElem(fc):
				add(dc, dc.clone())
			default:
				if dc.Leaf {
					continue
				}
				kids, ok := selectChildren(dc, fc)
				if ok && len(kids) > 0 {
					n := *dc
					n.Keys, n.Owners = append([]string(nil), dc.Keys...), append([]string(nil), dc.Owners...)
					n.Children = kids
					add(dc, &n)
				}
			}
		}
	}
	for _, dc := range order {
		out = append(out, selected[dc])
	}
	return out, true
}

// Fingerprint returns the hex SHA-256 of t's canonical XML (no owners, no
// indentation): equal configurations have equal fingerprints whatever the
// order of siblings or the prefixes of identities, so a plan can record the
// live state it was computed from and apply can tell whether it moved.
func (t *Tree) Fingerprint() string {
	xw := newXMLWriter(WriteOptions{})
	xw.plainPrefixes = true
	if err := xw.children(t.root(), ""); err != nil {
		// Unwritable names cannot come from Parse; hash the error so the
		// fingerprint still differs from any real configuration.
		xw.buf.WriteString(err.Error())
	}
	sum := sha256.Sum256(xw.buf.Bytes())
	return hex.EncodeToString(sum[:])
}
