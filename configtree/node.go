package configtree

import (
	"cmp"
	"slices"
	"strings"
)

// New returns an empty tree.
func New() *Tree { return &Tree{Root: &Node{}} }

// root returns t's root, or an empty node for a nil tree, so that every
// function here accepts a nil or zero Tree as "no configuration".
func (t *Tree) root() *Node {
	if t == nil || t.Root == nil {
		return &Node{}
	}
	return t.Root
}

// IsEntry reports whether n is a list entry (it has key leaves).
func (n *Node) IsEntry() bool { return len(n.Keys) > 0 }

// isKeyLeaf reports whether c, a child of n, is one of n's key leaves.
func (n *Node) isKeyLeaf(c *Node) bool {
	return c.Leaf && len(n.Keys) > 0 && slices.Contains(n.Keys, c.Name)
}

// LeafListKey is the key name that makes a leaf-list of a list path in
// Keys: Keys{"/system/dns/server": {LeafListKey}} lets <server> repeat, each
// instance identified by its own value, as "." names the context node in
// XPath. Its paths read "/system/dns/server[.=192.0.2.53]".
const LeafListKey = "."

// keyLeaf returns n's key leaf named k, or nil. A leaf-list instance is its
// own key.
func (n *Node) keyLeaf(k string) *Node {
	if k == LeafListKey {
		if n.Leaf {
			return n
		}
		return nil
	}
	// Canonical order puts key leaves first, so the first probes usually hit.
	for _, c := range n.Children {
		if c.Leaf && c.Name == k {
			return c
		}
	}
	return nil
}

// isEmptyElem reports whether n is written as an empty element: an empty
// leaf and an empty container are the same XML (<x/>), so the package treats
// them as equal and lets an empty leaf grow children when merged with a
// container (a presence container rendered empty by one service and filled
// by another).
func isEmptyElem(n *Node) bool {
	if n.Leaf {
		return n.Value == "" && n.ValueSpace == ""
	}
	return len(n.Children) == 0
}

// compareKeyValues orders two nodes of the same name by their key values, in
// Keys order.
func compareKeyValues(a, b *Node) int {
	for i := 0; i < len(a.Keys) && i < len(b.Keys); i++ {
		ka, kb := a.keyLeaf(a.Keys[i]), b.keyLeaf(b.Keys[i])
		var va, vb, sa, sb string
		if ka != nil {
			va, sa = ka.Value, ka.ValueSpace
		}
		if kb != nil {
			vb, sb = kb.Value, kb.ValueSpace
		}
		if c := strings.Compare(va, vb); c != 0 {
			return c
		}
		if c := strings.Compare(sa, sb); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a.Keys), len(b.Keys))
}

// compareID orders two children of parent by identity, which is what makes
// two nodes "the same node" in Merge, Diff and Find: the local name and, for
// list entries, the key values. Within a list entry the key leaves come
// first, in Keys order (RFC 7950 §7.8.5 requires that order in edit-config).
// The namespace is not part of the identity: siblings that differ only by
// namespace are refused by Parse and are a conflict in Merge.
func compareID(parent, a, b *Node) int {
	if len(parent.Keys) > 0 {
		ia, ib := -1, -1
		if a.Leaf {
			ia = slices.Index(parent.Keys, a.Name)
		}
		if b.Leaf {
			ib = slices.Index(parent.Keys, b.Name)
		}
		switch {
		case ia >= 0 && ib >= 0:
			return cmp.Compare(ia, ib)
		case ia >= 0:
			return -1
		case ib >= 0:
			return 1
		}
	}
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return compareKeyValues(a, b)
}

// compareCanonical is the canonical order of siblings: compareID, then the
// namespace so that even an invalid tree sorts deterministically.
func compareCanonical(parent, a, b *Node) int {
	if c := compareID(parent, a, b); c != 0 {
		return c
	}
	return strings.Compare(a.Space, b.Space)
}

// sortedChildren returns n's children in canonical order without modifying n.
func sortedChildren(n *Node) []*Node {
	if n == nil {
		return nil
	}
	less := func(a, b *Node) int { return compareCanonical(n, a, b) }
	if slices.IsSortedFunc(n.Children, less) {
		return n.Children
	}
	s := slices.Clone(n.Children)
	slices.SortStableFunc(s, less)
	return s
}

// sortChildren puts n's children in canonical order, in place.
func sortChildren(n *Node) {
	less := func(a, b *Node) int { return compareCanonical(n, a, b) }
	if !slices.IsSortedFunc(n.Children, less) {
		slices.SortStableFunc(n.Children, less)
	}
}

// canonicalize sorts every node's children.
func canonicalize(n *Node) {
	sortChildren(n)
	for _, c := range n.Children {
		canonicalize(c)
	}
}

