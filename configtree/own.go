package configtree

import "slices"

// Ownership arithmetic: what netrecon may delete on a shared device is what
// it created there (DESIGN invariant 3). The functions here classify the
// nodes of a desired tree against the device's configuration before an edit,
// and carry the classification from one edit to the next. They hold no
// policy of their own; reconcile/ownership keeps the three trees per device.
//
// Each tree they return holds the classified nodes with owners, and the
// ancestors (and list-entry key leaves) needed to address them without
// owners: AdoptOwners of such a tree marks exactly the classified nodes.

// Held is a node found on both sides of a comparison: a node a desired tree
// renders that the device already held (adopted), or such a node the desired
// tree no longer renders (kept).
type Held struct {
	Path   Path
	Leaf   bool
	Value  string   // leaves: the value as a plan shows it
	Owners []string // the services that render (or rendered) it
	// Holders are the services that rendered the node already, for a node
	// another service now claims too (Claimed).
	Holders []string
}

// Split classifies every node of desired, the configuration netrecon is
// about to hold on a device, by what the device held before the edit
// (before: read under lock, or the live configuration of a device found in
// sync) and by the previous classification (created, restore; nil when
// there is none):
//
//   - created: nodes of desired that before lacks (netrecon creates them),
//     or that created already marks (netrecon created them earlier). Only
//     these may be deleted when no service renders them any more.
//   - shared: the other nodes of desired: they were on the device before
//     netrecon rendered them, so they stay when netrecon stops rendering
//     them.
//   - restore: for leaves of shared whose value netrecon changes, the value
//     they had before netrecon: the one restore recorded already, else
//     before's. Removal puts it back.
//
// Nodes of created and restore that desired no longer renders are dropped:
// the edit removed (or restored) them. Owners come from desired.
func Split(desired, before, created, restore *Tree) (newCreated, shared, newRestore *Tree) {
	c, s, r := split(desired.root(), before.root(), created.root(), restore.root())
	return treeOf(c), treeOf(s), treeOf(r)
}

func treeOf(n *Node) *Tree {
	if n == nil {
		return New()
	}
	return &Tree{Root: n}
}

// split classifies the children of d (in desired); b, pc and pr are the
// nodes of the same identity in before, created and restore, or nil. It
// returns d's shells in the three trees, or nil where nothing below d is
// classified there.
func split(d, b, pc, pr *Node) (c, s, r *Node) {
	bi, ci, ri := indexChildren(b), indexChildren(pc), indexChildren(pr)
	for _, dc := range sortedChildren(d) {
		if d.isKeyLeaf(dc) {
			continue
		}
		step := dc.PathStep()
		bc, pcc, prc := bi[step], ci[step], ri[step]
		created := bc == nil || (pcc != nil && len(pcc.Owners) > 0)
		if dc.Leaf {
			leaf := dc.shallow()
			switch {
			case created:
				c = attach(c, d, leaf)
			default:
				s = attach(s, d, leaf)
				switch {
				case prc != nil && prc.Leaf:
					old := prc.shallow()
					old.Owners = cloneOwners(dc.Owners)
					r = attach(r, d, old)
				case !sameLeaf(bc, dc):
					old := bc.shallow()
					old.Owners = cloneOwners(dc.Owners)
					r = attach(r, d, old)
				}
			}
			continue
		}
		cc, sc, rc := split(dc, bc, pcc, prc)
		if created {
			if cc == nil {
				cc = shell(dc)
			}
			cc.Owners = cloneOwners(dc.Owners)
			markKeys(cc)
		} else {
			if sc == nil {
				sc = shell(dc)
			}
			sc.Owners = cloneOwners(dc.Owners)
			markKeys(sc)
		}
		if cc != nil {
			c = attach(c, d, cc)
		}
		if sc != nil {
			s = attach(s, d, sc)
		}
		if rc != nil {
			r = attach(r, d, rc)
		}
	}
	return c, s, r
}

// Restores returns the leaves of restore that desired no longer renders and
// that live still holds with the value netrecon set (shared holds it), with
// the values they had before netrecon changed them: what a removal puts
// back. A leaf somebody deleted or changed since is theirs and stays as it
// is.
func Restores(restore, shared, desired, live *Tree) *Tree {
	return treeOf(restores(restore.root(), shared.root(), desired.root(), live.root()))
}

func restores(pr, s, d, l *Node) *Node {
	var out *Node
	si, di, li := indexChildren(s), indexChildren(d), indexChildren(l)
	for _, rc := range sortedChildren(pr) {
		if pr.isKeyLeaf(rc) {
			continue
		}
		step := rc.PathStep()
		sc, dc, lc := si[step], di[step], li[step]
		if lc == nil || sc == nil {
			continue
		}
		if rc.Leaf {
			if len(rc.Owners) > 0 && dc == nil && sameLeaf(lc, sc) {
				out = attach(out, pr, rc.shallow())
			}
			continue
		}
		if sub := restores(rc, sc, dc, lc); sub != nil {
			out = attach(out, pr, sub)
		}
	}
	return out
}

