package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/netrecon/netrecon/backoff"
	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/gitsrc"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/apply"
	"github.com/netrecon/netrecon/reconcile/plan"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
)

// passState is what the steps of one pass hand each other.
type passState struct {
	p   *PassStatus
	log *slog.Logger

	head    string // fetched
	commit  string // reconciled to
	intent  *schema.Intent
	desired map[string]*configtree.Tree
	dialer  reconcile.Dialer

	due     []string // devices planned this pass
	plan    *plan.Plan
	toApply []string
	drift   map[string]int // device → drifted nodes seen
	results map[string]devResult
}

// devResult is what a pass concluded about one device.
type devResult struct {
	state    DeviceState
	keep     bool // not looked at this pass: leave the status as it is
	replan   bool // re-plan at the next pass; not a failure
	err      error
	deferred *Deferral
	changes  int
	mixed    bool // left on neither side by a rollback: alarm at once
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
		{"plan", d.planDevices},
		{"apply", d.applyChanges},
	}
}

func (d *Daemon) pass(ctx context.Context, log *slog.Logger, p *PassStatus) error {
	s := &passState{p: p, log: log, drift: map[string]int{}, results: map[string]devResult{}}
	var err error
	for _, st := range d.steps() {
		var done bool
		done, err = st.run(ctx, s)
		if err != nil {
			err = fmt.Errorf("%s: %w", st.name, err)
			break
		}
		if done {
			break
		}
	}
	d.record(context.WithoutCancel(ctx), s)
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
	} else {
		d.fetchFailures = 0
		d.head = head
	}
	n, last := d.fetchFailures, d.head
	d.mu.Unlock()
	s.p.Head = head
	if err != nil {
		s.log.Warn("fetch failed", "err", err, "failures", n)
		if n >= d.cfg.Alarm.AfterFailures {
			d.alarms.raise(Alarm{Kind: AlarmFetchFailing, Failures: n, Message: err.Error()})
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
	d.alarms.clear(AlarmFetchFailing, "")
	s.head = head
	return false, nil
}

// check decides which commit the pass reconciles to: the head when it
// advances from the last good commit under the signature policy, or else the
// last good commit, with an alarm that names the refused one.
func (d *Daemon) check(ctx context.Context, s *passState) (bool, error) {
	d.mu.Lock()
	good := d.commit
	d.mu.Unlock()
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
	default:
		return false, err // the mirror could not tell: try again next pass
	}
	d.refuse(s, refused, err)
	if good == "" {
		return true, nil // nothing was ever accepted: nothing to reconcile to
	}
	s.commit = good
	return false, nil
}

