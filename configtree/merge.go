package configtree

import (
	"errors"
	"slices"
)

// Merge merges src into dst: the desired tree of a device is the merge of
// the fragments its services render.
//
// A node present in both keeps one copy whose owners are the union of both
// sides: a node two services render is shared, and stays until the last of
// them stops rendering it (Diff deletes only when no owner is left in to).
// Containers and list entries merge recursively. A leaf with two different
// values is a *ConflictError naming the path, both owners and both values;
// Merge reports every conflict at once (errors.Join, reach each with
// errors.As) and then leaves dst unchanged.
//
// Each call walks dst's lists once (to check their order), so building a
// tree from thousands of fragments is faster with MergeAll.
func Merge(dst, src *Tree) error {
	if src == nil || src.Root == nil {
		return nil
	}
	if dst == nil {
		return errNilDst
	}
	if dst.Root == nil {
		dst.Root = &Node{}
	}
	var errs []error
	checkMerge(dst.Root, src.Root, "/", &errs)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	mergeNode(dst.Root, src.Root)
	return nil
}

// checkMerge finds the conflicts before anything changes, so that a failed
// Merge leaves dst as it was.
func checkMerge(d, s *Node, path Path, errs *[]error) {
	ds := sortedChildren(d)
	for _, y := range s.Children {
		i, found := search(d, ds, y)
		if !found {
			continue
		}
		x := ds[i]
		p := childPath(path, y)
		n := len(*errs)
		checkPair(x, y, p, errs)
		if len(*errs) == n && !x.Leaf && !y.Leaf {
			checkMerge(x, y, p, errs)
		}
	}
}

// search finds y's identity among sorted, the canonically sorted children
// of parent: its index, or where to insert it. Merging a fragment of a few
// nodes into a list of thousands costs a binary search per node, not a walk
// of the list.
func search(parent *Node, sorted []*Node, y *Node) (int, bool) {
	return slices.BinarySearchFunc(sorted, y, func(a, b *Node) int { return compareID(parent, a, b) })
}

var errNilDst = errors.New("configtree: merge into a nil tree")

func kindValue(n *Node) string {
	if n.Leaf {
		return displayValue(n)
	}
	return "(container)"
}

// displayValue is a leaf value as a person reads it: identities with the
// prefix of their source.
func displayValue(n *Node) string {
	if n.ValueSpace != "" && n.ValuePrefix != "" {
		return n.ValuePrefix + ":" + n.Value
	}
	return n.Value
}

func mergeNode(d, s *Node) {
	d.Owners = unionOwners(d.Owners, s.Owners)
	if d.Leaf && s.Leaf {
		if d.ValuePrefix == "" {
			d.ValuePrefix = s.ValuePrefix
		}
		return
	}
	if d.Leaf != s.Leaf {
		// An empty element met a container: it is a container.
		d.Leaf, d.Value, d.ValueSpace, d.ValuePrefix = false, "", "", ""
	}
	sortChildren(d)
	for _, y := range s.Children {
		i, found := search(d, d.Children, y)
		if found {
			mergeNode(d.Children[i], y)
			continue
		}
		d.Children = slices.Insert(d.Children, i, y.clone())
	}
}

// MergeAll merges srcs into dst, with the same result as calling Merge for
// each in turn, but in one pass: the children of each level are gathered
// from every source, sorted once and merged group by group. Merging n
// fragments one by one compares every fragment against a list that grows to
// n entries (quadratic); MergeAll stays O(N log N) in the total number of
// nodes, which is what building the desired tree of a PE with thousands of
// services needs. Conflicts are all reported and leave dst unchanged.
func MergeAll(dst *Tree, srcs ...*Tree) error {
	roots := make([]*Node, 0, len(srcs))
	for _, s := range srcs {
		if s != nil && s.Root != nil {
			roots = append(roots, s.Root)
		}
	}
	if len(roots) == 0 {
		return nil
	}
	if dst == nil {
		return errNilDst
	}
	if dst.Root == nil {
		dst.Root = &Node{}
	}
	var errs []error
	mergeMany(dst.Root, roots, "/", &errs, false)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	mergeMany(dst.Root, roots, "/", nil, true)
	return nil
}

// mergeMany merges ss, nodes with d's identity, into d. With apply false it
// changes nothing and only reports conflicts into errs.
func mergeMany(d *Node, ss []*Node, path Path, errs *[]error, apply bool) {
	if apply {
		owners := slices.Clone(d.Owners)
		for _, s := range ss {
			owners = append(owners, s.Owners...)
			if d.Leaf && !s.Leaf {
				// An empty element met a container: it is a container.
				d.Leaf, d.Value, d.ValueSpace, d.ValuePrefix = false, "", "", ""
			}
			if d.Leaf && d.ValuePrefix == "" {
				d.ValuePrefix = s.ValuePrefix
			}
		}
		slices.Sort(owners)
		d.Owners = slices.Compact(owners)
		if len(d.Owners) == 0 {
			d.Owners = nil
		}
	}
	type item struct {
		n     *Node
		inDst bool
	}
	size := len(d.Children)
	for _, s := range ss {
		size += len(s.Children)
	}
	if size == 0 {
		return
	}
	items := make([]item, 0, size)
	for _, c := range d.Children {
		items = append(items, item{c, true})
	}
	for _, s := range ss {
		for _, c := range s.Children {
			items = append(items, item{c, false})
		}
	}
	slices.SortStableFunc(items, func(a, b item) int { return compareCanonical(d, a.n, b.n) })
	var out []*Node
	if apply {
		out = make([]*Node, 0, len(items))
	}
	var rest []*Node
	for i := 0; i < len(items); {
		j := i + 1
		for j < len(items) && compareID(d, items[i].n, items[j].n) == 0 {
			j++
		}
		var base *Node
		rest = rest[:0]
		for _, it := range items[i:j] {
			if it.inDst && base == nil {
				base = it.n
			} else {
				rest = append(rest, it.n)
			}
		}
		i = j
		if !apply {
			first := base
			if first == nil {
				first, rest = rest[0], rest[1:]
			}
			p := childPath(path, first)
			for _, y := range rest {
				checkPair(first, y, p, errs)
			}
			// Leaves have no children; the containers of the group are
			// checked against each other.
			var conts []*Node
			for _, n := range append([]*Node{first}, rest...) {
				if !n.Leaf {
					conts = append(conts, n)
				}
			}
			if len(conts) > 1 {
				mergeMany(conts[0], conts[1:], p, errs, false)
			}
			continue
		}
		if base == nil {
			base, rest = rest[0].clone(), rest[1:]
		}
		if len(rest) > 0 {
			mergeMany(base, slices.Clone(rest), childPath(path, base), nil, true)
		}
		out = append(out, base)
	}
	if apply {
		d.Children = out
	}
}

// checkPair reports a conflict between two nodes of one identity.
func checkPair(x, y *Node, p Path, errs *[]error) {
	conflict := func(v, ov string) {
		*errs = append(*errs, &ConflictError{Path: p,
			Owner: joinOwners(x.Owners), Value: v,
			Other: joinOwners(y.Owners), OtherValue: ov})
	}
	switch {
	case x.Space != y.Space:
		conflict("namespace "+x.Space, "namespace "+y.Space)
	case x.Leaf && y.Leaf:
		if x.Value != y.Value || x.ValueSpace != y.ValueSpace {
			conflict(displayValue(x), displayValue(y))
		}
	case x.Leaf != y.Leaf && !isEmptyElem(x) && !isEmptyElem(y):
		conflict(kindValue(x), kindValue(y))
	}
}
