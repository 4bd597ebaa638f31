package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/backoff"
	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/gitsrc"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/apply"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/plan"
	"github.com/netrecon/netrecon/reconcile/planner"
	"github.com/netrecon/netrecon/reconcile/schedule"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
)

// passState is what the steps of one pass hand each other.
type passState struct {
	p     *PassStatus
	log   *slog.Logger
	scope passScope

	head   string // fetched
	commit string // reconciled to
	// generation names the desired state the pass reconciles to: the
	// commit, plus which of its services the moment leaves out (scheduled,
	// or held by a manual step). Change sets are per generation, so an
	// activation on an unchanged commit is coordinated like a new commit.
	generation string
	intent     *schema.Intent
	desired    map[string]*configtree.Tree
	dialer     reconcile.Dialer

	due     []string // devices planned this pass
	plan    *plan.Plan
	toApply []string
	drift   map[string]int // device → drifted nodes seen
	// nodes are what each planned device differs by: drift, or the
	// intent's changes while they are not applied.
	nodes   map[string][]journal.Node
	heals   map[string]time.Time // devices an operator asked to heal, and when
	results map[string]devResult
	// gathered are the coordinated change sets this replica (the leader)
	// holds whole and applies in this pass; hold the devices of those it
	// does not hold whole yet, left unplanned.
	gathered []journal.ChangeSet
	hold     map[string]bool
	// taken are the devices this replica claimed this pass: the journal's
	// row of each may be another replica's, so record writes it whatever
	// this process's copy says.
	taken map[string]bool
}

// devResult is what a pass concluded about one device: the input of next.
type devResult struct {
	state    DeviceState
	keep     bool // not looked at this pass: leave the status as it is
	replan   bool // re-plan at the next pass; not a failure
	err      error
	deferred *Deferral
	changes  int
	mixed    bool // left on neither side by a rollback: alarm at once
	// Filled by record: the pass's commit, the drifted nodes it saw, and
	// the nodes that differ.
	commit     string
	driftNodes int
	nodes      []journal.Node
}

// step is one step of a pass. done ends the pass early without error.
type step struct {
	name string
	run  func(ctx context.Context, s *passState) (done bool, err error)
}

// steps lists a pass: each step reads what the ones before it left in the
// passState, and each can be tested alone.
func (d *Daemon) steps() []step {
	return []step{
		{"fetch", d.fetch},
		{"check", d.check},
		{"load", d.load},
		{"shard", d.shard},
		{"plan", d.planDue},
		{"sort", d.sortPlan},
		{"gate", d.gate},
		{"apply", d.applyChanges},
	}
}

func newPassState(p *PassStatus, log *slog.Logger, scope passScope) *passState {
	return &passState{p: p, log: log, scope: scope, drift: map[string]int{}, nodes: map[string][]journal.Node{},
		heals: map[string]time.Time{}, results: map[string]devResult{}}
}

func (d *Daemon) pass(ctx context.Context, log *slog.Logger, p *PassStatus, scope passScope) error {
	s := newPassState(p, log, scope)
	var err error
	for _, st := range d.steps() {
		var done bool
		d.stepProgress(stepNames[st.name], s.head, s.commit)
		done, err = st.run(ctx, s)
		if err != nil {
			err = fmt.Errorf("%s: %w", st.name, err)
			break
		}
		if done {
			break
		}
	}
	d.stepProgress("record", s.head, s.commit)
	d.record(context.WithoutCancel(ctx), s)
	d.settleChangeSets(context.WithoutCancel(ctx), s, err)
	d.follow(ctx, s)
	return err
}

// fetch brings the mirror up to date. A fetch that fails is not the end of
// the pass: the network is still reconciled to the last good commit (drift
// healed, failed devices retried), and an alarm rises after
// Config.Alarm.AfterFailures failures in a row.
func (d *Daemon) fetch(ctx context.Context, s *passState) (bool, error) {
	head, err := d.mirror.Fetch(ctx)
	d.mu.Lock()
	if err != nil {
		d.fetchFailures++
		if d.fetchFailingSince.IsZero() {
			d.fetchFailingSince = d.now()
		}
	} else {
		d.fetchFailures = 0
		d.fetchFailingSince = time.Time{}
		d.head = head
	}
	n, last := d.fetchFailures, d.head
	d.mu.Unlock()
	s.p.Head = head
	if err != nil {
		s.log.Warn("fetch failed", "err", err, "failures", n)
		if n >= d.cfg.Alarm.AfterFailures {
			d.alarms.raise(ctx, Alarm{Kind: AlarmFetchFailing, Failures: n, Message: err.Error()})
		}
		if last == "" {
			head, err2 := d.mirror.Head()
			if err2 != nil || head == "" {
				return false, err
			}
			last = head
		}
		s.head = last
		s.p.Head = last
		return false, nil
	}
	d.alarms.clear(ctx, AlarmFetchFailing, "")
	s.head = head
	return false, nil
}

