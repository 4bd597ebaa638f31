package apply

import (
	"github.com/netrecon/netrecon/configtree"
)

// pruneEmpty removes containers without children (not leaves, not list
// entries), bottom-up, from a copy of t. A model of a delete keeps the
// emptied parent container while a device may or may not report it; such a
// container carries no configuration, so verification ignores it. (An
// element read back as <x/> parses as an empty leaf and is kept: it may be a
// presence container or an empty-type leaf.)
func pruneEmpty(t *configtree.Tree) *configtree.Tree {
	c := t.Clone()
	var prune func(n *configtree.Node)
	prune = func(n *configtree.Node) {
		kept := n.Children[:0]
		for _, ch := range n.Children {
			if !ch.Leaf {
				prune(ch)
				if len(ch.Children) == 0 && !ch.IsEntry() {
					continue
				}
			}
			kept = append(kept, ch)
		}
		n.Children = kept
	}
	if c.Root != nil {
		prune(c.Root)
	}
	return c
}
