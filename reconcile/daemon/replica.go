package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/shard"
)

// replica is the daemon's hold on its share of the devices when replicas
// share one database (state.database): a lease that a keeper renews, the
// devices it claimed, and whether it leads. The journal's fencing is the
// rule; this is the replica's view of it.
type replica struct {
	id    string
	ttl   time.Duration
	renew time.Duration
	// base is the unfenced journal, for the lease's own rows.
	base *journal.Journal
	log  *slog.Logger
	now  func() time.Time

	mu    sync.Mutex
	lease journal.Lease
	held  bool
	// until is when the lease ends by this process's monotonic clock:
	// the renewal's start plus ttl. Past it, the replica writes nothing
	// even before the database says so.
	until    time.Time
	owned    map[string]bool
	live     []journal.Lease // the last list of live replicas, oldest epoch first
	renewed  time.Time       // the last successful renewal (or acquisition)
	lostOnce bool
	// unreachable is since when the keeper's renewals or acquisitions
	// fail without an answer from the database (zero while it answers):
	// readiness reads it instead of querying the database per probe.
	unreachable time.Time
	// sets are the change sets this replica has read or published, by
	// commit; open the coordinated ones unsettled at the last pass, and
	// gathered those of them this replica (the leader) holds whole.
	sets     map[string]journal.ChangeSet
	open     []journal.ChangeSet
	gathered map[string]bool
}

func newReplica(base *journal.Journal, cfg ReplicaConfig, log *slog.Logger, now func() time.Time) *replica {
	return &replica{id: cfg.ID, ttl: cfg.LeaseTTL.D(), renew: cfg.Renew.D(), base: base, log: log.With("replica", cfg.ID),
		now: now, owned: map[string]bool{}, sets: map[string]journal.ChangeSet{}}
}

// openShared opens the shared journal and takes the replica's first lease;
// the daemon's journal is fenced by it from then on.
func (d *Daemon) openShared(ctx context.Context) error {
	base, err := journal.Open(ctx, d.cfg.State.Database, journal.WithLogger(d.log), journal.WithClock(d.now))
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	d.replica = newReplica(base, d.cfg.State.Replica, d.log, d.now)
	if err := d.replica.acquire(ctx); err != nil {
		base.Close()
		return fmt.Errorf("journal: replica %s: %w", d.cfg.State.Replica.ID, err)
	}
	d.journal = base.FencedBy(d.replica.current)
	d.metrics.reg.MustRegister(newReplicaCollector(d.replica))
	d.log.Info("replica lease acquired", "replica", d.replica.id, "token", d.replica.lease.Token,
		"lease_ttl_seconds", d.replica.ttl.Seconds(), "database", journal.RedactDSN(d.cfg.State.Database))
	return nil
}

// shard is the pass step of a replica: claim this replica's share of the
// inventory, recover the runs the devices it just took over were left in
// (exactly as a restart does), and plan only what it owns (planDue).
func (d *Daemon) shard(ctx context.Context, s *passState) (bool, error) {
	if d.replica == nil {
		return false, nil
	}
	names := make([]string, len(s.intent.Devices))
	for i, dev := range s.intent.Devices {
		names[i] = dev.Name
	}
	b, err := d.replica.rebalance(ctx, names, func(ids []string) error { return d.publish(ctx, s, ids) })
	if err != nil {
		return false, fmt.Errorf("replica %s: %w", d.replica.id, err)
	}
	d.changed() // the shard and the list of replicas the status shows
	s.gathered, s.hold = b.gathered, b.hold
	if len(b.newly) > 0 {
		s.taken = make(map[string]bool, len(b.newly))
		d.mu.Lock()
		for _, n := range b.newly {
			s.taken[n] = true
			// Another replica may have recorded its ownership since.
			delete(d.recorded, n)
		}
		d.mu.Unlock()
		s.log.Info("devices taken over", "devices", len(b.newly))
		d.refreshStates(ctx, b.newly)
		d.recover(ctx)
	}
	return false, nil
}

