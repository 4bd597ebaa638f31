package apply

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/pool"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/ownership"
	"github.com/netrecon/netrecon/reconcile/plan"
	"github.com/netrecon/netrecon/reconcile/planfile"
	"github.com/netrecon/netrecon/schema"
)

// Result is what an apply did. Wording it is the views' job
// (views.ApplySummary, through Options.Summary).
type Result struct {
	RunID   journal.RunID
	Outcome journal.Outcome
	Devices []DeviceResult // the devices the plan changes, in plan order
	Elapsed time.Duration
	// Stopped: Options.Stop ended the apply before the confirm step, and
	// the change set was rolled back (Outcome says how that went).
	Stopped bool
	// Abandoned: the hard cancel (ctx, with Options.Stop) ended the apply
	// while devices were not settled. The run is left unfinished in the
	// journal for Recover; a device with an unconfirmed commit rolls back at
	// its confirm-timeout.
	Abandoned bool
}

// DeviceResult is what an apply did to one device.
type DeviceResult struct {
	Name  string
	Phase string // the last phase entered (journal phase names, "mixed" among them), or "rollback-failed" (state unknown)
	// Changes is the plan's count for the device, whether or not they
	// reached it: Committed says whether they did.
	Changes int
	// Committed: the device answered ok to the commit of these changes (it
	// may have been rolled back since: Phase says). False when the commit
	// was never sent, or was refused.
	Committed bool
	Err       error
	Elapsed   time.Duration
}

// txn is the transaction of one device.
type txn struct {
	name        string
	dev         *schema.Device
	changes     []configtree.Change
	desired     *configtree.Tree
	fingerprint string

	sess      reconcile.Device
	confirmed bool             // the device has :confirmed-commit:1.1
	rec       ownership.Record // what the journal says netrecon holds there
	next      ownership.Record // what it holds once this run's commit lands
	filter    *configtree.Tree // the managed subtrees
	before    *configtree.Tree // running (filtered) before the edit
	want      *configtree.Tree // before with the changes: what verify expects
	locked    []string         // datastores this session locked, in order
	persist   string           // journaled from the commit on
	commitOK  bool             // the device answered ok to the commit
	phase     phase            // changed by engine.to only
	err       error
	start     time.Time
	elapsed   time.Duration
}

// engine runs one apply.
type engine struct {
	opts    Options
	id      journal.RunID
	persist string
	start   time.Time
	log     *slog.Logger
	repMu   sync.Mutex
	// hard is Apply's ctx: with Options.Stop, the hard cancel that bounds
	// rollbacks too.
	hard context.Context
	// plan receives the outcome of writing the run's plan, which goes on
	// while the devices lock (writePlan); planErr is that outcome, once
	// waited for (planWritten).
	plan       chan error
	planErr    error
	planWaited bool
}

