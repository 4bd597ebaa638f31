package daemon

import (
	"context"
	"fmt"

	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/shard"
)

// A change set that spans shards keeps its meaning (all devices confirmed,
// or none) only if one replica applies it as one run. The leader decides,
// per generation of the desired state (an intent commit, and which of its
// services the moment leaves out: a scheduled activation or a finished
// manual step on an unchanged commit is a new generation), before anyone
// applies it: it publishes the generation's change set (the devices whose
// desired configuration changed since the last published one; its Commit
// field holds the generation) and whether it stays with the one shard's
// owner or is coordinated by the leader. The rules, each enforced where it is cheap:
//
//   - no replica applies a device's intent change for a generation before
//     the generation's change set is published (gate);
//   - the devices of an open coordinated set are released by their owners
//     and claimed by the leader (rebalance); the database arbitrates, as for
//     any claim;
//   - the leader plans and applies them only once it holds them all, in the
//     pass's one change set, then settles the set (settleChangeSets), and
//     they go back to their shards at the next pass;
//   - drift on an unchanged commit is healed per device by its owner.

// publish is the leader's decision for the pass's generation, made once per
// generation: ids are the live replicas the shards are cut among.
func (d *Daemon) publish(ctx context.Context, s *passState, ids []string) error {
	r := d.replica
	if _, ok := r.changeSetCached(s.generation); ok {
		return nil
	}
	if cs, ok, err := d.journal.ChangeSetOf(ctx, s.generation); err != nil {
		return err
	} else if ok {
		r.remember(cs)
		return nil
	}
	prev, havePrev, err := d.journal.LatestChangeSet(ctx)
	if err != nil {
		return err
	}
	cs := journal.ChangeSet{Commit: s.generation, Applier: r.id, Desired: make(map[string]string, len(s.intent.Devices))}
	owners := map[string]bool{}
	for _, dev := range s.intent.Devices {
		fp := ""
		if t := s.desired[dev.Name]; t != nil {
			fp = t.Fingerprint()
		}
		cs.Desired[dev.Name] = fp
		// Without a previous change set (the first commit the replicas
		// share), every device with a desired tree is in the set: what
		// they run is not known to be any commit's.
		old, known := prev.Desired[dev.Name]
		if havePrev && known && old == fp || !known && fp == "" {
			continue
		}
		cs.Devices = append(cs.Devices, dev.Name)
		owners[shard.Owner(dev.Name, ids)] = true
	}
	cs.Coordinated = len(owners) > 1
	if len(owners) == 1 {
		for o := range owners {
			cs.Applier = o
		}
	}
	stored, err := d.journal.PublishChangeSet(ctx, cs)
	if err != nil {
		return err
	}
	r.remember(stored)
	s.log.Info("change set published", "generation", stored.Commit, "devices", len(stored.Devices),
		"coordinated", stored.Coordinated, "applier", stored.Applier)
	return nil
}

// gate keeps back the intent changes of generation s.generation that this
// replica may not apply yet: all of them while its change set is not
// published, and those of an open coordinated set it does not hold whole
// (the leader applies them). Drift heals pass: they are the owner's.
func (d *Daemon) gate(ctx context.Context, s *passState) (bool, error) {
	if d.replica == nil || len(s.toApply) == 0 {
		return false, nil
	}
	var changes bool
	for _, name := range s.toApply {
		changes = changes || s.drift[name] == 0
	}
	if !changes {
		return false, nil
	}
	cs, published, err := d.replica.changeSet(ctx, d.journal, s.generation)
	if err != nil {
		return false, fmt.Errorf("change set of %s: %w", short(s.commit), err)
	}
	gathered := map[string]bool{}
	for _, g := range s.gathered {
		gathered[g.Commit] = true
	}
	var apply, held []string
	for _, name := range s.toApply {
		switch {
		case s.drift[name] > 0:
			apply = append(apply, name)
		case !published, cs.Open() && cs.Has(name) && !gathered[cs.Commit]:
			held = append(held, name)
		default:
			apply = append(apply, name)
		}
	}
	for _, name := range held {
		s.results[name] = devResult{keep: true}
	}
	if len(held) > 0 {
		why := "its change set is not published yet"
		if published {
			why = "the leader applies its coordinated change set"
		}
		s.log.Info("intent changes held back: "+why, "commit", short(s.commit), "generation", s.generation, "devices", len(held))
	}
	s.toApply = apply
	return false, nil
}

// settleChangeSets ends the coordinated sets the leader applied in this
// pass: their devices go back to their shards at the next rebalance. A pass
// that failed before its end leaves them open, to be applied again.
func (d *Daemon) settleChangeSets(ctx context.Context, s *passState, passErr error) {
	if passErr != nil || len(s.gathered) == 0 {
		return
	}
	for _, cs := range s.gathered {
		if err := d.journal.SettleChangeSet(ctx, cs.Commit); err != nil {
			s.log.Error("journal: settle change set", "commit", short(cs.Commit), "err", err)
			continue
		}
		cs.Settled = d.now()
		d.replica.remember(cs)
		s.log.Info("coordinated change set settled", "commit", short(cs.Commit), "devices", len(cs.Devices))
	}
}

// refreshStates reads back the journal's state of devices this replica
// just took over: another replica wrote them since this one last did.
func (d *Daemon) refreshStates(ctx context.Context, devices []string) {
	states, err := d.journal.DeviceStates(ctx)
	if err != nil {
		d.log.Warn("journal: device states of devices taken over", "err", err)
		return
	}
	want := make(map[string]bool, len(devices))
	for _, n := range devices {
		want[n] = true
	}
	d.mu.Lock()
	for _, st := range states {
		if want[st.Device] {
			d.devices[st.Device] = st
		}
	}
	d.mu.Unlock()
}

// changeSetCached is the change set of commit as this replica last read it.
func (r *replica) changeSetCached(commit string) (journal.ChangeSet, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cs, ok := r.sets[commit]
	return cs, ok
}

// remember keeps cs, without its fingerprints, and forgets all but the
// newest few commits' sets.
func (r *replica) remember(cs journal.ChangeSet) {
	cs.Desired = nil
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sets[cs.Commit] = cs
	if len(r.sets) > 16 {
		var oldest string
		for c, x := range r.sets {
			if oldest == "" || x.Published.Before(r.sets[oldest].Published) {
				oldest = c
			}
		}
		delete(r.sets, oldest)
	}
}

// changeSet returns commit's change set: from the cache when its meaning
// cannot change any more (not coordinated, or settled), else read again.
func (r *replica) changeSet(ctx context.Context, j *journal.Journal, commit string) (journal.ChangeSet, bool, error) {
	if cs, ok := r.changeSetCached(commit); ok && !cs.Open() {
		return cs, true, nil
	}
	cs, ok, err := j.ChangeSetOf(ctx, commit)
	if err != nil || !ok {
		return cs, ok, err
	}
	r.remember(cs)
	return cs, true, nil
}

// coordination is the open coordinated change sets as the replica saw them
// at its last pass, and whether it holds each whole.
func (r *replica) coordination() []coordinatedSet {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]coordinatedSet, 0, len(r.open))
	for _, cs := range r.open {
		out = append(out, coordinatedSet{commit: cs.Commit, devices: len(cs.Devices), applier: cs.Applier,
			gathered: r.gathered[cs.Commit]})
	}
	return out
}

type coordinatedSet struct {
	commit   string
	devices  int
	applier  string
	gathered bool
}
