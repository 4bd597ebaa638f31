package configtree

import (
	"errors"
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
func Merge(dst, src *Tree) error {
	if src == nil || src.Root == nil {
		return nil
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
	join(d, s, func(x, y *Node) {
		if x == nil || y == nil {
			return
		}
		p := childPath(path, y)
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
		default:
			checkMerge(x, y, p, errs)
		}
	})
}

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
	if len(s.Children) == 0 {
		return
	}
	merged := make([]*Node, 0, len(d.Children)+len(s.Children))
	join(d, s, func(x, y *Node) {
		switch {
		case y == nil:
			merged = append(merged, x)
		case x == nil:
			merged = append(merged, y.clone())
		default:
			mergeNode(x, y)
			merged = append(merged, x)
		}
	})
	d.Children = merged
}
