package planner

import (
	"slices"
	"sync"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/plan"
)

// Verified remembers, per device, the last live plan that found the device in
// sync and exactly what that plan was computed from: the intent revision, the
// desired tree, the journal's stored ownership record (its digest) and the
// device's reply (its digest, reconcile.DigestReader). A plan is a function
// of those inputs (and the device's platform, fixed by the revision), so when
// a later read of the same device under the same revision, desired tree and
// record returns the same reply bytes, the plan is the same: in sync. Live
// then skips decoding the record, parsing the reply and diffing, which is
// most of the work of a pass that changes nothing.
//
// It never stands in for a read: the record is read from the journal and the
// device's running configuration from the device on every plan; a byte that
// differs in either, another revision, or another desired tree plans the
// device in full. Only in-sync results are kept, at most one per device: a
// hash or two and the small subtree filter, not the trees. The daemon holds
// one for its life; the zero value is ready to use and safe for concurrent use.
type Verified struct {
	mu sync.Mutex
	m  map[string]verifiedEntry
}

type verifiedEntry struct {
	rev string
	// desired is the tree the result was planned against. Desired trees are
	// values: render builds them and nothing changes them afterwards (the
	// daemon hands every pass of a commit the same ones), so the same
	// pointer is the same tree without hashing it again.
	desired *configtree.Tree
	record  [32]byte
	reply   reconcile.Digest
	filter  *configtree.Tree // the read's filter, from desired and the record
	result  plan.Device      // in sync: no changes, no error
}

// lookup returns device's entry when it was verified under rev, desired and
// the stored record whose digest is record.
func (v *Verified) lookup(device, rev string, desired *configtree.Tree, record [32]byte) (verifiedEntry, bool) {
	if v == nil {
		return verifiedEntry{}, false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.m[device]
	if !ok || e.rev != rev || e.desired != desired || e.record != record {
		return verifiedEntry{}, false
	}
	return e, true
}

// store keeps d as device's verified in-sync plan; a plan with changes or an
// error, or one without a reply digest, forgets the device instead.
func (v *Verified) store(device string, e verifiedEntry, d *plan.Device) {
	if v == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if d.Err != nil || len(d.Changes) > 0 || e.reply == (reconcile.Digest{}) || e.desired == nil {
		delete(v.m, device)
		return
	}
	if v.m == nil {
		v.m = map[string]verifiedEntry{}
	}
	e.result = *d
	v.m[device] = e
}

// Forget drops device's entry: its next plan is computed in full.
func (v *Verified) Forget(device string) {
	if v == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.m, device)
}

// Retain forgets every device not in names (devices that left the inventory).
func (v *Verified) Retain(names []string) {
	if v == nil {
		return
	}
	keep := make(map[string]bool, len(names))
	for _, n := range names {
		keep[n] = true
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for name := range v.m {
		if !keep[name] {
			delete(v.m, name)
		}
	}
}

// Len is how many devices have a verified in-sync plan.
func (v *Verified) Len() int {
	if v == nil {
		return 0
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.m)
}

// plan returns a copy of the verified result, its slices its own.
func (e verifiedEntry) plan() *plan.Device {
	d := e.result
	d.Adopted = slices.Clone(d.Adopted)
	d.Kept = slices.Clone(d.Kept)
	d.Claimed = slices.Clone(d.Claimed)
	return &d
}
