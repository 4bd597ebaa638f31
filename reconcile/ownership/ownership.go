package ownership

import (
	"fmt"
	"slices"
	"strings"

	"github.com/netrecon/netrecon/configtree"
)

// Record is what netrecon holds on one device. The zero Record holds nothing.
type Record struct {
	// Created are the nodes netrecon created, owned by the services that
	// render them; the other nodes of the tree only address them.
	Created *configtree.Tree
	// Shared are the pre-existing nodes the intent renders: kept on removal.
	Shared *configtree.Tree
	// Restore holds, for the pre-existing leaves netrecon changed, the value
	// they had before.
	Restore *configtree.Tree
	// Desired is the fingerprint of the desired tree the record was made for:
	// a device that differs from it while the intent has not changed has
	// drifted.
	Desired string
}

// IsZero reports whether r holds nothing at all.
func (r Record) IsZero() bool {
	return r.Created.Len() == 0 && r.Shared.Len() == 0 && r.Restore.Len() == 0 && r.Desired == ""
}

// Next is the record after desired was applied to a device that held before
// (the managed configuration read under lock before the edit). For a device
// found in sync, before is what it holds now: desired itself will do, since
// a device in sync holds every node of it.
func (r Record) Next(before, desired *configtree.Tree) Record {
	if desired == nil {
		desired = configtree.New()
	}
	c, s, rs := configtree.Split(desired, before, r.Created, r.Restore)
	return Record{Created: c, Shared: s, Restore: rs, Desired: desired.Fingerprint()}
}

// Mark returns a copy of live whose nodes netrecon created carry their
// owners: configtree.Diff deletes only those.
func (r Record) Mark(live *configtree.Tree) *configtree.Tree {
	m := live.Clone()
	if r.Created != nil {
		m.AdoptOwners(r.Created)
	}
	return m
}

// Target is the tree a device should hold: desired, plus the values from
// before netrecon of the pre-existing leaves it changed and no longer
// renders, where the device still holds the value netrecon set.
func (r Record) Target(desired, live *configtree.Tree) *configtree.Tree {
	t := configtree.New()
	if desired != nil {
		t = desired.Clone()
	}
	if r.Restore == nil {
		return t
	}
	back := configtree.Restores(r.Restore, r.Shared, desired, live)
	if back.Len() == 0 {
		return t
	}
	// The restored leaves are absent from desired, so the merge cannot
	// conflict; if it somehow did, desired alone is the safe target.
	if err := configtree.Merge(t, back); err != nil {
		return desired.Clone()
	}
	return t
}

// IsRestore reports whether p is a leaf whose pre-existing value Target puts
// back.
func (r Record) IsRestore(p configtree.Path, desired *configtree.Tree) bool {
	if r.Restore == nil {
		return false
	}
	n := r.Restore.Find(p)
	return n != nil && n.Leaf && len(n.Owners) > 0 && desired.Find(p) == nil
}

// IsCreated reports whether netrecon created the node at p.
func (r Record) IsCreated(p configtree.Path) bool {
	if r.Created == nil {
		return false
	}
	n := r.Created.Find(p)
	return n != nil && len(n.Owners) > 0
}

// Adopted lists the nodes of desired that live holds, that netrecon did not
// create and that the record does not know as shared yet.
func (r Record) Adopted(desired, live *configtree.Tree) []configtree.Held {
	return configtree.Adopted(desired, live, r.Created, r.Shared)
}

// Claimed lists the nodes of desired that a service starts rendering while
// other services render them already (netrecon created or shares them for
// those): such a node now stays until the last of them goes.
func (r Record) Claimed(desired *configtree.Tree) []configtree.Held {
	var out []configtree.Held
	for _, t := range []*configtree.Tree{r.Created, r.Shared} {
		if t != nil {
			out = append(out, configtree.Claimed(t, desired)...)
		}
	}
	slices.SortFunc(out, func(a, b configtree.Held) int { return strings.Compare(string(a.Path), string(b.Path)) })
	return out
}

// Kept lists the topmost pre-existing nodes desired no longer renders: a
// removal leaves them on the device.
func (r Record) Kept(desired *configtree.Tree) []configtree.Held {
	if r.Shared == nil {
		return nil
	}
	return configtree.Kept(r.Shared, desired)
}

// Filter is the subtree filter of what netrecon manages on a device: what it
// renders now (desired), and what it created or may restore there, so that
// nodes no longer rendered are still read and can be deleted or put back.
// The live planner and apply both read through it, or a plan's fingerprint
// could never match at apply time.
//
// The filters are merged, not the trees: desired and the record disagree on
// the value of every leaf a plan updates, which Merge would call a conflict,
// while filter nodes carry only names and key values.
func (r Record) Filter(desired *configtree.Tree) (*configtree.Tree, error) {
	f := configtree.New()
	var srcs []*configtree.Tree
	for _, t := range []*configtree.Tree{desired, r.Created, r.Restore} {
		if t != nil && t.Len() > 0 {
			srcs = append(srcs, configtree.Filter(t))
		}
	}
	if err := configtree.MergeAll(f, srcs...); err != nil {
		return nil, fmt.Errorf("merging the filters of the desired tree and the ownership record: %w", err)
	}
	return f, nil
}

// Equal reports whether two records hold the same nodes with the same owners.
func (r Record) Equal(o Record) bool {
	return r.Desired == o.Desired && sameTree(r.Created, o.Created) && sameTree(r.Shared, o.Shared) && sameTree(r.Restore, o.Restore)
}

func sameTree(a, b *configtree.Tree) bool {
	if a.Len() == 0 || b.Len() == 0 {
		return a.Len() == b.Len()
	}
	return a.Equal(b) && ownersEqual(a, b)
}

func ownersEqual(a, b *configtree.Tree) bool {
	ow := map[configtree.Path]string{}
	a.Walk(func(p configtree.Path, n *configtree.Node) bool {
		ow[p] = joinOwners(n.Owners)
		return true
	})
	same := true
	b.Walk(func(p configtree.Path, n *configtree.Node) bool {
		if ow[p] != joinOwners(n.Owners) {
			same = false
		}
		return same
	})
	return same
}

func joinOwners(o []string) string {
	s := ""
	for _, x := range o {
		s += x + "\x00"
	}
	return s
}