// Adopted lists the nodes of desired that live holds although created does
// not mark them and shared does not know them yet: configuration that was on
// the device before netrecon and that netrecon now renders. A plan shows
// them, because they will be kept, not deleted, when the intent drops them.
// Leaves and list entries are listed (not the containers above them, nor key
// leaves), in canonical order.
func Adopted(desired, live, created, shared *Tree) []Held {
	var out []Held
	adopted(desired.root(), live.root(), created.root(), shared.root(), "/", &out)
	return out
}

func adopted(d, l, pc, ps *Node, path Path, out *[]Held) {
	li, ci, si := indexChildren(l), indexChildren(pc), indexChildren(ps)
	for _, dc := range sortedChildren(d) {
		if d.isKeyLeaf(dc) {
			continue
		}
		step := dc.PathStep()
		lc, pcc, psc := li[step], ci[step], si[step]
		if lc == nil {
			continue // created by this edit: a plain create
		}
		p := childPath(path, dc)
		owned := pcc != nil && len(pcc.Owners) > 0
		known := psc != nil && len(psc.Owners) > 0
		if !owned && !known && (dc.Leaf || dc.IsEntry()) {
			*out = append(*out, heldAt(p, dc, lc, nil))
		}
		if !dc.Leaf {
			adopted(dc, lc, pcc, psc, p, out)
		}
	}
}

// Claimed lists the nodes of to that from holds with owners already, and that
// to gives an owner from did not have: a service that starts rendering a
// node another service renders. Two services sharing a node is normal (the
// circuits of one port share its VLAN tagging) but never silent: the node
// now goes only with the last of them. Leaves and list entries are listed.
func Claimed(from, to *Tree) []Held {
	var out []Held
	claimed(from.root(), to.root(), "/", &out)
	return out
}

func claimed(f, t *Node, path Path, out *[]Held) {
	fi := indexChildren(f)
	for _, tc := range sortedChildren(t) {
		if t.isKeyLeaf(tc) {
			continue
		}
		fc := fi[tc.PathStep()]
		if fc == nil {
			continue
		}
		p := childPath(path, tc)
		if (tc.Leaf || tc.IsEntry()) && len(fc.Owners) > 0 && hasNewOwner(fc.Owners, tc.Owners) {
			*out = append(*out, heldAt(p, tc, tc, fc.Owners))
		}
		if !tc.Leaf {
			claimed(fc, tc, p, out)
		}
	}
}

// heldAt is the Held of n at p: its owners, and for a leaf the value of
// valued (the device's, where it holds the node).
func heldAt(p Path, n, valued *Node, holders []string) Held {
	h := Held{Path: p, Leaf: n.Leaf, Owners: cloneOwners(n.Owners), Holders: cloneOwners(holders)}
	if n.Leaf {
		h.Value = displayValue(valued)
	}
	return h
}

func hasNewOwner(old, now []string) bool {
	for _, o := range now {
		if !slices.Contains(old, o) {
			return true
		}
	}
	return false
}

// Kept lists the topmost nodes of shared that desired no longer renders:
// pre-existing configuration a removal leaves on the device.
func Kept(shared, desired *Tree) []Held {
	var out []Held
	kept(shared.root(), desired.root(), "/", &out)
	return out
}

func kept(s, d *Node, path Path, out *[]Held) {
	di := indexChildren(d)
	for _, sc := range sortedChildren(s) {
		if s.isKeyLeaf(sc) {
			continue
		}
		dc := di[sc.PathStep()]
		p := childPath(path, sc)
		if dc == nil && len(sc.Owners) > 0 {
			*out = append(*out, heldAt(p, sc, sc, nil))
			continue
		}
		if !sc.Leaf {
			kept(sc, dc, p, out)
		}
	}
}

// indexChildren maps the path steps of n's children to the children: the
// lookups of Split walk four trees at once, and a PE's interface list has
// thousands of entries.
func indexChildren(n *Node) map[string]*Node {
	if n == nil || len(n.Children) == 0 {
		return nil
	}
	m := make(map[string]*Node, len(n.Children))
	for _, c := range n.Children {
		m[c.PathStep()] = c
	}
	return m
}

// shell is n without owners and without children other than its key leaves
// (themselves without owners): a node that only addresses its descendants.
func shell(n *Node) *Node {
	c := n.shallow()
	c.Owners = nil
	for _, k := range c.Children {
		k.Owners = nil
	}
	if !c.Leaf {
		c.Value, c.ValueSpace, c.ValuePrefix = "", "", ""
	}
	return c
}

// attach adds child under parent's shell (made from like when parent is
// nil) and returns the shell.
func attach(parent, like, child *Node) *Node {
	if parent == nil {
		parent = shell(like)
	}
	parent.Children = append(parent.Children, child)
	return parent
}

// markKeys gives an entry's key leaves the entry's owners: they go with it.
func markKeys(n *Node) {
	for _, c := range n.Children {
		if n.isKeyLeaf(c) {
			c.Owners = cloneOwners(n.Owners)
		}
	}
}

func sameLeaf(a, b *Node) bool {
	if a == nil || b == nil {
		return a == b
	}
	if !a.Leaf || !b.Leaf {
		return isEmptyElem(a) && isEmptyElem(b)
	}
	return a.Value == b.Value && a.ValueSpace == b.ValueSpace && a.Space == b.Space
}

func cloneOwners(o []string) []string {
	if len(o) == 0 {
		return nil
	}
	out := make([]string, len(o))
	copy(out, o)
	return out
}
