package configtree

import "slices"

// Diff returns the changes that turn from into to, touching only what
// netrecon owns:
//
//   - A node of to missing from from is created. List entries, leaves and
//     containers that are empty in to get a Create change; other containers
//     are implied by their descendants' changes. The key leaves of a created
//     entry are part of the entry's change, not changes of their own.
//   - A leaf in both with another value (or identity, or namespace) is an
//     Update. Identities written with different prefixes are not changes.
//   - A node of from missing from to is deleted only if it has owners in
//     from: configuration netrecon never rendered (a human's, another
//     tool's) is never planned away. When the node and its whole subtree are
//     owned, one Delete removes the subtree. Otherwise Diff descends and
//     deletes only the owned parts it can remove whole; a foreign descendant
//     keeps its ancestors alive, and a key leaf is never deleted on its own.
//
// Order, which is deterministic: all deletes first, in canonical order of
// from (siblings as WriteXML sorts them, parents before their descendants;
// a delete is never followed by a change inside the subtree it removed); then
// creates and updates in canonical order of to, parents before children.
// Deleting first frees names and values (an address, a VLAN) that creates may
// reuse.
func Diff(from, to *Tree) []Change {
	d := &differ{}
	d.matched(from.root(), to.root(), "/", nil, nil)
	return append(d.deletes, d.upserts...)
}

type differ struct {
	deletes, upserts []Change
}

// ancestors extends an ancestor chain with n, unless n is the root.
func ancestors(anc []*Node, n *Node) []*Node {
	if n.Name == "" && anc == nil {
		return nil
	}
	return append(slices.Clip(anc), n)
}

// matched compares the children of two nodes with the same identity; fa and
// ta are their ancestor chains in from and to, each including the node.
func (d *differ) matched(f, t *Node, path Path, fa, ta []*Node) {
	join(f, t, func(x, y *Node) {
		switch {
		case y == nil:
			d.remove(f, x, childPath(path, x), fa)
		case x == nil:
			d.create(t, y, childPath(path, y), ta)
		case x.Leaf && y.Leaf:
			if x.Value != y.Value || x.ValueSpace != y.ValueSpace || x.Space != y.Space {
				d.upserts = append(d.upserts, Change{Action: Update, Path: childPath(path, y), Leaf: true,
					Before: displayValue(x), After: displayValue(y), Owners: y.Owners, Node: y, Ancestors: ta})
			}
		case x.Leaf != y.Leaf && !isEmptyElem(x) && !isEmptyElem(y):
			// A leaf became a container or the reverse: remove, then create.
			p := childPath(path, y)
			d.remove(f, x, p, fa)
			d.create(t, y, p, ta)
		default:
			p := childPath(path, y)
			d.matched(x, y, p, ancestors(fa, x), ancestors(ta, y))
		}
	})
}

// create records the creation of n (a child of parent, in to) and of its
// descendants.
func (d *differ) create(parent, n *Node, path Path, anc []*Node) {
	if parent.isKeyLeaf(n) {
		return
	}
	switch {
	case n.Leaf:
		d.upserts = append(d.upserts, Change{Action: Create, Path: path, Leaf: true,
			After: displayValue(n), Owners: n.Owners, Node: n, Ancestors: anc})
		return
	case n.IsEntry() || len(n.Children) == 0:
		d.upserts = append(d.upserts, Change{Action: Create, Path: path, Owners: n.Owners, Node: n, Ancestors: anc})
	}
	sub := ancestors(anc, n)
	for _, c := range sortedChildren(n) {
		d.create(n, c, childPath(path, c), sub)
	}
}

// remove records what may be deleted of n, a child of parent in from that
// to does not have.
func (d *differ) remove(parent, n *Node, path Path, anc []*Node) {
	if parent.isKeyLeaf(n) {
		return
	}
	if fullyOwned(n) {
		c := Change{Action: Delete, Path: path, Leaf: n.Leaf, Owners: n.Owners, Node: n, Ancestors: anc}
		if n.Leaf {
			c.Before = displayValue(n)
		}
		d.deletes = append(d.deletes, c)
		return
	}
	sub := ancestors(anc, n)
	for _, c := range sortedChildren(n) {
		d.remove(n, c, childPath(path, c), sub)
	}
}

// fullyOwned reports whether n and all its descendants have owners. The key
// leaves of an entry go with the entry and are not asked.
func fullyOwned(n *Node) bool {
	if len(n.Owners) == 0 {
		return false
	}
	for _, c := range n.Children {
		if !n.isKeyLeaf(c) && !fullyOwned(c) {
			return false
		}
	}
	return true
}