// check decides which commit the pass reconciles to: the head when it
// advances from the last good commit under the signature policy, or else the
// last good commit, with an alarm that names the refused one.
func (d *Daemon) check(ctx context.Context, s *passState) (bool, error) {
	d.mu.Lock()
	good, accepted := d.commit, d.accepted
	d.mu.Unlock()
	if accepted != "" {
		// An operator accepted a rewritten history from this base on: it
		// is the last good commit now, and the head must advance from it
		// under the signature policy like any other.
		if err := d.journal.SetState(ctx, KeyCommit, accepted); err != nil {
			return false, fmt.Errorf("journal: %w", err)
		}
		if err := d.journal.SetState(ctx, KeyAcceptedBase, ""); err != nil {
			return false, fmt.Errorf("journal: %w", err)
		}
		d.mu.Lock()
		d.commit, d.accepted, good = accepted, "", accepted
		d.mu.Unlock()
		s.log.Info("history accepted: new base", "commit", accepted)
	}
	s.commit = s.head
	if s.head == good {
		return false, nil
	}
	err := d.mirror.CheckAdvance(ctx, good, s.head, d.policy)
	if err == nil {
		return false, nil
	}
	var unsigned *gitsrc.UnsignedCommitError
	var rewritten *gitsrc.RewrittenHistoryError
	refused := s.head
	switch {
	case errors.As(err, &unsigned):
		refused = unsigned.Commit
	case errors.As(err, &rewritten):
		err = fmt.Errorf("%w. If the new history is meant, accept it: netrecon accept-history --commit %s --reason \"...\" "+
			"(or POST /api/v1/actions/accept-history with a write token), naming the commit the network may move to", err, short(s.head))
	default:
		return false, err // the mirror could not tell: try again next pass
	}
	d.refuse(ctx, s, refused, err)
	if good == "" {
		return true, nil // nothing was ever accepted: nothing to reconcile to
	}
	s.commit = good
	return false, nil
}

func (d *Daemon) refuse(ctx context.Context, s *passState, commit string, err error) {
	if !d.alarms.has(AlarmCommitRefused, "") || d.alarmCommit(AlarmCommitRefused) != commit {
		d.metrics.commitRefusals.Inc()
	}
	s.log.Error("commit refused: staying on the last good commit", "commit", commit, "err", err)
	d.alarms.raise(ctx, Alarm{Kind: AlarmCommitRefused, Commit: commit, Message: err.Error()})
}

func (d *Daemon) alarmCommit(kind AlarmKind) string {
	for _, a := range d.alarms.list() {
		if a.Kind == kind {
			return a.Commit
		}
	}
	return ""
}

// load reads and renders the commit, from the cache when it did not change.
// A head that does not validate or render is refused like an unsigned one.
func (d *Daemon) load(ctx context.Context, s *passState) (bool, error) {
	d.mu.Lock()
	cache, good := d.cache, d.commit
	d.mu.Unlock()
	if cache != nil && cache.commit == s.commit {
		s.intent, s.desired = cache.intent, cache.desired
	} else {
		loaded, err := d.loadCommit(ctx, s.commit)
		if err != nil {
			var bad *invalidIntentError
			if !errors.As(err, &bad) {
				return false, err
			}
			d.refuse(ctx, s, s.commit, err)
			if good == "" || good == s.commit {
				return true, nil
			}
			s.commit = good
			if cache != nil && cache.commit == good {
				loaded = cache
			} else if loaded, err = d.loadCommit(ctx, good); err != nil {
				return false, fmt.Errorf("last good commit %s: %w", short(good), err)
			}
		}
		s.intent, s.desired = loaded.intent, loaded.desired
		d.mu.Lock()
		d.cache = loaded
		d.mu.Unlock()
	}
	if err := d.scope(ctx, s); err != nil {
		return false, err
	}
	if s.commit == s.head {
		d.alarms.clear(ctx, AlarmCommitRefused, "")
	}
	d.mu.Lock()
	changed := d.commit != s.commit
	d.commit = s.commit
	d.mu.Unlock()
	if changed {
		if err := d.journal.SetState(ctx, KeyCommit, s.commit); err != nil {
			return false, fmt.Errorf("journal: %w", err)
		}
		s.log.Info("following commit", "commit", s.commit)
	}
	s.p.Commit = s.commit
	s.dialer = d.sessionDialer(s.intent)
	names := make([]string, len(s.intent.Devices))
	for i, dev := range s.intent.Devices {
		names[i] = dev.Name
	}
	d.sessions.Retain(names) // a device that left the inventory keeps no session
	d.verified.Retain(names)
	return false, nil
}

