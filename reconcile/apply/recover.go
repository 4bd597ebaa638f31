package apply

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/netrecon/netrecon/backoff"
	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/pool"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/planfile"
	"github.com/netrecon/netrecon/schema"
)

// Actions Recover reports.
const (
	RecoveryConfirmed = "confirmed" // rolled forward: confirming commit sent
	RecoveryCancelled = "cancelled" // cancel-commit sent
	// The device had no pending commit under the persist id when told to
	// confirm: it was confirmed before the crash (or, if netrecon was down
	// longer than the confirm-timeout, rolled back: the next plan shows it).
	RecoveryAlreadyConfirmed = "already confirmed"
	// The device had no pending commit when told to cancel: the
	// confirm-timeout (or the commit never landing) already rolled it back.
	RecoveryAlreadyRolledBack = "already rolled back"
	RecoveryUndone            = "undone"               // a plain commit reverted from its pre-image
	RecoveryNothing           = "nothing to do"        // nothing had been committed
	RecoveryManual            = "needs a manual check" // a plain commit without pre-image
	// The device is on neither side after the cancel (or confirm) and an
	// undo from the pre-image; the action's Err is a *MixedError.
	RecoveryMixed = "mixed"
)

// RecoveryAction is what Recover did to one device of an unfinished run.
type RecoveryAction struct {
	Run    journal.RunID
	Device string
	Action string
	Err    error
}

