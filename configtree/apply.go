package configtree

import (
	"fmt"
	"slices"
)

// Apply returns a copy of t with changes applied, in order; t is not
// modified. It is the model of what a device will hold after a plan, used to
// check plans and to drive the simulator's datastore in tests.
//
// Create adds the node (an entry with its key leaves, a leaf with its value,
// an empty container), and the parents it lacks, rebuilt from
// Change.Ancestors; creating a node that exists sets a leaf's value and is
// otherwise a no-op. Update sets a leaf's value. Delete removes the node and
// its subtree. A Delete or Update of a node t lacks is an error.
func Apply(t *Tree, changes []Change) (*Tree, error) {
	out := t.Clone()
	for i, c := range changes {
		if err := applyChange(out.Root, c); err != nil {
			return nil, fmt.Errorf("configtree: change %d (%c %s): %w", i+1, c.Action, c.Path, err)
		}
	}
	canonicalize(out.Root)
	return out, nil
}

func applyChange(root *Node, c Change) error {
	steps, err := ParsePath(c.Path)
	if err != nil {
		return err
	}
	if len(steps) == 0 {
		return fmt.Errorf("a change cannot name the root")
	}
	last := steps[len(steps)-1]
	switch c.Action {
	case Delete:
		parent := root
		for _, s := range steps[:len(steps)-1] {
			if _, parent = s.find(parent); parent == nil {
				return fmt.Errorf("no node %s to delete from", s)
			}
		}
		i, _ := last.find(parent)
		if i < 0 {
			return fmt.Errorf("no node to delete")
		}
		parent.Children = slices.Delete(parent.Children, i, i+1)
		return nil
	case Create, Update:
		if c.Node == nil {
			return fmt.Errorf("change has no Node")
		}
		if len(c.Ancestors) != len(steps)-1 {
			return fmt.Errorf("change has %d ancestors for a path of %d steps", len(c.Ancestors), len(steps))
		}
		parent := root
		for i, s := range steps[:len(steps)-1] {
			_, child := s.find(parent)
			if child == nil {
				if c.Action == Update {
					return fmt.Errorf("no node %s to update in", s)
				}
				child = c.Ancestors[i].shallow()
				child.Owners = nil
				addChild(parent, child)
			}
			parent = child
		}
		_, n := last.find(parent)
		switch {
		case n == nil && c.Action == Update:
			return fmt.Errorf("no leaf to update")
		case n == nil:
			addChild(parent, c.Node.shallow())
		case c.Node.Leaf:
			n.Leaf, n.Children = true, nil
			n.Space, n.Value, n.ValueSpace, n.ValuePrefix = c.Node.Space, c.Node.Value, c.Node.ValueSpace, c.Node.ValuePrefix
			n.Owners = slices.Clone(c.Owners)
		}
		return nil
	default:
		return fmt.Errorf("unknown action %q", c.Action)
	}
}

// addChild appends c to parent; an empty leaf that receives a child becomes
// the container it stood for.
func addChild(parent, c *Node) {
	if parent.Leaf {
		parent.Leaf, parent.Value, parent.ValueSpace, parent.ValuePrefix = false, "", "", ""
	}
	parent.Children = append(parent.Children, c)
}