// scope narrows the pass to the services configured at its moment
// (reconcile/schedule): a service before its activate, from its deactivate
// on, or held by an open manual step (taskGate), is planned as absent, so
// the ownership rules remove what it created. The whole commit was rendered by load, so a scheduled service's
// errors refuse the commit when it is merged, not when it activates.
func (d *Daemon) scope(ctx context.Context, s *passState) error {
	now := d.now()
	full := s.intent
	d.mu.Lock()
	loaded := d.cache
	d.mu.Unlock()
	if err := d.syncTasks(ctx, loaded); err != nil {
		return err
	}
	d.alarmTasks(ctx, now)
	in := schedule.At(full, now, d.taskGate())
	next, _ := schedule.Next(full, now)
	d.mu.Lock()
	d.nextBoundary, d.upcoming = next, schedule.Boundaries(full, now)
	cache := d.cache
	d.mu.Unlock()
	d.changed()
	s.generation = s.commit
	if len(in.Services) == len(full.Services) {
		return nil
	}
	key := leftOut(full, in)
	sum := sha256.Sum256([]byte(key))
	s.generation = s.commit + "@" + hex.EncodeToString(sum[:6])
	d.mu.Lock()
	scoped := cache.scoped
	d.mu.Unlock()
	if scoped == nil || scoped.key != key {
		b := &render.Build{Intent: in}
		if diags := b.Render(ctx, nil, render.Budget{}); diags.HasErrors() {
			return fmt.Errorf("render the services configured at %s: %w", now.Format(time.RFC3339), diags.Err())
		}
		scoped = &scopedIntent{key: key, intent: in, desired: b.Desired}
		d.mu.Lock()
		cache.scoped = scoped
		d.mu.Unlock()
	}
	s.intent, s.desired = scoped.intent, scoped.desired
	return nil
}

// leftOut names the services of full that in lacks, in order.
func leftOut(full, in *schema.Intent) string {
	var b strings.Builder
	j := 0
	for _, s := range full.Services {
		if j < len(in.Services) && in.Services[j] == s {
			j++
			continue
		}
		b.WriteString(s.Name)
		b.WriteByte(0)
	}
	return b.String()
}

// invalidIntentError is a commit whose intent does not load or render.
type invalidIntentError struct {
	commit string
	err    error
}

func (e *invalidIntentError) Error() string {
	return fmt.Sprintf("commit %s does not validate: %v", short(e.commit), e.err)
}

func (e *invalidIntentError) Unwrap() error { return e.err }

// loadCommit renders commit into a cache entry, with its manual steps.
func (d *Daemon) loadCommit(ctx context.Context, commit string) (*intentCache, error) {
	b, err := d.build(ctx, commit)
	if err != nil {
		return nil, err
	}
	return &intentCache{commit: commit, intent: b.Intent, desired: b.Desired, steps: b.Steps}, nil
}

func (d *Daemon) render(ctx context.Context, commit string) (*schema.Intent, map[string]*configtree.Tree, error) {
	b, err := d.build(ctx, commit)
	if err != nil {
		return nil, nil, err
	}
	return b.Intent, b.Desired, nil
}

func (d *Daemon) build(ctx context.Context, commit string) (*render.Build, error) {
	rev, err := d.mirror.Revision(commit)
	if err != nil {
		return nil, err
	}
	fsys, err := rev.FS()
	if err != nil {
		return nil, err
	}
	b, diags, _ := render.BuildFS(ctx, fsys, render.BuildOptions{Load: schema.Options{Evaluator: d.opts.Evaluator}})
	if diags.HasErrors() {
		return nil, &invalidIntentError{commit, diags.Err()}
	}
	return b, nil
}