// Recover settles the runs a crash left unfinished in the journal, device by
// device from its last phase and persist id:
//
//   - pending, locked, edited: nothing was committed; the lock and the
//     candidate died with the session. Recorded cancelled.
//   - committed, verified: a confirmed commit is pending. It is confirmed
//     (roll forward) when the run had entered phase 2 — atomic: every device
//     reached verified, or one reached confirmed; non-atomic: this device
//     reached verified — and cancelled otherwise. A device that answers that
//     there is no such commit has rolled back by itself (confirm-timeout).
//   - confirmed: the phase is journaled before the confirming commit is sent,
//     so the commit is sent again; "no such commit" means it had landed.
//   - cancelled (with a persist id): cancel-commit is sent again, likewise.
//   - undone, failed, skipped: settled.
//
// Each decision is journaled before it is acted on, so a crash during
// recovery is recovered the same way. Every run ends as Recovered. The error
// is for the journal; device failures are in the actions' Err.
func Recover(ctx context.Context, j *journal.Journal, dialer reconcile.Dialer, inv *schema.Intent, logger *slog.Logger) ([]RecoveryAction, error) {
	if j == nil || dialer == nil || inv == nil {
		return nil, errors.New("recover: journal, dialer and intent are required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	runs, err := j.Unfinished(ctx)
	if err != nil {
		return nil, fmt.Errorf("recover: %w", err)
	}
	var all []RecoveryAction
	for _, run := range runs {
		acts, err := recoverRun(ctx, j, dialer, inv, logger.With("run", run.ID), run)
		all = append(all, acts...)
		if err != nil {
			return all, err
		}
	}
	return all, nil
}

func recoverRun(ctx context.Context, j *journal.Journal, dialer reconcile.Dialer, inv *schema.Intent, log *slog.Logger, run journal.Run) ([]RecoveryAction, error) {
	forward := map[string]bool{}
	allVerified, anyConfirmed := true, false
	for _, d := range run.Devices {
		switch d.Phase {
		case journal.Confirmed:
			anyConfirmed = true
		case journal.Verified:
		default:
			allVerified = false
		}
	}
	for _, d := range run.Devices {
		if run.Atomic {
			forward[d.Device] = allVerified || anyConfirmed
		} else {
			forward[d.Device] = d.Phase == journal.Verified || d.Phase == journal.Confirmed
		}
	}
	var desired map[string]*configtree.Tree
	changes := map[string][]configtree.Change{}
	if len(run.Plan) > 0 {
		if p, dt, err := planfile.Read(bytes.NewReader(run.Plan)); err == nil {
			desired = dt
			for _, d := range p.Devices {
				for _, c := range d.Changes {
					changes[d.Name] = append(changes[d.Name], c.Change)
				}
			}
		} else {
			log.Warn("recover: the run's plan does not decode; applied trees are not recorded, plain commits not undone", "err", err)
		}
	}
	acts := make([]RecoveryAction, len(run.Devices))
	var mu sync.Mutex // the journal is safe; the logger too; acts by index
	pool.Pool{Limit: DefaultConcurrency}.Run(ctx, len(run.Devices), func(ctx context.Context, _, i int) {
		d := run.Devices[i]
		var a RecoveryAction
		// Nil when there is none: nothing was committed.
		preImage, _, err := j.PreImage(ctx, run.ID, d.Device)
		if err != nil {
			log.Warn("recover: reading the pre-image", "device", d.Device, "err", err)
		}
		if d.PersistID == "" && !forward[d.Device] && (d.Phase == journal.Committed || d.Phase == journal.Verified || d.Phase == journal.Undone) {
			a = undoDevice(ctx, j, dialer, inv, run, d, desired[d.Device], preImage, changes[d.Device])
		} else {
			a = recoverDevice(ctx, j, dialer, inv, run, d, forward[d.Device], desired[d.Device], preImage, changes[d.Device])
		}
		a.Run, a.Device = run.ID, d.Device
		mu.Lock()
		acts[i] = a
		mu.Unlock()
		log.Info("recovered", "device", d.Device, "phase", d.Phase, "action", a.Action, "err", a.Err)
	}, func(i int, err error) {
		acts[i] = RecoveryAction{Run: run.ID, Device: run.Devices[i].Device, Err: err}
	})
	var done []string
	for _, a := range acts {
		s := a.Device + ": " + a.Action
		if a.Err != nil {
			s += " (" + a.Err.Error() + ")"
		}
		done = append(done, s)
	}
	if err := j.FinishRun(ctx, run.ID, journal.Recovered, "recovered after a crash: "+strings.Join(done, "; ")); err != nil {
		return acts, fmt.Errorf("recover: run %v: %w", run.ID, err)
	}
	return acts, nil
}

func recoverDevice(ctx context.Context, j *journal.Journal, dialer reconcile.Dialer, inv *schema.Intent, run journal.Run, d journal.DeviceRun, forward bool, desired, preImage *configtree.Tree, changes []configtree.Change) RecoveryAction {
	enter := func(p journal.Phase, detail string) error {
		return j.EnterPhase(ctx, run.ID, d.Device, p, d.PersistID, "recovery: "+detail)
	}
	switch d.Phase {
	case journal.Pending, journal.Locked, journal.Edited:
		if err := enter(journal.Cancelled, "nothing was committed"); err != nil {
			return RecoveryAction{Action: RecoveryNothing, Err: err}
		}
		return RecoveryAction{Action: RecoveryNothing}
	case journal.Undone, journal.PhaseFailed, journal.Skipped:
		return RecoveryAction{Action: RecoveryNothing}
	case journal.PhaseMixed:
		return RecoveryAction{Action: RecoveryManual, Err: fmt.Errorf("%s: the run left it mixed: check the device by hand", d.Device)}
	case journal.Cancelled:
		if d.PersistID == "" {
			return RecoveryAction{Action: RecoveryNothing}
		}
		forward = false
	case journal.Confirmed:
		forward = true
	case journal.Committed, journal.Verified:
	default:
		return RecoveryAction{Action: RecoveryManual, Err: fmt.Errorf("%s: unknown phase %q", d.Device, d.Phase)}
	}
	if d.PersistID == "" {
		// A device without :confirmed-commit:1.1 committed plainly, and its
		// pre-image died with the process.
		if forward {
			return RecoveryAction{Action: RecoveryConfirmed}
		}
		return RecoveryAction{Action: RecoveryManual, Err: fmt.Errorf("%s: committed without confirmed commit and the run did not finish: compare running with the plan", d.Device)}
	}
	dev := inv.Device(d.Device)
	if dev == nil {
		return RecoveryAction{Action: RecoveryManual, Err: fmt.Errorf("%s: not in the inventory any more; persist id %s", d.Device, d.PersistID)}
	}
	action, phase := RecoveryCancelled, journal.Cancelled
	if forward {
		action, phase = RecoveryConfirmed, journal.Confirmed
	}
	if d.Phase != phase {
		if err := enter(phase, action); err != nil {
			return RecoveryAction{Action: action, Err: err}
		}
	}
	s, err := dialer.Dial(ctx, dev)
	if err != nil {
		return RecoveryAction{Action: action, Err: reconcile.DeviceErr(d.Device, "dial", err)}
	}
	defer closeQuietly(context.WithoutCancel(ctx), s)
	if forward {
		err = s.Commit(ctx, reconcile.CommitOptions{PersistID: d.PersistID})
	} else {
		err = s.CancelCommit(ctx, d.PersistID)
	}
	switch {
	case errors.Is(err, reconcile.ErrNoPendingCommit):
		// No confirmed commit under that persist id (see the constants) —
		// or one lost without a rollback: running tells. Any other answer
		// (in-use: another session holds a lock) settles nothing.
		action = RecoveryAlreadyRolledBack
		if forward {
			action = RecoveryAlreadyConfirmed
		}
	case err != nil:
		return RecoveryAction{Action: action, Err: reconcile.DeviceErr(d.Device, action, err)}
	}
	// A device answering <ok/> (or "nothing pending") proves nothing
	// (DESIGN invariant 6): read running back and compare.
	c, cerr := newRecoveryCheck(ctx, j, d.Device, desired, preImage, changes)
	if cerr != nil {
		if err != nil {
			return RecoveryAction{Action: RecoveryManual, Err: fmt.Errorf("%s: %s (%v), and running cannot be checked: %w", d.Device, action, err, cerr)}
		}
		return RecoveryAction{Action: RecoveryManual, Err: fmt.Errorf("%s: %s, but running cannot be checked: %w", d.Device, action, cerr)}
	}
	now, rerr := s.GetConfig(ctx, reconcile.Running, c.filter)
	if rerr != nil {
		return RecoveryAction{Action: RecoveryManual, Err: fmt.Errorf("%s: %s; reading running back: %w", d.Device, action, rerr)}
	}
	switch {
	case forward && c.is(now, c.want):
	case !forward && c.is(now, c.before):
		return RecoveryAction{Action: action}
	case forward && c.is(now, c.before):
		// The confirm-timeout ran out while netrecon was down: the device
		// is on its old configuration; the next plan applies it again.
		// Nothing is recorded as owned that is not there.
		return RecoveryAction{Action: RecoveryAlreadyRolledBack}
	default:
		return c.undo(ctx, j, run, d, s, now)
	}
	if forward {
		// The record the run wrote before committing: what it created,
		// told from the pre-image read under lock.
		rec, ok, err := j.PendingOwnership(ctx, run.ID, d.Device)
		if err == nil && ok {
			err = j.SetOwnership(ctx, d.Device, rec, run.IntentCommit)
		}
		if err != nil {
			return RecoveryAction{Action: action, Err: err}
		}
	}
	return RecoveryAction{Action: action}
}

// undoDevice reverts a plain commit (a device without :confirmed-commit:1.1)
// to the pre-image journaled with it. It reads running first: a device
// already on its pre-image (the commit never landed, or an undo before the
// crash finished) is left alone; any other is undone from what it holds now
// and read back, so an undo the device answered <ok/> to and did not do
// ends mixed, never undone (DESIGN invariant 6).
func undoDevice(ctx context.Context, j *journal.Journal, dialer reconcile.Dialer, inv *schema.Intent, run journal.Run, d journal.DeviceRun, desired, before *configtree.Tree, changes []configtree.Change) RecoveryAction {
	fail := func(err error) RecoveryAction {
		return RecoveryAction{Action: RecoveryManual, Err: reconcile.DeviceErr(d.Device, "undo", err)}
	}
	if desired == nil {
		desired = configtree.New() // a removal: the record's trees make the filter
	}
	c, err := newRecoveryCheck(ctx, j, d.Device, desired, before, changes)
	if err != nil {
		return fail(err)
	}
	dev := inv.Device(d.Device)
	if dev == nil {
		return fail(errors.New("not in the inventory any more"))
	}
	s, err := dialer.Dial(ctx, dev)
	if err != nil {
		return fail(fmt.Errorf("dial: %w", err))
	}
	defer closeQuietly(context.WithoutCancel(ctx), s)
	now, err := s.GetConfig(ctx, reconcile.Running, c.filter)
	if err != nil {
		return fail(fmt.Errorf("reading running: %w", err))
	}
	if c.is(now, c.before) {
		if d.Phase != journal.Undone {
			if err := j.EnterPhase(ctx, run.ID, d.Device, journal.Undone, "", "recovery: running is already the pre-image"); err != nil {
				return RecoveryAction{Action: RecoveryUndone, Err: err}
			}
		}
		return RecoveryAction{Action: RecoveryUndone}
	}
	return c.undo(ctx, j, run, d, s, now)
}

// undoOn brings s back to before under the candidate lock (revert: the
// inverse from running read under that lock, not from the read that decided
// to undo, which someone may have outrun before the lock).
func undoOn(ctx context.Context, s reconcile.Device, filter, before *configtree.Tree) error {
	if err := lockWithin(ctx, s, reconcile.Candidate, DefaultLockWait); err != nil {
		return err
	}
	defer s.Unlock(context.WithoutCancel(ctx), reconcile.Candidate)
	if err := revert(ctx, s, filter, before); err != nil {
		_ = s.Discard(context.WithoutCancel(ctx))
		return err
	}
	return nil
}

// recoveryCheck is what recovery compares running with: the pre-image
// journaled with the commit, and the planned result, under the managed
// filter apply read them with.
type recoveryCheck struct {
	device               string
	filter, before, want *configtree.Tree
}

func newRecoveryCheck(ctx context.Context, j *journal.Journal, device string, desired, preImage *configtree.Tree, changes []configtree.Change) (*recoveryCheck, error) {
	if preImage == nil || desired == nil {
		return nil, errors.New("no pre-image or plan in the journal: compare running with the plan")
	}
	c := &recoveryCheck{device: device, before: preImage}
	var err error
	if c.want, err = configtree.Apply(c.before, changes); err != nil {
		return nil, err
	}
	// The run read through the filter of the record it started from, which
	// is still the journal's: a record changes only once a run lands.
	rec, _, err := j.Ownership(ctx, device)
	if err != nil {
		return nil, err
	}
	if c.filter, err = rec.Filter(desired); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *recoveryCheck) is(now, t *configtree.Tree) bool {
	return pruneEmpty(now).Equal(pruneEmpty(t))
}

// undo brings a device that is on neither side back to its pre-image, and
// reads it again; still not back, it is mixed, journaled so.
func (c *recoveryCheck) undo(ctx context.Context, j *journal.Journal, run journal.Run, d journal.DeviceRun, s reconcile.Device, now *configtree.Tree) RecoveryAction {
	diff := restoreDiff(now, c.before)
	if err := j.EnterPhase(ctx, run.ID, d.Device, journal.Undone, d.PersistID, fmt.Sprintf("recovery: running is neither side (differences from the pre-image: %d): undo from the pre-image", len(diff))); err != nil {
		return RecoveryAction{Action: RecoveryUndone, Err: err}
	}
	uerr := undoOn(ctx, s, c.filter, c.before)
	again, rerr := s.GetConfig(ctx, reconcile.Running, c.filter)
	if rerr == nil && c.is(again, c.before) {
		return RecoveryAction{Action: RecoveryUndone}
	}
	if rerr != nil {
		return RecoveryAction{Action: RecoveryManual, Err: fmt.Errorf("%s: undo: %v; reading running back: %w (state unknown: check the device)", d.Device, uerr, rerr)}
	}
	mixed := &MixedError{Device: d.Device, Diff: restoreDiff(again, c.before), Reason: "the run did not finish", Err: uerr}
	if err := j.EnterPhase(ctx, run.ID, d.Device, journal.PhaseMixed, d.PersistID, "recovery: "+mixed.Error()); err != nil {
		return RecoveryAction{Action: RecoveryMixed, Err: errors.Join(mixed, err)}
	}
	return RecoveryAction{Action: RecoveryMixed, Err: mixed}
}

// lockWithin takes ds, backing off while another session holds it, for at
// most wait.
func lockWithin(ctx context.Context, s reconcile.Device, ds string, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for attempt := 1; ; attempt++ {
		err := s.Lock(ctx, ds)
		if _, busy := contention(err); !busy {
			return err
		}
		if err := sleep(ctx, backoff.Policy{Base: lockBackoffMin, Max: lockBackoffMax}.Delay(attempt)); err != nil {
			return fmt.Errorf("lock %s: still held: %w", ds, err)
		}
	}
}