// Apply applies exactly p's per-device changes, atomically across devices
// unless opts.NoAtomic (see the package documentation for the transaction).
//
// p.Devices[i].Fingerprint is the fingerprint of the filtered live
// configuration the plan was computed against ("" = do not check); desired is
// each device's desired tree with owners, used for the read filters, for
// verification, and recorded in the journal as what netrecon now owns there.
// Devices without changes are not touched at all.
//
// The Result is nil only when the arguments are invalid. The error joins the
// devices' errors (*StalePlanError, *LockTimeoutError, *VerifyError,
// *DeferredError, driver errors), reachable with errors.As; it is nil when the
// outcome is applied or no-changes.
func Apply(ctx context.Context, p *plan.Plan, desired map[string]*configtree.Tree, inv *schema.Intent, opts Options) (*Result, error) {
	opts, err := opts.check()
	if err != nil {
		return nil, fmt.Errorf("apply: %w", err)
	}
	if p == nil || inv == nil {
		return nil, errors.New("apply: plan and intent are required")
	}
	var txs []*txn
	var bad []error
	var shareOnly []string // devices whose plan changes only what netrecon holds
	seen := map[string]bool{}
	for _, pd := range p.Devices {
		switch {
		case pd == nil:
			continue
		case seen[pd.Name]:
			bad = append(bad, fmt.Errorf("%s is in the plan twice", pd.Name))
			continue
		case pd.Err != nil:
			if !opts.NoAtomic {
				bad = append(bad, fmt.Errorf("%s could not be planned (%v): re-plan, or apply without atomicity", pd.Name, pd.Err))
			}
			continue
		case len(pd.Changes) == 0:
			if len(pd.Adopted)+len(pd.Kept) > 0 {
				shareOnly = append(shareOnly, pd.Name)
			}
			continue
		}
		seen[pd.Name] = true
		dev := inv.Device(pd.Name)
		if dev == nil {
			bad = append(bad, fmt.Errorf("%s is not in the inventory", pd.Name))
			continue
		}
		t := &txn{name: pd.Name, dev: dev, desired: desired[pd.Name], fingerprint: pd.Fingerprint, phase: pending}
		for _, c := range pd.Changes {
			t.changes = append(t.changes, c.Change)
		}
		txs = append(txs, t)
	}
	if err := errors.Join(bad...); err != nil {
		return nil, fmt.Errorf("apply: %w", err)
	}

	if err := recordShared(ctx, opts.Journal, shareOnly, desired, opts.IntentCommit); err != nil {
		return nil, fmt.Errorf("apply: %w", err)
	}
	e := &engine{opts: opts, start: time.Now(), log: opts.Logger, hard: ctx}
	e.persist, err = persistID()
	if err != nil {
		return nil, fmt.Errorf("apply: %w", err)
	}
	names := make([]string, len(txs))
	for i, t := range txs {
		names[i] = t.name
	}
	e.id, err = opts.Journal.BeginRun(ctx, journal.Run{IntentCommit: opts.IntentCommit, StartedBy: opts.StartedBy, Atomic: !opts.NoAtomic}, names)
	if err != nil {
		return nil, fmt.Errorf("apply: journal: %w", err)
	}
	e.log = e.log.With("run", e.id)
	e.writePlan(ctx, p, desired)
	res := &Result{RunID: e.id}
	if len(txs) == 0 {
		res.Outcome = journal.NoChanges
		return res, e.finish(ctx, res, txs)
	}
	e.run(ctx, txs)
	for _, t := range txs {
		var st *StoppedError
		res.Stopped = res.Stopped || errors.As(t.err, &st)
	}
	res.Outcome = outcome(txs, opts.NoAtomic, res.Stopped)
	return res, e.finish(ctx, res, txs)
}

// writePlan encodes the plan and records it with the run, in the
// background: for a large change set that is tens of milliseconds of CPU
// and a write of megabytes, which the devices need not wait for. Recovery
// reads a run's plan only for devices whose commit may have been sent, so
// the committed phase waits for it (planWritten), and a plan that could not
// be written stops the run before any commit.
func (e *engine) writePlan(ctx context.Context, p *plan.Plan, desired map[string]*configtree.Tree) {
	e.plan = make(chan error, 1)
	go func() {
		var buf bytes.Buffer
		if err := planfile.Write(&buf, p, desired, nil); err != nil {
			e.plan <- fmt.Errorf("encoding the plan for the journal: %w", err)
			return
		}
		e.plan <- e.opts.Journal.SetRunPlan(context.WithoutCancel(ctx), e.id, buf.Bytes())
	}()
}

// planWritten waits for writePlan and returns its error.
func (e *engine) planWritten() error {
	if !e.planWaited {
		e.planErr, e.planWaited = <-e.plan, true
	}
	return e.planErr
}

// finish fills the result and closes the run in the journal, unless the
// hard cancel left devices unsettled: then Recover closes it.
func (e *engine) finish(ctx context.Context, res *Result, txs []*txn) error {
	var errs []error
	// Every run's record carries its plan, whatever became of it.
	if err := e.planWritten(); err != nil {
		errs = append(errs, fmt.Errorf("journal: run %v: plan: %w", e.id, err))
	}
	for _, t := range txs {
		ph := string(t.phase)
		if t.phase == done {
			ph = string(journal.Confirmed) // the last phase journaled
		}
		res.Devices = append(res.Devices, DeviceResult{Name: t.name, Phase: ph, Changes: len(t.changes), Committed: t.commitOK, Err: t.err, Elapsed: t.elapsed})
		if t.err != nil {
			errs = append(errs, t.err)
		}
	}
	res.Elapsed = time.Since(e.start)
	if e.opts.Stop != nil && ctx.Err() != nil && slices.ContainsFunc(txs, func(t *txn) bool { return !t.phase.settled() }) {
		res.Abandoned = true
		e.log.Warn("apply stopped at once: the run is left for recovery; unconfirmed commits roll back at their confirm-timeout", "outcome", res.Outcome)
		return errors.Join(append(errs, fmt.Errorf("apply: stopped at once: run %v left unfinished for recovery", e.id))...)
	}
	summary := ""
	if e.opts.Summary != nil {
		summary = e.opts.Summary(res)
	}
	// Recorded even when the caller gave up: the run's end is a fact.
	if err := e.opts.Journal.FinishRun(context.WithoutCancel(ctx), e.id, res.Outcome, summary); err != nil {
		errs = append(errs, fmt.Errorf("journal: finish run %v: %w", e.id, err))
	}
	e.log.Info("apply finished", "outcome", res.Outcome, "summary", summary)
	if res.Outcome == journal.Applied || res.Outcome == journal.NoChanges {
		return errors.Join(errs...) // only a journal failure
	}
	if len(errs) == 0 {
		errs = append(errs, fmt.Errorf("apply: %s", res.Outcome))
	}
	return errors.Join(errs...)
}