// notDue is the result of a device the pass does not plan (ok), or
// ok false for a device that is due: not waiting out a back-off or a guard's
// retry time, and in the pass's scope.
func notDue(st journal.DeviceState, scope passScope, commit string, now time.Time) (r devResult, ok bool) {
	state := DeviceState(st.State)
	switch {
	case (state == StateFailing || state == StateBackoff) && now.Before(st.NextRetry):
		return devResult{state: StateBackoff}, true
	case state == StateDeferred && st.DeferGuard != "" && now.Before(st.DeferUntil):
		return devResult{state: StateDeferred, deferred: deferralOf(st)}, true
	case scope == scopeWaiting && state != StateFailing && state != StateBackoff && state != StateDeferred && commit == st.Commit:
		return devResult{state: state, keep: true}, true
	}
	return devResult{}, false
}

// planDue plans the devices that are due against their running
// configuration, and forgets the devices that left the inventory.
func (d *Daemon) planDue(ctx context.Context, s *passState) (bool, error) {
	now := d.now()
	var gone []string
	d.mu.Lock()
	for _, dev := range s.intent.Devices {
		if d.replica != nil && (!d.replica.owns(dev.Name) || s.hold[dev.Name]) {
			continue // another replica's, not claimed yet, or of a change set not gathered whole
		}
		st, ok := d.devices[dev.Name]
		if !ok {
			st = journal.DeviceState{Device: dev.Name, State: string(StateUnknown), Changed: now}
			d.devices[dev.Name] = st
		}
		ctl := d.controls[dev.Name]
		if ctl.Paused() {
			// An operator's pause: not read, not changed, left as it is.
			s.results[dev.Name] = devResult{state: DeviceState(st.State), keep: true}
			continue
		}
		if ctl.Heal() {
			// Heal now: due whatever its back-off or guard said.
			s.heals[dev.Name] = ctl.HealAt
			s.due = append(s.due, dev.Name)
			continue
		}
		if r, ok := notDue(st, s.scope, s.commit, now); ok {
			s.results[dev.Name] = r
		} else {
			s.due = append(s.due, dev.Name)
		}
	}
	for name := range d.devices {
		if s.intent.Device(name) == nil && (d.replica == nil || d.replica.owns(name)) {
			delete(d.devices, name) // left the inventory
			gone = append(gone, name)
		}
	}
	d.mu.Unlock()
	for _, name := range gone {
		d.alarms.clear(ctx, AlarmDeviceFailing, name)
		d.alarms.clear(ctx, AlarmDrift, name)
	}
	if len(gone) > 0 {
		if err := d.journal.RemoveDeviceStates(ctx, gone); err != nil {
			s.log.Error("journal: forget devices", "devices", gone, "err", err)
		}
	}
	if len(s.due) == 0 {
		return true, nil
	}
	p, err := planner.Live(ctx, planner.LiveOptions{Intent: s.intent, Desired: s.desired, Dialer: s.dialer, Journal: d.journal, Devices: s.due, Concurrency: d.cfg.Concurrency,
		Verified: &d.verified, Rev: s.commit})
	if err != nil {
		return false, err
	}
	p.Head = plan.Source{Rev: d.cfg.Repo.Branch, Commit: s.commit}
	s.plan = p
	return false, nil
}

// sortPlan sorts the planned devices: in sync, drift (heal or report), or
// changes to apply.
func (d *Daemon) sortPlan(ctx context.Context, s *passState) (bool, error) {
	for _, pd := range s.plan.Devices {
		switch {
		case pd.Err != nil:
			s.results[pd.Name] = devResult{state: StateFailing, err: pd.Err}
		case len(pd.Changes) == 0:
			s.results[pd.Name] = devResult{state: StateInSync}
			d.recordInSync(ctx, s, pd.Name)
		default:
			drift, err := d.isDrift(ctx, pd.Name, s.desired[pd.Name])
			if err != nil {
				s.results[pd.Name] = devResult{state: StateFailing, err: err}
				continue
			}
			if !drift {
				s.nodes[pd.Name] = nodesOf(pd, journal.NodePending)
				s.toApply = append(s.toApply, pd.Name)
				continue
			}
			s.drift[pd.Name] = len(pd.Changes)
			s.nodes[pd.Name] = nodesOf(pd, journal.NodeDrift)
			policy := d.driftPolicy(pd)
			if _, asked := s.heals[pd.Name]; asked {
				policy = Heal // an operator's heal now overrides report
			}
			s.log.Warn("drift: managed nodes changed on the device", "device", pd.Name, "nodes", len(pd.Changes), "paths", paths(s.nodes[pd.Name], 5), "policy", string(policy))
			if policy == Heal {
				s.toApply = append(s.toApply, pd.Name)
				continue
			}
			s.results[pd.Name] = devResult{state: StateDrift, changes: len(pd.Changes)}
		}
	}
	return false, nil
}