// join walks the children of a and b (either may be nil) together in
// canonical order and calls fn once per identity, with the child of a and the
// child of b; one of them is nil when that side lacks the identity. It is the
// merge-join under Merge, Diff and AdoptOwners: linear in the number of
// children once they are sorted.
func join(a, b *Node, fn func(x, y *Node)) {
	parent := a
	if parent == nil {
		parent = b
	}
	as, bs := sortedChildren(a), sortedChildren(b)
	i, j := 0, 0
	for i < len(as) || j < len(bs) {
		switch {
		case j == len(bs):
			fn(as[i], nil)
			i++
		case i == len(as):
			fn(nil, bs[j])
			j++
		default:
			switch c := compareID(parent, as[i], bs[j]); {
			case c < 0:
				fn(as[i], nil)
				i++
			case c > 0:
				fn(nil, bs[j])
				j++
			default:
				fn(as[i], bs[j])
				i++
				j++
			}
		}
	}
}

// findChild returns the child of parent with the identity of like, or nil.
func findChild(parent, like *Node) *Node {
	for _, c := range parent.Children {
		if compareID(parent, c, like) == 0 {
			return c
		}
	}
	return nil
}

// Clone returns a deep copy of t.
func (t *Tree) Clone() *Tree {
	return &Tree{Root: t.root().clone()}
}

func (n *Node) clone() *Node {
	c := *n
	c.Keys = slices.Clone(n.Keys)
	c.Owners = slices.Clone(n.Owners)
	if n.Children != nil {
		c.Children = make([]*Node, len(n.Children))
		for i, ch := range n.Children {
			c.Children[i] = ch.clone()
		}
	}
	return &c
}

// shallow copies n without its children, except the key leaves of a list
// entry, which are part of its identity.
func (n *Node) shallow() *Node {
	c := *n
	c.Keys = slices.Clone(n.Keys)
	c.Owners = slices.Clone(n.Owners)
	c.Children = nil
	for _, k := range n.Keys {
		if kl := n.keyLeaf(k); kl != nil && kl != n {
			c.Children = append(c.Children, kl.clone())
		}
	}
	return &c
}

// Len returns the number of nodes in t, not counting the root.
func (t *Tree) Len() int {
	return countNodes(t.root()) - 1
}

func countNodes(n *Node) int {
	c := 1
	for _, ch := range n.Children {
		c += countNodes(ch)
	}
	return c
}

// Equal reports whether t and other are the same configuration: the same
// elements, namespaces, values and list keys, whatever the order of siblings
// and the prefixes of identity values. Owners are not compared: they say who
// wants a node, not what the device holds. An empty leaf equals an empty
// container (both are <x/>).
func (t *Tree) Equal(other *Tree) bool {
	return equalNode(t.root(), other.root())
}

func equalNode(a, b *Node) bool {
	if a.Name != b.Name || a.Space != b.Space || !slices.Equal(a.Keys, b.Keys) {
		return false
	}
	if a.Leaf != b.Leaf {
		return isEmptyElem(a) && isEmptyElem(b)
	}
	if a.Leaf {
		return a.Value == b.Value && a.ValueSpace == b.ValueSpace
	}
	if len(a.Children) != len(b.Children) {
		return false
	}
	as, bs := sortedChildren(a), sortedChildren(b)
	for i := range as {
		if !equalNode(as[i], bs[i]) {
			return false
		}
	}
	return true
}

// SetOwner makes owner the only owner of every node of t: a service's
// rendered fragment is owned, node by node, by that service.
func (t *Tree) SetOwner(owner string) {
	var set func(n *Node)
	set = func(n *Node) {
		n.Owners = nil
		if owner != "" {
			n.Owners = []string{owner}
		}
		for _, c := range n.Children {
			set(c)
		}
	}
	for _, c := range t.root().Children {
		set(c)
	}
}

// AdoptOwners adds the owners of each node of from to the node at the same
// path in t, if t has one. Reconcile uses it to mark which nodes of a live
// configuration netrecon applied before (from is the journal's tree), so that
// Diff may remove them when no service renders them any more.
func (t *Tree) AdoptOwners(from *Tree) {
	if t == nil || t.Root == nil {
		return
	}
	var adopt func(dst, src *Node)
	adopt = func(dst, src *Node) {
		join(dst, src, func(x, y *Node) {
			if x == nil || y == nil {
				return
			}
			x.Owners = unionOwners(x.Owners, y.Owners)
			adopt(x, y)
		})
	}
	adopt(t.Root, from.root())
}

// unionOwners merges two sorted, unique owner lists into a new one.
func unionOwners(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return slices.Clone(b)
	}
	out := make([]string, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}