// run is the two-phase apply of a change set (see the package
// documentation): the guards on every device, then phase 1 step by step,
// each step's phase journaled for every device in one transaction before any
// device takes it, then phase 2. A device that fails rolls back the whole
// change set, or, with NoAtomic, itself alone while the others go on.
//
// Options.Stop cuts phase 1 short: the step in flight is ended, no further
// step starts, and every device still going is rolled back as stopped. Once
// the verified marker is journaled, phase 2 runs on ctx alone.
func (e *engine) run(ctx context.Context, txs []*txn) {
	ctx1, release := e.untilStop(ctx)
	defer release()
	// Guards first, on every device, before any lock: a deferred device
	// defers the whole change set, and nothing has been touched yet.
	e.each(ctx1, txs, nil, e.stoppable(e.open))
	live := e.drop(ctx, txs)
	for _, s := range e.phase1() {
		if len(live) == 0 {
			return
		}
		if e.stopped() {
			for _, t := range live {
				t.err = &StoppedError{Device: t.name}
			}
			e.drop(ctx, live)
			return
		}
		if err := e.enter(ctx, live, s); err == nil && s.act != nil {
			e.each(ctx1, live, &s, e.stoppable(s.act))
		}
		live = e.drop(ctx, live)
	}
	if len(live) > 0 {
		e.phase2(ctx, live)
	}
}

// step is one step of phase 1 on every device: its phase, journaled first,
// with each device's detail; then act on each device. A nil act makes the
// phase a marker only.
type step struct {
	phase  phase
	detail func(*txn) string
	act    func(context.Context, *txn) error
}

func (e *engine) phase1() []step {
	return []step{
		{phase: locked, act: e.prepare},
		{phase: edited, detail: changesDetail, act: e.edit},
		// With the pre-image and the pending record (enter).
		{phase: committed, detail: e.commitDetail, act: e.commit},
		// Journaled once every device has passed verification: the run-level
		// "phase 2 entered" marker, from which recovery rolls forward, and
		// after which a stop waits for the confirm step.
		{phase: verified},
	}
}