// isDrift tells a hand edit from an intent change: the device differs from
// the intent although the intent for it is what netrecon last applied there.
func (d *Daemon) isDrift(ctx context.Context, device string, desired *configtree.Tree) (bool, error) {
	rec, _, err := d.journal.Ownership(ctx, device)
	if err != nil {
		return false, fmt.Errorf("%s: journal: %w", device, err)
	}
	if rec.Desired == "" {
		return false, nil // never applied: the first apply is not drift
	}
	if desired == nil {
		desired = configtree.New()
	}
	return rec.Desired == desired.Fingerprint(), nil
}

// recordInSync records, once per desired tree, that a device found in sync
// holds the desired configuration, so that a later hand edit on it is seen as
// drift (the journal knew nothing of a device that never needed a change).
// A device in sync holds every node of desired already, so netrecon created
// none of them in this pass: the record keeps what netrecon created before
// and shares the rest with the device (ownership.Record.Next). Recording
// desired as created would make netrecon the owner of a person's
// configuration with no plan line at all.
func (d *Daemon) recordInSync(ctx context.Context, s *passState, device string) {
	desired := s.desired[device]
	if desired == nil {
		return
	}
	d.mu.Lock()
	known := d.recorded[device]
	d.mu.Unlock()
	if known.tree == desired {
		return // the same tree as recorded: no need to hash it again
	}
	fp := desired.Fingerprint()
	if known.fp == fp {
		d.mu.Lock()
		d.recorded[device] = recordedDesired{desired, fp}
		d.mu.Unlock()
		return
	}
	rec, _, err := d.journal.Ownership(ctx, device)
	if err == nil {
		if next := rec.Next(desired, desired); !next.Equal(rec) {
			err = d.journal.SetOwnership(ctx, device, next, s.commit)
		}
	}
	if err != nil {
		s.log.Warn("journal: record in-sync device", "device", device, "err", err)
		return
	}
	d.mu.Lock()
	d.recorded[device] = recordedDesired{desired, fp}
	d.mu.Unlock()
}

// recordedDesired is the desired tree recordInSync last found recorded for a
// device, and its fingerprint. Desired trees are values (render builds them,
// nothing changes them), so the same tree again needs no new fingerprint.
type recordedDesired struct {
	tree *configtree.Tree
	fp   string
}

// driftPolicy is the device's override, else the services' (report wins
// when they disagree), else the default.
func (d *Daemon) driftPolicy(pd *plan.Device) DriftPolicy {
	if p, ok := d.cfg.Drift.Devices[pd.Name]; ok {
		return p
	}
	var policy DriftPolicy
	for _, svc := range pd.Services() {
		if p, ok := d.cfg.Drift.Services[svc]; ok && policy != Report {
			policy = p
		}
	}
	if policy != "" {
		return policy
	}
	return d.cfg.Drift.Default
}

// maxRounds bounds the applies of one pass: each round after the first
// leaves out at least one device that failed or was deferred in the round
// before.
const maxRounds = 8

// applyChanges applies the devices with changes as one change set. In an
// atomic change set one failing or deferred device rolls the others back;
// those are then applied again without it, so that one bad device does not
// hold the network hostage (roll forward).
func (d *Daemon) applyChanges(ctx context.Context, s *passState) (bool, error) {
	todo := slices.Clone(s.toApply)
	for round := 0; len(todo) > 0 && round < maxRounds; round++ {
		if ctx.Err() != nil {
			for _, name := range todo {
				s.results[name] = devResult{state: StateFailing, err: context.Cause(ctx)}
			}
			return false, nil
		}
		sub := &plan.Plan{Mode: s.plan.Mode, Head: s.plan.Head}
		for _, name := range todo {
			sub.Devices = append(sub.Devices, s.plan.Device(name))
		}
		res, err := apply.Apply(ctx, sub, s.desired, s.intent, d.applyOptions(s))
		if res == nil {
			for _, name := range todo {
				s.results[name] = devResult{state: StateFailing, err: err}
			}
			return false, nil
		}
		if res.RunID != 0 {
			s.p.RunIDs = append(s.p.RunIDs, fmt.Sprint(res.RunID))
		}
		var again []string
		for _, dr := range res.Devices {
			var deferred *apply.DeferredError
			var mixed *apply.MixedError
			switch {
			case errors.As(dr.Err, &mixed):
				// Before the rolled-back case: a mixed device is no
				// bystander to retry quietly.
				r := failed(dr.Err)
				r.mixed = true
				s.results[dr.Name] = r
			case dr.Err == nil:
				s.results[dr.Name] = devResult{state: StateApplied, changes: dr.Changes}
			case errors.As(dr.Err, &deferred):
				s.results[dr.Name] = devResult{state: StateDeferred, deferred: d.deferral(dr.Name, deferred)}
			case isRolledBack(dr.Err):
				again = append(again, dr.Name)
			default:
				s.results[dr.Name] = failed(dr.Err)
			}
		}
		if len(again) == len(todo) {
			// Nobody of the set failed on its own: going round again
			// would fail the same way.
			for _, name := range again {
				s.results[name] = devResult{state: StateFailing, err: err}
			}
			return false, nil
		}
		todo = again
	}
	for _, name := range todo {
		s.results[name] = devResult{state: StateFailing, err: fmt.Errorf("rolled back %d times by other devices of its change set", maxRounds)}
	}
	return false, nil
}