func (d *Daemon) refuse(s *passState, commit string, err error) {
	if !d.alarms.has(AlarmCommitRefused, "") || d.alarmCommit(AlarmCommitRefused) != commit {
		d.metrics.commitRefusals.Inc()
	}
	s.log.Error("commit refused: staying on the last good commit", "commit", commit, "err", err)
	d.alarms.raise(Alarm{Kind: AlarmCommitRefused, Commit: commit, Message: err.Error()})
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
		in, desired, err := d.render(ctx, s.commit)
		if err != nil {
			var bad *invalidIntentError
			if !errors.As(err, &bad) {
				return false, err
			}
			d.refuse(s, s.commit, err)
			if good == "" || good == s.commit {
				return true, nil
			}
			s.commit = good
			if cache != nil && cache.commit == good {
				in, desired = cache.intent, cache.desired
			} else if in, desired, err = d.render(ctx, good); err != nil {
				return false, fmt.Errorf("last good commit %s: %w", short(good), err)
			}
		}
		s.intent, s.desired = in, desired
		d.mu.Lock()
		d.cache = &intentCache{commit: s.commit, intent: in, desired: desired}
		d.mu.Unlock()
	}
	if s.commit == s.head {
		d.alarms.clear(AlarmCommitRefused, "")
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
	s.dialer = d.dialerFor(s.intent)
	return false, nil
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

func (d *Daemon) render(ctx context.Context, commit string) (*schema.Intent, map[string]*configtree.Tree, error) {
	rev, err := d.mirror.Revision(commit)
	if err != nil {
		return nil, nil, err
	}
	fsys, err := rev.FS()
	if err != nil {
		return nil, nil, err
	}
	in, diags := schema.Load(fsys, schema.Options{Evaluator: d.opts.Evaluator})
	if diags.HasErrors() {
		return nil, nil, &invalidIntentError{commit, diags.Err()}
	}
	r, diags := render.New(in)
	if diags.HasErrors() {
		return nil, nil, &invalidIntentError{commit, diags.Err()}
	}
	names := make([]string, len(in.Devices))
	for i, dev := range in.Devices {
		names[i] = dev.Name
	}
	desired, diags := r.Devices(ctx, names)
	if diags.HasErrors() {
		return nil, nil, &invalidIntentError{commit, diags.Err()}
	}
	return in, desired, nil
}

// planDevices plans the devices that are due (not waiting out a back-off or
// a guard's retry time) and sorts them: in sync, drift (heal or report), or
// changes to apply.
func (d *Daemon) planDevices(ctx context.Context, s *passState) (bool, error) {
	now := d.now()
	d.mu.Lock()
	for _, dev := range s.intent.Devices {
		ds := d.devices[dev.Name]
		if ds == nil {
			ds = &DeviceStatus{Name: dev.Name, State: StateUnknown, Changed: now}
			d.devices[dev.Name] = ds
		}
		waiting := ds.State == StateFailing || ds.State == StateBackoff || ds.State == StateDeferred
		switch {
		case (ds.State == StateFailing || ds.State == StateBackoff) && now.Before(ds.NextRetry):
			s.results[dev.Name] = devResult{state: StateBackoff}
		case ds.State == StateDeferred && ds.Deferred != nil && now.Before(ds.Deferred.RetryAfter):
			s.results[dev.Name] = devResult{state: StateDeferred, deferred: ds.Deferred}
		case s.p.Reason == "retry" && !waiting && s.commit == ds.Commit:
			// A pass woken for a back-off retries the waiting devices only;
			// the others were compared with this commit at the last pass
			// and wait for the poll interval (or a trigger).
			s.results[dev.Name] = devResult{state: ds.State, keep: true}
		default:
			s.due = append(s.due, dev.Name)
		}
	}
	for name := range d.devices {
		if s.intent.Device(name) == nil {
			delete(d.devices, name) // left the inventory
			d.alarms.clear(AlarmDeviceFailing, name)
			d.alarms.clear(AlarmDrift, name)
		}
	}
	d.mu.Unlock()
	if len(s.due) == 0 {
		return true, nil
	}
	p, err := apply.PlanLive(ctx, s.intent, s.desired, s.dialer, d.journal, s.due, d.cfg.Concurrency)
	if err != nil {
		return false, err
	}
	p.Head = plan.Source{Rev: d.cfg.Repo.Branch, Commit: s.commit}
	s.plan = p
	for _, pd := range p.Devices {
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
				s.toApply = append(s.toApply, pd.Name)
				continue
			}
			s.drift[pd.Name] = len(pd.Changes)
			policy := d.driftPolicy(pd)
			s.log.Warn("drift: managed nodes changed on the device", "device", pd.Name, "nodes", len(pd.Changes), "policy", string(policy))
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
	fp := desired.Fingerprint()
	d.mu.Lock()
	known := d.recorded[device] == fp
	d.mu.Unlock()
	if known {
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
	d.recorded[device] = fp
	d.mu.Unlock()
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
	return apply.Options{
		Dialer:         s.dialer,
		Journal:        d.journal,
		Concurrency:    d.cfg.Concurrency,
		LockWait:       d.cfg.LockWait.D(),
		ConfirmTimeout: d.cfg.ConfirmTimeout.D(),
		Guard:          d.guard(),
		Reporter:       apply.LogReporter{Logger: s.log},
		Logger:         s.log,
		StartedBy:      "daemon:" + s.p.ID,
		IntentCommit:   s.commit,
		Sleep:          d.opts.Sleep,
	}
}

// record turns the pass's conclusions into device states, failure counts,
// back-offs, alarms and metrics.
func (d *Daemon) record(ctx context.Context, s *passState) {
	now := d.now()
	counts := map[DeviceState]int{}
	driftNodes, deferred := 0, 0
	allGood := s.intent != nil && len(s.results) == len(s.intent.Devices)
	d.mu.Lock()
	for name, r := range s.results {
		ds := d.devices[name]
		if ds == nil {
			continue
		}
		if r.keep {
			if ds.State != StateInSync && ds.State != StateApplied {
				allGood = false
			}
			continue
		}
		prev := ds.State
		ds.Deferred = nil
		ds.DriftNodes = s.drift[name]
		switch r.state {
		case StateInSync, StateApplied:
			if ds.Failures > 0 {
				s.log.Info("device recovered", "device", name, "after_failures", ds.Failures)
			}
			ds.Failures, ds.LastError, ds.NextRetry = 0, "", time.Time{}
			ds.Commit = s.commit
			if r.state == StateApplied {
				d.metrics.applies.Inc()
				s.p.Applied = append(s.p.Applied, name)
			}
			if r.state == StateApplied && s.drift[name] > 0 {
				s.p.Healed = append(s.p.Healed, name)
			}
			ds.DriftNodes = 0 // healed, or none
			d.alarms.clear(AlarmDeviceFailing, name)
			d.alarms.clear(AlarmDrift, name)
			d.alarms.clear(AlarmDeviceMixed, name)
		case StateFailing:
			ds.Failures++
			ds.LastError = r.err.Error()
			ds.NextRetry = now.Add(backoff.Policy{Base: d.cfg.Retry.Base.D(), Max: d.cfg.Retry.Max.D()}.Delay(ds.Failures))
			d.metrics.applyFailures.Inc()
			s.p.Failed = append(s.p.Failed, name)
			s.log.Warn("device failed", "device", name, "failures", ds.Failures, "retry_at", ds.NextRetry, "err", r.err)
			if r.mixed {
				d.alarms.raise(Alarm{Kind: AlarmDeviceMixed, Device: name, Commit: s.commit, Failures: ds.Failures, Message: r.err.Error()})
			}
			if ds.Failures >= d.cfg.Alarm.AfterFailures {
				d.alarms.raise(Alarm{Kind: AlarmDeviceFailing, Device: name, Commit: s.commit, Failures: ds.Failures, Message: r.err.Error()})
			}
		case StateDeferred:
			ds.Deferred = r.deferred
			s.log.Info("device deferred by a guard", "device", name, "guard", r.deferred.Guard, "reason", r.deferred.Reason)
		case StateDrift:
			s.p.Drift = append(s.p.Drift, name)
			d.alarms.raise(Alarm{Kind: AlarmDrift, Device: name, Commit: s.commit,
				Message: fmt.Sprintf("%d managed nodes changed on the device by hand; drift policy is report", r.changes)})
		}
		if r.replan {
			ds.LastError = r.err.Error()
			ds.NextRetry = now // the retry pass re-plans it at once
			s.log.Info("device changed since the plan: re-planning", "device", name, "err", r.err)
		}
		ds.State = r.state
		if ds.State != prev {
			ds.Changed = now
		}
		if ds.State != StateInSync && ds.State != StateApplied {
			allGood = false
		}
	}
	if s.intent != nil {
		for _, dev := range s.intent.Devices {
			if ds := d.devices[dev.Name]; ds != nil {
				counts[ds.State]++
				driftNodes += ds.DriftNodes
				if ds.Deferred != nil {
					deferred++
				}
			}
		}
		d.services = serviceStatus(s.intent, d.devices)
		byDevice := map[string][]string{}
		for _, svc := range s.intent.Services {
			for _, dn := range svc.Devices {
				byDevice[dn] = append(byDevice[dn], svc.Name)
			}
		}
		for name, ds := range d.devices {
			ds.Services = byDevice[name]
		}
	}
	d.mu.Unlock()
	slices.Sort(s.p.Applied)
	slices.Sort(s.p.Failed)
	slices.Sort(s.p.Drift)
	slices.Sort(s.p.Healed)
	for _, st := range deviceStates {
		d.metrics.devices.WithLabelValues(string(st)).Set(float64(counts[st]))
	}
	d.metrics.driftNodes.Set(float64(driftNodes))
	d.metrics.deferred.Set(float64(deferred))
	if allGood && s.commit != "" {
		if err := d.journal.SetState(ctx, KeyLastApplied, s.commit); err != nil {
			s.log.Error("journal: record last applied commit", "err", err)
		}
	}
}

func serviceStatus(in *schema.Intent, devices map[string]*DeviceStatus) []ServiceStatus {
	out := make([]ServiceStatus, 0, len(in.Services))
	for _, svc := range in.Services {
		ss := ServiceStatus{Name: svc.Name, State: StateInSync, Devices: slices.Clone(svc.Devices)}
		for _, dn := range svc.Devices {
			if ds := devices[dn]; ds != nil && ds.State.rank() > ss.State.rank() {
				ss.State = ds.State
			}
		}
		out = append(out, ss)
	}
	return out
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