// current is the lease the journal's writes carry; none while lost.
func (r *replica) current() (journal.Lease, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.held || !time.Now().Before(r.until) {
		return journal.Lease{Replica: r.id}, false
	}
	return r.lease, true
}

// acquire takes a new lease epoch: every device must be claimed again.
func (r *replica) acquire(ctx context.Context) error {
	start := time.Now()
	l, err := r.base.AcquireLease(ctx, r.id, r.ttl)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.lease, r.held, r.until, r.renewed = l, true, start.Add(r.ttl), r.now()
	r.owned, r.unreachable = map[string]bool{}, time.Time{}
	r.mu.Unlock()
	return nil
}

// keep renews the lease every renew interval until ctx ends, and takes a new
// one when it was lost (expired while the process was paused, or replaced).
func (r *replica) keep(ctx context.Context) {
	t := time.NewTicker(r.renew)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.renewOnce(ctx)
	}
}

func (r *replica) renewOnce(ctx context.Context) {
	r.mu.Lock()
	l, held := r.lease, r.held
	r.mu.Unlock()
	start := time.Now()
	if held {
		nl, err := r.base.RenewLease(ctx, l, r.ttl)
		if err == nil {
			r.mu.Lock()
			if r.lease.Token == nl.Token {
				r.lease, r.until, r.renewed = nl, start.Add(r.ttl), r.now()
			}
			r.unreachable = time.Time{}
			r.mu.Unlock()
			return
		}
		if !errors.Is(err, journal.ErrLeaseLost) {
			// The database did not answer: the lease runs out by itself
			// (until) if this goes on, and writes stop with it.
			r.log.Warn("lease renewal failed", "token", l.Token, "err", err)
			r.markUnreachable()
			return
		}
		r.log.Error("lease lost: no write until a new lease is held", "token", l.Token)
		r.mu.Lock()
		r.held, r.lostOnce = false, true
		r.owned = map[string]bool{}
		r.mu.Unlock()
	}
	if err := r.acquire(ctx); err != nil {
		r.log.Warn("lease acquisition failed", "err", err)
		r.markUnreachable()
	}
}

// markUnreachable notes the first of a row of keeper calls the database did
// not answer.
func (r *replica) markUnreachable() {
	r.mu.Lock()
	if r.unreachable.IsZero() {
		r.unreachable = r.now()
	}
	r.mu.Unlock()
}

// balance is what a rebalance leaves the pass: the devices newly owned,
// whose unfinished runs the daemon recovers before it plans them; the open
// coordinated change sets this replica (the leader) holds whole, to apply in
// this pass and settle after it; and the devices of those it does not hold
// whole yet, which it must not plan (never a part of a change set).
type balance struct {
	newly    []string
	gathered []journal.ChangeSet
	hold     map[string]bool
}