// failed maps a device's apply error to what the loop does next, in one
// place: a plan the device outran (someone edited it between plan and apply)
// is re-planned at once and is no failure of the device's; everything else
// (lock kept past lock_wait, commit refused, verify mismatch, transport) is
// a failure that backs off and counts toward the alarm.
func failed(err error) devResult {
	var stale *apply.StalePlanError
	if errors.As(err, &stale) {
		return devResult{state: StateBackoff, err: err, replan: true}
	}
	return devResult{state: StateFailing, err: err}
}

// isRolledBack reports a device the apply engine rolled back only because
// another device of the atomic change set failed.
func isRolledBack(err error) bool {
	var rb *apply.RolledBackError
	return errors.As(err, &rb)
}

func (d *Daemon) applyOptions(s *passState) apply.Options {
	var rep apply.Reporter = progressReporter{d: d, log: apply.LogReporter{Logger: s.log}}
	if d.opts.ApplyReporter != nil {
		rep = d.opts.ApplyReporter(rep)
	}
	return apply.Options{
		Dialer:         s.dialer,
		Journal:        d.journal,
		Concurrency:    d.cfg.Concurrency,
		LockWait:       d.cfg.LockWait.D(),
		ConfirmTimeout: d.cfg.ConfirmTimeout.D(),
		Guard:          d.guard(),
		Reporter:       rep,
		Logger:         s.log,
		StartedBy:      "daemon:" + s.p.ID,
		IntentCommit:   s.commit,
		Sleep:          d.opts.Sleep,
		Summary:        d.opts.ApplySummary,
	}
}

// rules are the settings next decides with.
type rules struct {
	afterFailures int                              // Config.Alarm.AfterFailures
	backoff       func(failures int) time.Duration // after this many failures in a row
}

// transition is what next decides for a device: its state after the pass,
// and the alarms to raise and to clear.
type transition struct {
	state journal.DeviceState
	raise []Alarm
	clear []AlarmKind
}

// next is the device's state after a pass that concluded r about it, at now.
// It only decides; record writes what it decided.
func (ru rules) next(st journal.DeviceState, r devResult, now time.Time) transition {
	t := transition{state: st}
	if r.keep {
		return t
	}
	n := &t.state
	n.DeferGuard, n.DeferReason, n.DeferUntil = "", "", time.Time{}
	if r.state != StateBackoff || r.replan {
		// A device waiting out its back-off was not looked at: what it
		// differed by last time still stands.
		n.DriftNodes, n.Nodes = r.driftNodes, r.nodes
	}
	switch r.state {
	case StateInSync, StateApplied:
		n.Failures, n.LastError, n.NextRetry = 0, "", time.Time{}
		n.Commit = r.commit
		n.DriftNodes, n.Nodes = 0, nil // healed, or none
		t.clear = []AlarmKind{AlarmDeviceFailing, AlarmDrift, AlarmDeviceMixed}
	case StateFailing:
		n.Failures++
		n.LastError = r.err.Error()
		n.NextRetry = now.Add(ru.backoff(n.Failures))
		if r.mixed {
			t.raise = append(t.raise, Alarm{Kind: AlarmDeviceMixed, Device: st.Device, Commit: r.commit, Failures: n.Failures, Message: r.err.Error()})
		}
		if n.Failures >= ru.afterFailures {
			t.raise = append(t.raise, Alarm{Kind: AlarmDeviceFailing, Device: st.Device, Commit: r.commit, Failures: n.Failures, Message: r.err.Error()})
		}
	case StateDeferred:
		if r.deferred != nil {
			n.DeferGuard, n.DeferReason, n.DeferUntil = r.deferred.Guard, r.deferred.Reason, r.deferred.RetryAfter
		}
	case StateDrift:
		t.raise = append(t.raise, Alarm{Kind: AlarmDrift, Device: st.Device, Commit: r.commit,
			Message: driftMessage(st.Device, r.nodes, r.changes)})
	}
	if r.replan {
		n.LastError = r.err.Error()
		n.NextRetry = now // the retry pass re-plans it at once
	}
	if n.State != string(r.state) {
		n.State, n.Changed = string(r.state), now
	}
	return t
}