// untilStop returns ctx, also ended when Options.Stop is: the context of
// phase 1, which a stop cuts short.
func (e *engine) untilStop(ctx context.Context) (context.Context, func()) {
	if e.opts.Stop == nil {
		return ctx, func() {}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	stopAfter := context.AfterFunc(e.opts.Stop, func() { cancel(errStopped) })
	return ctx, func() {
		stopAfter()
		cancel(nil)
	}
}

// errStopped is the cause of phase 1's context when Options.Stop ends it.
var errStopped = errors.New("the apply was stopped")

// stopped reports whether Options.Stop has asked the apply to stop.
func (e *engine) stopped() bool {
	return e.opts.Stop != nil && e.opts.Stop.Err() != nil
}

// stoppable wraps a phase-1 step: once stopped, it does not start, and a
// step cut short by the stop fails as stopped rather than as the device's
// fault.
func (e *engine) stoppable(step func(context.Context, *txn) error) func(context.Context, *txn) error {
	return func(ctx context.Context, t *txn) error {
		if e.stopped() {
			return &StoppedError{Device: t.name}
		}
		err := step(ctx, t)
		if err != nil && e.stopped() {
			return &StoppedError{Device: t.name, Err: err}
		}
		return err
	}
}

// detached is the context of a rollback or a release: detached from the
// caller's ctx unless Options.Stop is set — then the hard cancel (Apply's
// ctx) ends it too (DESIGN invariant 4 still holds: an unconfirmed commit
// rolls back at its confirm-timeout).
func (e *engine) detached(ctx context.Context) context.Context {
	if e.opts.Stop != nil {
		return e.hard
	}
	return context.WithoutCancel(ctx)
}

// drop rolls back the devices of live that failed — all of live when the
// change set is atomic — and returns the devices that go on.
func (e *engine) drop(ctx context.Context, live []*txn) []*txn {
	var ok, bad []*txn
	for _, t := range live {
		if t.err != nil {
			bad = append(bad, t)
		} else {
			ok = append(ok, t)
		}
	}
	switch {
	case len(bad) == 0:
		return live
	case !e.opts.NoAtomic:
		e.abort(ctx, live, bad[0]) // the first in plan order
		return nil
	}
	e.rollback(ctx, bad, nil) // each failed on its own
	return ok
}

// each runs fn on every device with bounded concurrency; fn's error becomes
// the device's error. With s, each device reports s's phase as it takes it.
func (e *engine) each(ctx context.Context, txs []*txn, s *step, fn func(context.Context, *txn) error) {
	limit := 2*e.opts.LockWait + stepTimeout
	pool.Pool{Limit: e.opts.Concurrency}.Run(ctx, len(txs), func(ctx context.Context, _, i int) {
		t := txs[i]
		ctx, cancel := context.WithTimeoutCause(ctx, limit, fmt.Errorf("%s: step took longer than %s", t.name, limit))
		defer cancel()
		if t.start.IsZero() {
			t.start = time.Now()
		}
		if s != nil {
			e.event(t, string(s.phase), s.detailOf(t))
		}
		if err := fn(ctx, t); err != nil && t.err == nil {
			t.err = err
		}
		t.elapsed = time.Since(t.start)
	}, func(i int, err error) {
		txs[i].err = fmt.Errorf("%s: %w", txs[i].name, err)
	})
}

func (s *step) detailOf(t *txn) string {
	if s.detail == nil {
		return ""
	}
	return s.detail(t)
}

// event reports one device's step.
func (e *engine) event(t *txn, phase, detail string) {
	e.report(t, Event{Phase: phase, Detail: detail})
}

// report hands ev, about t, to the Reporter.
func (e *engine) report(t *txn, ev Event) {
	e.log.Debug("apply", "device", t.name, "phase", ev.Phase, "detail", ev.Detail)
	if e.opts.Reporter == nil {
		return
	}
	ev.Device, ev.Elapsed = t.name, time.Since(e.start)
	e.repMu.Lock()
	defer e.repMu.Unlock()
	e.opts.Reporter.Event(ev)
}

// batchEvent reports a journal batch about to be written (see Event).
func (e *engine) batchEvent(name string, devices int) {
	e.log.Debug("apply: journal batch", "batch", name, "devices", devices)
	if e.opts.Reporter == nil {
		return
	}
	e.repMu.Lock()
	defer e.repMu.Unlock()
	e.opts.Reporter.Event(Event{Phase: BatchPrefix + name, Elapsed: time.Since(e.start), Detail: fmt.Sprintf("%d devices", devices)})
}

// persistID returns a fresh persist id: any session that knows it can
// confirm or cancel the run's confirmed commits, so it must not be guessable
// from the outside, and must differ between runs.
//
// PersistIDPattern matches every id persistID makes, so that what shows
// netrecon's state to others (the daemon's API) can mask one wherever an
// error or a summary quotes it.
const PersistIDPattern = `netrecon-[0-9a-f]{16}`

func persistID() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("persist id: %w", err)
	}
	return "netrecon-" + hex.EncodeToString(b), nil
}

// recordShared updates the ownership record of devices whose plan changes
// nothing on them but what netrecon holds there: pre-existing nodes the
// intent adopts or no longer renders. Such a device holds every node of its
// desired tree already, so desired stands for its pre-image. One journal
// write for all of them.
func recordShared(ctx context.Context, j *journal.Journal, devices []string, desired map[string]*configtree.Tree, commit string) error {
	records := make([]journal.Owned, 0, len(devices))
	for _, name := range devices {
		rec, _, err := j.Ownership(ctx, name)
		if err != nil {
			return err
		}
		d := desired[name]
		if d == nil {
			d = configtree.New()
		}
		records = append(records, journal.Owned{Device: name, Record: rec.Next(d, d)})
	}
	return j.SetOwnerships(ctx, records, commit)
}