// rebalance claims the replica's share of devices among the live replicas,
// and releases what it owns outside its share. The leader first publishes
// the change set of the pass's commit (publish), then claims, besides its
// share, the devices of every open coordinated change set; the others
// leave those to it and release them.
func (r *replica) rebalance(ctx context.Context, devices []string, publish func(live []string) error) (balance, error) {
	l, ok := r.current()
	if !ok {
		return balance{}, &journal.FencedError{Replica: r.id}
	}
	live, err := r.base.Replicas(ctx)
	if err != nil {
		return balance{}, err
	}
	ids := make([]string, len(live))
	for i, x := range live {
		ids[i] = x.Replica
	}
	if !slices.Contains(ids, r.id) {
		ids = append(ids, r.id) // our renewal is in flight: we are live
	}
	share := shard.Share(r.id, ids, devices)
	// A run left unfinished by a replica that died is recovered by one
	// replica, the leader, whatever the shares: its devices may now fall
	// into several shares, and recovery decides for the whole change set
	// (confirm all or cancel all). The others leave those devices alone
	// until the run is settled; the leader then releases them.
	inRuns, err := r.unfinishedDevices(ctx)
	if err != nil {
		return balance{}, err
	}
	leader := len(live) == 0 || (live[0].Replica == r.id && live[0].Token == l.Token)
	if leader && publish != nil {
		if err := publish(ids); err != nil {
			return balance{}, err
		}
	}
	// The devices of a coordinated change set are the leader's until it
	// settles the set: the others release them, even mid-share.
	open, err := r.base.OpenChangeSets(ctx)
	if err != nil {
		return balance{}, err
	}
	coord := map[string]bool{}
	for _, cs := range open {
		for _, d := range cs.Devices {
			coord[d] = true
		}
	}
	r.mu.Lock()
	mine := maps.Clone(r.owned)
	r.mu.Unlock()
	keep := make(map[string]bool, len(share))
	var want []string
	for _, d := range share {
		if (inRuns[d] && !mine[d] || coord[d]) && !leader {
			continue
		}
		keep[d] = true
		want = append(want, d)
	}
	if leader {
		for _, extra := range []map[string]bool{inRuns, coord} {
			for d := range extra {
				if !keep[d] {
					keep[d] = true
					want = append(want, d)
				}
			}
		}
	}
	// What this epoch owns already stays its own: no other replica can
	// claim a device while this lease is live. Only the rest is claimed,
	// so that a steady pass costs no statement per device.
	var claimed, ask []string
	for _, d := range want {
		if mine[d] {
			claimed = append(claimed, d)
		} else {
			ask = append(ask, d)
		}
	}
	if len(ask) > 0 {
		got, err := r.base.ClaimDevices(ctx, l, ask)
		if err != nil {
			return balance{}, err
		}
		claimed = append(claimed, got...)
	}
	inShare := keep
	r.mu.Lock()
	if r.lease.Token != l.Token {
		r.mu.Unlock()
		return balance{}, nil // a new epoch began meanwhile: the next pass claims for it
	}
	var b balance
	var newly, release []string
	next := make(map[string]bool, len(claimed))
	for _, d := range claimed {
		next[d] = true
		if !r.owned[d] {
			newly = append(newly, d)
		}
	}
	for d := range r.owned {
		if !inShare[d] {
			release = append(release, d)
		}
	}
	r.owned, r.live, r.open, r.gathered = next, live, open, map[string]bool{}
	if leader {
		for _, cs := range open {
			whole := true
			for _, d := range cs.Devices {
				whole = whole && next[d]
			}
			if whole {
				b.gathered = append(b.gathered, cs)
				r.gathered[cs.Commit] = true
				continue
			}
			if b.hold == nil {
				b.hold = map[string]bool{}
			}
			for _, d := range cs.Devices {
				b.hold[d] = true
			}
		}
	}
	for _, cs := range open {
		r.sets[cs.Commit] = cs
	}
	r.mu.Unlock()
	b.newly = newly
	if len(b.hold) > 0 {
		r.log.Info("coordinated change set: waiting for its devices to be released", "devices", len(b.hold))
	}
	if len(release) > 0 {
		sort.Strings(release)
		// Passes run one at a time: none of these has a run in flight here.
		if err := r.base.ReleaseDevices(ctx, l, release); err != nil {
			return b, err
		}
		r.log.Info("devices moved to other replicas", "devices", len(release))
	}
	if waiting := len(want) - len(claimed); waiting > 0 {
		r.log.Info("devices of this share still held by another replica", "devices", waiting)
	}
	return b, nil
}