func good(st journal.DeviceState) bool {
	return st.State == string(StateInSync) || st.State == string(StateApplied)
}

// record turns the pass's conclusions into device states (next), then writes
// what next decided: the journal, alarms, metrics, the pass summary and logs.
func (d *Daemon) record(ctx context.Context, s *passState) {
	now := d.now()
	ru := rules{afterFailures: d.cfg.Alarm.AfterFailures, backoff: d.backoff}
	type decided struct {
		r    devResult
		prev journal.DeviceState
		t    transition
	}
	var done []decided
	allGood := s.intent != nil && len(s.results) == len(s.intent.Devices)
	counts := map[string]int{}
	driftNodes, deferred := 0, 0
	d.mu.Lock()
	for name, r := range s.results {
		prev, ok := d.devices[name]
		if !ok {
			continue
		}
		r.commit, r.driftNodes, r.nodes = s.commit, s.drift[name], s.nodes[name]
		t := ru.next(prev, r, now)
		d.devices[name] = t.state
		allGood = allGood && good(t.state)
		if !r.keep {
			done = append(done, decided{r, prev, t})
		}
	}
	if s.intent != nil {
		for _, dev := range s.intent.Devices {
			if st, ok := d.devices[dev.Name]; ok {
				counts[viewState(st, d.controls[dev.Name], s.commit)]++
				driftNodes += st.DriftNodes
				if st.DeferGuard != "" {
					deferred++
				}
			}
		}
		d.byDevice = map[string][]string{}
		d.services = make([]serviceInfo, 0, len(s.intent.Services))
		for _, svc := range s.intent.Services {
			for _, dn := range svc.Devices {
				d.byDevice[dn] = append(d.byDevice[dn], svc.Name)
			}
			d.services = append(d.services, serviceInfo{name: svc.Name, kind: svc.Kind, devices: slices.Clone(svc.Devices)})
		}
		slices.SortFunc(d.services, func(a, b serviceInfo) int { return strings.Compare(a.name, b.name) })
		d.setUsageServices(s.intent)
		d.platforms = make(map[string]string, len(s.intent.Devices))
		for _, dev := range s.intent.Devices {
			d.platforms[dev.Name] = dev.Platform
		}
		for name := range d.devices {
			if d.controls[name].Paused() {
				allGood = false // a paused device is not known to be in sync
			}
		}
	}
	d.mu.Unlock()
	d.changed()

	slices.SortFunc(done, func(a, b decided) int { return strings.Compare(a.t.state.Device, b.t.state.Device) })
	// A state the journal holds already is not written again: a pass that
	// changes nothing writes no device row. This process's copy is what it
	// last wrote, unless that write failed (statesBehind). With replicas,
	// another one may have written a device's row while it was in another
	// shard, so a device claimed this pass is written whatever the copy
	// says; one held since (its claim unbroken, the lease epoch the same)
	// had no other writer: the journal's fence refuses a device's rows to
	// every replica but its owner.
	d.mu.Lock()
	writeAll := d.statesBehind
	d.mu.Unlock()
	states := make([]journal.DeviceState, 0, len(done))
	for _, x := range done {
		name, st := x.t.state.Device, x.t.state
		if writeAll || s.taken[name] || !sameDeviceState(x.prev, st) {
			states = append(states, st)
		}
		switch x.r.state {
		case StateInSync, StateApplied:
			if x.prev.Failures > 0 {
				s.log.Info("device recovered", "device", name, "after_failures", x.prev.Failures)
			}
			if x.r.state == StateApplied {
				d.metrics.applies.Inc()
				s.p.Applied = append(s.p.Applied, name)
				if s.drift[name] > 0 {
					s.p.Healed = append(s.p.Healed, name)
				}
			}
		case StateFailing:
			d.metrics.applyFailures.Inc()
			s.p.Failed = append(s.p.Failed, name)
			s.log.Warn("device failed", "device", name, "failures", st.Failures, "retry_at", st.NextRetry, "err", x.r.err)
		case StateDeferred:
			s.p.Deferred = append(s.p.Deferred, name)
			d.metrics.deferrals.WithLabelValues(st.DeferGuard).Inc()
			s.log.Info("device deferred by a guard", "device", name, "guard", st.DeferGuard, "reason", st.DeferReason, "until", st.DeferUntil)
		case StateDrift:
			s.p.Drift = append(s.p.Drift, name)
		}
		if x.r.replan {
			s.log.Info("device changed since the plan: re-planning", "device", name, "err", x.r.err)
		}
		for _, a := range x.t.raise {
			d.alarms.raise(ctx, a)
		}
		for _, k := range x.t.clear {
			d.alarms.clear(ctx, k, name)
		}
	}
	if len(states) > 0 {
		err := d.journal.SetDeviceStates(ctx, states)
		if err != nil {
			s.log.Error("journal: record device states", "err", err)
		}
		d.mu.Lock()
		d.statesBehind = err != nil
		d.mu.Unlock()
	}
	for _, st := range api.States {
		d.metrics.devices.WithLabelValues(st).Set(float64(counts[st]))
	}
	d.metrics.driftNodes.Set(float64(driftNodes))
	d.metrics.deferred.Set(float64(deferred))
	d.mu.Lock()
	recorded := d.lastApplied == s.commit && d.replica == nil
	d.mu.Unlock()
	if allGood && s.commit != "" && !recorded {
		if err := d.journal.SetState(ctx, KeyLastApplied, s.commit); err != nil {
			s.log.Error("journal: record last applied commit", "err", err)
		} else {
			d.mu.Lock()
			d.lastApplied = s.commit
			d.mu.Unlock()
		}
	}
	d.settleHeals(ctx, s)
	d.followOrders(ctx, s)
	d.changed()
}

