package configtree

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
func Diff(from, to *Tree) []Change { return diff(from, to, false) }

// DiffAll is Diff with every node of from taken as owned: for a from read
// from a device, where what to lacks must go (an undo back to a pre-image
// read under lock) or be shown (what verify found that should not be there).
// Deletes carry from's owners, which may be none.
func DiffAll(from, to *Tree) []Change { return diff(from, to, true) }

func diff(from, to *Tree, all bool) []Change {
	d := &differ{copies: make(map[*Node]*Node), all: all}
	d.matched(from.root(), to.root(), "/")
	return append(d.deletes, d.upserts...)
}

type differ struct {
	all              bool // every node of from may be deleted (DiffAll)
	deletes, upserts []Change
	// fromAnc and toAnc are the ancestors of the nodes being compared, top
	// first, in from and in to.
	fromAnc, toAnc []*Node
	copies         map[*Node]*Node
}

// chain returns shallow copies of an ancestor stack for a Change: name,
// namespace and key leaves are what addresses a change, and a chain that
// held whole subtrees would make every change of a saved plan carry the
// device's configuration. Changes below one node share its copy.
func (d *differ) chain(anc []*Node) []*Node {
	if len(anc) == 0 {
		return nil
	}
	out := make([]*Node, len(anc))
	for i, a := range anc {
		c, ok := d.copies[a]
		if !ok {
			c = a.shallow()
			d.copies[a] = c
		}
		out[i] = c
	}
	return out
}

// matched compares the children of two nodes with the same identity.
func (d *differ) matched(f, t *Node, path Path) {
	join(f, t, func(x, y *Node) {
		switch {
		case y == nil:
			d.remove(f, x, childPath(path, x), false)
		case x == nil:
			d.create(t, y, childPath(path, y))
		case x.Leaf && y.Leaf:
			if x.Value != y.Value || x.ValueSpace != y.ValueSpace || x.Space != y.Space {
				d.upserts = append(d.upserts, Change{Action: Update, Path: childPath(path, y), Leaf: true,
					Before: displayValue(x), After: displayValue(y), Owners: y.Owners, Node: y, Ancestors: d.chain(d.toAnc)})
			}
		case x.Leaf != y.Leaf && !isEmptyElem(x) && !isEmptyElem(y):
			// A leaf became a container or the reverse: remove, then create.
			// The node is replaced where it stands, so it goes whole even
			// outside an entry (readWhole): nothing beside it is touched.
			p := childPath(path, y)
			d.remove(f, x, p, true)
			d.create(t, y, p)
		default:
			d.fromAnc, d.toAnc = append(d.fromAnc, x), append(d.toAnc, y)
			d.matched(x, y, childPath(path, y))
			d.fromAnc, d.toAnc = d.fromAnc[:len(d.fromAnc)-1], d.toAnc[:len(d.toAnc)-1]
		}
	})
}

// create records the creation of n (a child of parent, in to) and of its
// descendants.
func (d *differ) create(parent, n *Node, path Path) {
	if parent.isKeyLeaf(n) {
		return
	}
	switch {
	case n.Leaf:
		d.upserts = append(d.upserts, Change{Action: Create, Path: path, Leaf: true,
			After: displayValue(n), Owners: n.Owners, Node: n, Ancestors: d.chain(d.toAnc)})
		return
	case n.IsEntry() || len(n.Children) == 0:
		d.upserts = append(d.upserts, Change{Action: Create, Path: path, Owners: n.Owners, Node: n, Ancestors: d.chain(d.toAnc)})
	}
	d.toAnc = append(d.toAnc, n)
	for _, c := range sortedChildren(n) {
		d.create(n, c, childPath(path, c))
	}
	d.toAnc = d.toAnc[:len(d.toAnc)-1]
}

// remove records what may be deleted of n, a child of parent in from that
// to does not have.
// replaced says n is being replaced in place (a leaf became a container or the
// reverse), so it may go whole wherever it stands.
func (d *differ) remove(parent, n *Node, path Path, replaced bool) {
	if parent.isKeyLeaf(n) {
		return
	}
	if (d.all || fullyOwned(n)) && (replaced || readWhole(n, d.fromAnc)) {
		c := Change{Action: Delete, Path: path, Leaf: n.Leaf, Owners: n.Owners, Node: n, Ancestors: d.chain(d.fromAnc)}
		if n.Leaf {
			c.Before = displayValue(n)
		}
		d.deletes = append(d.deletes, c)
		return
	}
	d.fromAnc = append(d.fromAnc, n)
	for _, c := range sortedChildren(n) {
		d.remove(n, c, childPath(path, c), false)
	}
	d.fromAnc = d.fromAnc[:len(d.fromAnc)-1]
}

// readWhole reports whether n's content is known in full, so that "every node
// below is owned" can be trusted before n is deleted as a whole. A live read is
// filtered to the managed subtrees (Filter): a list entry comes back whole,
// with foreign children, but a container above the entries (<interfaces>)
// comes back holding only the managed entries, and the entries humans added
// beside them are not there to veto its deletion. So only leaves, list entries
// and nodes inside an entry are deleted whole; any other container is deleted
// entry by entry, and an emptied container stays.
func readWhole(n *Node, anc []*Node) bool {
	if n.Leaf || n.IsEntry() {
		return true
	}
	for _, a := range anc {
		if a.IsEntry() {
			return true
		}
	}
	return false
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