// unfinishedDevices are the devices of every unfinished run: being applied
// by a live replica, or left by a dead one.
func (r *replica) unfinishedDevices(ctx context.Context) (map[string]bool, error) {
	runs, err := r.base.Unfinished(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, run := range runs {
		for _, d := range run.Devices {
			out[d.Device] = true
		}
	}
	return out, nil
}

// owns reports whether the replica claimed device under its current lease.
func (r *replica) owns(device string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.held && r.owned[device]
}

// release gives the lease and its devices up, for a clean stop: the others
// take them at their next pass instead of after the lease's ttl.
func (r *replica) release(ctx context.Context) {
	r.mu.Lock()
	l, held := r.lease, r.held
	r.held = false
	r.owned = map[string]bool{}
	r.mu.Unlock()
	if !held {
		return
	}
	if err := r.base.ReleaseLease(ctx, l); err != nil {
		r.log.Warn("lease release", "err", err)
	}
}

// ReplicaStatus is one replica's view of itself and of the others.
type ReplicaStatus struct {
	ID        string
	Token     int64
	Held      bool
	Leader    bool
	Shard     int // devices owned
	LeaseAge  time.Duration
	Renewed   time.Time
	Expires   time.Time
	Replicas  []journal.Lease // live, oldest epoch (the leader) first
	LostLease bool            // the lease was lost at least once since start
}

func (r *replica) status() ReplicaStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := ReplicaStatus{ID: r.id, Token: r.lease.Token, Held: r.held, Shard: len(r.owned), Renewed: r.renewed,
		Expires: r.lease.Expires, Replicas: slices.Clone(r.live), LostLease: r.lostOnce}
	if r.held {
		s.LeaseAge = r.now().Sub(r.lease.Acquired)
		s.Leader = len(r.live) > 0 && r.live[0].Replica == r.id && r.live[0].Token == r.lease.Token
	}
	return s
}

// replicaStatus is the replica's part of the status; nil for one daemon.
func (d *Daemon) replicaStatus() (*api.Replica, []api.ReplicaLease) {
	if d.replica == nil {
		return nil, nil
	}
	s := d.replica.status()
	r := &api.Replica{ID: s.ID, HoldsLease: s.Held, Token: s.Token, Leader: s.Leader, ShardDevices: s.Shard,
		LeaseAgeSeconds: s.LeaseAge.Seconds(), LeaseExpires: s.Expires, LastRenewal: s.Renewed}
	for _, c := range d.replica.coordination() {
		r.Coordinated = append(r.Coordinated, api.CoordinatedChangeSet{Commit: c.commit, Devices: c.devices, Applier: c.applier, Gathered: c.gathered})
	}
	reps := make([]api.ReplicaLease, len(s.Replicas))
	for i, l := range s.Replicas {
		reps[i] = api.ReplicaLease{ID: l.Replica, Token: l.Token, Acquired: l.Acquired, Expires: l.Expires, Leader: i == 0}
	}
	return r, reps
}

// replicaCollector exports the replica's lease and shard as metrics, read
// when scraped.
type replicaCollector struct {
	r                              *replica
	shard, age, leader, held, live *prometheus.Desc
}

func newReplicaCollector(r *replica) *replicaCollector {
	l := prometheus.Labels{"replica": r.id}
	return &replicaCollector{r: r,
		shard:  prometheus.NewDesc("netrecon_replica_shard_devices", "Devices this replica owns (its shard).", nil, l),
		age:    prometheus.NewDesc("netrecon_replica_lease_age_seconds", "Seconds since this replica's lease epoch began.", nil, l),
		leader: prometheus.NewDesc("netrecon_replica_leader", "1 when this replica leads (the oldest live lease).", nil, l),
		held:   prometheus.NewDesc("netrecon_replica_lease_held", "1 while this replica holds its lease; 0 while it is lost.", nil, l),
		live:   prometheus.NewDesc("netrecon_replicas_live", "Live replicas sharing the journal, as this replica last saw them.", nil, l),
	}
}

func (c *replicaCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.shard, c.age, c.leader, c.held, c.live} {
		ch <- d
	}
}

func (c *replicaCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.r.status()
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	ch <- prometheus.MustNewConstMetric(c.shard, prometheus.GaugeValue, float64(s.Shard))
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, s.LeaseAge.Seconds())
	ch <- prometheus.MustNewConstMetric(c.leader, prometheus.GaugeValue, b(s.Leader))
	ch <- prometheus.MustNewConstMetric(c.held, prometheus.GaugeValue, b(s.Held))
	ch <- prometheus.MustNewConstMetric(c.live, prometheus.GaugeValue, float64(len(s.Replicas)))
}