// sameDeviceState reports whether a and b hold the same state, nodes
// included, as the journal stores it.
func sameDeviceState(a, b journal.DeviceState) bool {
	return a.Device == b.Device && a.State == b.State && a.Commit == b.Commit && a.Failures == b.Failures &&
		a.LastError == b.LastError && a.NextRetry.Equal(b.NextRetry) && a.Changed.Equal(b.Changed) &&
		a.DriftNodes == b.DriftNodes && a.DeferGuard == b.DeferGuard && a.DeferReason == b.DeferReason &&
		a.DeferUntil.Equal(b.DeferUntil) &&
		slices.EqualFunc(a.Nodes, b.Nodes, func(x, y journal.Node) bool {
			return x.Kind == y.Kind && x.Action == y.Action && x.Path == y.Path && slices.Equal(x.Owners, y.Owners) &&
				x.Live == y.Live && x.Desired == y.Desired && x.Leaf == y.Leaf
		})
}

// settleHeals ends the operators' heal requests this pass carried out:
// each device asked for was planned, and applied or found in sync, or
// failed or deferred (its state says which). A request made again during
// the pass stays for the next.
func (d *Daemon) settleHeals(ctx context.Context, s *passState) {
	for name, at := range s.heals {
		r, ok := s.results[name]
		if !ok {
			continue
		}
		if err := d.journal.HealDone(ctx, name, at); err != nil {
			s.log.Error("journal: settle heal", "device", name, "err", err)
			continue
		}
		d.mu.Lock()
		if c := d.controls[name]; c.HealAt.Equal(at) {
			c.HealBy, c.HealReason, c.HealAt = "", "", time.Time{}
			if c.Paused() {
				d.controls[name] = c
			} else {
				delete(d.controls, name)
			}
		}
		d.mu.Unlock()
		s.log.Info("heal carried out", "device", name, "state", string(r.state))
	}
}

// paths lists at most n of nodes' paths, for a log line.
func paths(nodes []journal.Node, n int) []string {
	var out []string
	for i, x := range nodes {
		if i == n {
			out = append(out, "...")
			break
		}
		out = append(out, x.Path)
	}
	return out
}

// backoff is Retry.Base doubled per failure after the first, at most Retry.Max.
func (d *Daemon) backoff(failures int) time.Duration {
	return backoff.Policy{Base: d.cfg.Retry.Base.D(), Max: d.cfg.Retry.Max.D()}.Delay(failures)
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
