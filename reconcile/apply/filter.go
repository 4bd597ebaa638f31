package apply

import (
	"context"
	"fmt"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/ownership"
)

// managedFilter is the subtree filter of what netrecon manages on a device:
// what it renders now (desired), and what it created or may restore there
// (the journal's ownership record), so that nodes no longer rendered are
// still read and can be deleted or put back. PlanLive and Apply must use the
// same filter, or a plan's fingerprint could never match at apply time.
//
// The filters are merged, not the trees: desired and the record disagree on
// the value of every leaf the plan updates, which Merge would call a
// conflict, while filter nodes carry only names and key values.
func managedFilter(desired *configtree.Tree, rec ownership.Record) (*configtree.Tree, error) {
	f := configtree.New()
	var srcs []*configtree.Tree
	if desired != nil {
		srcs = append(srcs, configtree.Filter(desired))
	}
	for _, t := range rec.Trees() {
		srcs = append(srcs, configtree.Filter(t))
	}
	if err := configtree.MergeAll(f, srcs...); err != nil {
		return nil, fmt.Errorf("merging the filters of the desired tree and the ownership record: %w", err)
	}
	return f, nil
}

// record returns what the journal says netrecon holds on device (the zero
// Record without a journal).
func record(ctx context.Context, j *journal.Journal, device string) (ownership.Record, error) {
	if j == nil {
		return ownership.Record{}, nil
	}
	r, _, err := j.Ownership(ctx, device)
	if err != nil {
		return ownership.Record{}, fmt.Errorf("%s: journal: ownership: %w", device, err)
	}
	return r, nil
}

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
