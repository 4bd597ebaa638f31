package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile"
)

// abort rolls back every device of the change set because cause failed.
func (e *engine) abort(ctx context.Context, txs []*txn, cause *txn) {
	e.log.Warn("rolling back the change set", "device", cause.name, "err", cause.err)
	stopped := e.stopped()
	for _, t := range txs {
		switch {
		case t.err != nil:
		case stopped:
			t.err = &StoppedError{Device: t.name}
		default:
			t.err = &RolledBackError{Device: t.name, Cause: cause.name}
		}
	}
	e.rollback(ctx, txs, cause)
}

// undoing is one device's rollback.
type undoing struct {
	t     *txn
	cause string // whose failure it answers
	step  string // rollbackStep, told before the device moves
	// failedHere: the device failed on its own (not merely rolled back
	// because another failed, or because the apply was stopped), and journals its own reason, whoever failed
	// first.
	failedHere bool
	deferred   *DeferredError
	checkErr   error   // the read back, or the step where there is none
	errs       []error // journal failures
}

// rollback returns every device of txs to its configuration before the run:
// cancel the confirmed commit, or undo a plain one, or just discard the
// candidate; then read running back, undo from the pre-image what is still
// there, and unlock. A device it cannot bring back is mixed (*MixedError),
// never rolled back. The rollback steps are journaled for all the devices in
// one transaction before any is sent, and the failed and mixed devices in
// one after; only a device found on neither side before its undo is
// journaled alone (settle). cause is the device whose failure rolls txs
// back; nil: each device failed on its own. It runs on e.detached: apart
// from the caller's context unless Options.Stop is set, so a cancelled apply
// still cleans up rather than leave it to the confirm-timeout.
func (e *engine) rollback(ctx context.Context, txs []*txn, cause *txn) {
	ctx = e.detached(ctx)
	us := make([]*undoing, len(txs))
	byTxn := make(map[*txn]*undoing, len(txs))
	var steps []mark
	for i, t := range txs {
		u := &undoing{t: t, cause: t.name, step: t.rollbackStep()}
		if cause != nil {
			u.cause = cause.name
		}
		u.failedHere = t.err != nil && !innocent(t.err)
		reason := reasonOf(t, u.cause)
		switch {
		case errors.As(t.err, &u.deferred):
			// Nothing was locked or changed: the guard spoke before.
			steps = append(steps, mark{t, skipped, u.deferred.Reason})
		case u.step == "cancel-commit":
			steps = append(steps, mark{t, cancelled, "cancel-commit: " + reason})
		case u.step == "undo":
			steps = append(steps, mark{t, undone, "undo from the pre-image: " + reason})
		case u.failedHere:
		case u.step == "discard":
			steps = append(steps, mark{t, cancelled, "discarded: " + reason})
		default:
			steps = append(steps, mark{t, skipped, reason})
		}
		us[i] = u
		byTxn[t] = u
	}
	if err := e.record(ctx, "rollback", steps); err != nil {
		// Rolled back all the same: the safe side. Each is loud below.
		for _, m := range steps {
			byTxn[m.t].errs = append(byTxn[m.t].errs, err)
		}
	}
	e.each(ctx, txs, nil, func(ctx context.Context, t *txn) error {
		e.rollbackOne(ctx, byTxn[t])
		return nil
	})
	var outcomes []mark
	var marked []*undoing
	for _, u := range us {
		n := len(outcomes)
		if u.failedHere && u.deferred == nil {
			outcomes = append(outcomes, mark{u.t, failed, u.t.err.Error()})
		}
		var mx *MixedError
		if errors.As(u.checkErr, &mx) {
			outcomes = append(outcomes, mark{u.t, mixed, mx.Error()})
		}
		if len(outcomes) > n {
			marked = append(marked, u)
		}
	}
	if err := e.record(ctx, "outcome", outcomes); err != nil {
		for _, u := range marked {
			u.errs = append(u.errs, err)
		}
	}
	for _, u := range us {
		e.rolledBack(ctx, u)
	}
}

// rollbackOne is one device's rollback step and read back, journaled
// already, then unlock.
func (e *engine) rollbackOne(ctx context.Context, u *undoing) {
	ctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
	defer cancel()
	t := u.t
	if u.deferred != nil {
		e.release(ctx, t, false)
		return
	}
	var stepErr error
	switch u.step {
	case "cancel-commit":
		stepErr = e.cancelCommit(ctx, t)
	case "undo":
		stepErr = e.undo(ctx, t)
	}
	if t.before != nil {
		// A device answering <ok/> proves nothing (DESIGN invariant 6).
		u.checkErr = e.settle(ctx, t, stepErr, u.step, u.cause)
	} else if stepErr != nil {
		u.checkErr = stepErr
	}
	e.release(ctx, t, true)
}

// rolledBack tells the device's error from its rollback: a mixed device
// says so rather than "rolled back", and one whose rollback failed or was
// not journaled is in an unknown state.
func (e *engine) rolledBack(ctx context.Context, u *undoing) {
	t := u.t
	if u.deferred != nil {
		if err := errors.Join(u.errs...); err != nil {
			e.log.Error("journal", "device", t.name, "err", err)
		}
		return
	}
	var mx *MixedError
	if errors.As(u.checkErr, &mx) {
		if u.failedHere {
			t.err = errors.Join(t.err, mx)
		} else {
			// Not "rolled back because ...": it was not.
			mx.Reason = reasonOf(t, u.cause)
			t.err = mx
		}
		e.log.Error("rollback left the device mixed: neither its old nor its new configuration", "device", t.name, "err", mx)
		u.checkErr = nil
	}
	if err := errors.Join(append(u.errs, u.checkErr)...); err != nil {
		// The device may be left on the new configuration: make it loud,
		// and keep the run from reading as rolled back.
		t.err = errors.Join(t.err, fmt.Errorf("%s: rollback: %w", t.name, err))
		if t.phase != mixed {
			_ = e.to(ctx, t, unknown, err.Error())
		}
		e.log.Error("rollback failed", "device", t.name, "err", err)
	}
}

// reasonOf says why t is rolled back: its own failure, the stop, or the
// device of the change set that failed.
func reasonOf(t *txn, cause string) string {
	var st *StoppedError
	switch {
	case errors.As(t.err, &st):
		return "the apply was stopped before the confirm step"
	case t.err != nil && !innocent(t.err):
		return t.err.Error()
	}
	return cause + " failed"
}

// innocent reports whether err only says the device was rolled back with
// its change set (another device failed, or the apply was stopped): nothing
// is wrong with the device itself.
func innocent(err error) bool {
	var rb *RolledBackError
	var st *StoppedError
	return errors.As(err, &rb) || errors.As(err, &st)
}

// cancelCommit cancels the run's confirmed commit, on a new session if the
// old one died. Its answer decides nothing: settle reads running back. (A
// device with no such commit any more rolled back by itself — the
// confirm-timeout, or a commit that never landed — or lost it to the quirk
// below; only running tells which.)
func (e *engine) cancelCommit(ctx context.Context, t *txn) error {
	// yuma123 netconfd answers <ok/> to a cancel-commit from a session that
	// holds the lock on running, ends the pending commit and restores
	// nothing, for good; with only the candidate locked it rolls back
	// (lab/NOTES.md "More server behaviour", re-checked with raw XML). So
	// running is unlocked first. Nobody slips in meanwhile: the candidate
	// stays locked, and the pending confirmed commit keeps other sessions'
	// locks out (in-use) until it is cancelled.
	e.unlock(ctx, t, reconcile.Running)
	err := t.sess.CancelCommit(ctx, t.persist)
	if errors.Is(err, reconcile.ErrSessionLost) {
		if derr := e.redial(ctx, t); derr != nil {
			return reconcile.DeviceErr(t.name, "cancel-commit", fmt.Errorf("%w; redial: %w", err, derr))
		}
		err = t.sess.CancelCommit(ctx, t.persist)
	}
	if err != nil {
		return reconcile.DeviceErr(t.name, "cancel-commit", err)
	}
	return nil
}

// settle reads running back after a rollback step and compares it with the
// pre-image. When it differs and no undo was tried yet, it undoes from the
// pre-image what running holds (an inverse edit) and reads again. A device
// still not back is a *MixedError; one that cannot be read, an error that
// says the state is unknown. stepErr is the rollback step's failure, if any:
// a device back on its pre-image has settled whatever it answered.
func (e *engine) settle(ctx context.Context, t *txn, stepErr error, step, cause string) error {
	now, err := e.readBack(ctx, t)
	if err != nil {
		return errors.Join(stepErr, fmt.Errorf("%s: reading running back after the rollback: %w (state unknown: check the device)", t.name, err))
	}
	if pruneEmpty(now).Equal(pruneEmpty(t.before)) {
		if stepErr != nil {
			e.log.Info("rollback step failed, but running is the pre-image", "device", t.name, "err", stepErr)
		}
		e.event(t, "checked", "running equals the pre-image")
		return nil
	}
	diff := restoreDiff(now, t.before)
	if step != "undo" {
		e.log.Warn("running is not the pre-image after the rollback; undoing from the pre-image", "device", t.name, "differences", len(diff), "step_err", stepErr)
		why := cause + " failed"
		if innocent(t.err) {
			why = reasonOf(t, cause)
		}
		detail := fmt.Sprintf("running kept changes after %s (differences: %d): undo from the pre-image: %s", step, len(diff), why)
		if err := e.to(ctx, t, undone, detail); err != nil {
			return errors.Join(stepErr, err)
		}
		uerr := e.undo(ctx, t)
		return e.settle(ctx, t, errors.Join(stepErr, uerr), "undo", cause)
	}
	return &MixedError{Device: t.name, Diff: diff, Err: stepErr}
}

// restoreDiff is the changes that turn running (now) into the pre-image.
// Every node of now may be removed: within the managed subtrees, what the
// pre-image lacks was put there by this run under its lock.
func restoreDiff(now, before *configtree.Tree) []configtree.Change {
	return configtree.DiffAll(pruneEmpty(now), pruneEmpty(before))
}

// readBack reads running under the device's filter, on a new session if the
// old one died.
func (e *engine) readBack(ctx context.Context, t *txn) (*configtree.Tree, error) {
	if t.sess == nil {
		if err := e.redial(ctx, t); err != nil {
			return nil, err
		}
	}
	now, err := t.sess.GetConfig(ctx, reconcile.Running, t.filter)
	if errors.Is(err, reconcile.ErrSessionLost) {
		if derr := e.redial(ctx, t); derr != nil {
			return nil, fmt.Errorf("%w; redial: %w", err, derr)
		}
		now, err = t.sess.GetConfig(ctx, reconcile.Running, t.filter)
	}
	return now, err
}

// redial replaces the device's session with a new one; the old one's locks
// died with it.
func (e *engine) redial(ctx context.Context, t *txn) error {
	s, err := e.opts.Dialer.Dial(ctx, t.dev)
	if err != nil {
		return err
	}
	if t.sess != nil {
		closeQuietly(ctx, t.sess)
	}
	t.sess, t.locked = s, nil
	return nil
}

// unlock releases one datastore this session locked, early.
func (e *engine) unlock(ctx context.Context, t *txn, ds string) {
	i := slices.Index(t.locked, ds)
	if i < 0 {
		return
	}
	if err := t.sess.Unlock(ctx, ds); err != nil && !errors.Is(err, reconcile.ErrSessionLost) {
		e.log.Warn("unlock failed", "device", t.name, "datastore", ds, "err", err)
	}
	t.locked = slices.Delete(t.locked, i, i+1)
}

// undo reverts a commit to the pre-image read under lock before the edit
// (revert), under the candidate lock, taken again on a new session.
func (e *engine) undo(ctx context.Context, t *txn) error {
	if t.before == nil {
		return fmt.Errorf("%s: undo: no pre-image", t.name)
	}
	if !slices.Contains(t.locked, reconcile.Candidate) {
		// A new session (the old one died): the edit needs the lock again.
		if err := e.lock(ctx, t, reconcile.Candidate); err != nil {
			return fmt.Errorf("%s: undo: %w", t.name, err)
		}
	}
	if err := revert(ctx, t.sess, t.filter, t.before); err != nil {
		return fmt.Errorf("%s: undo: %w", t.name, err)
	}
	return nil
}

// revert commits plainly, on s whose candidate lock the caller holds, the
// changes that turn running into before. Running is read here, under that
// lock, and the inverse computed from what it holds: never from what the
// device should hold (the planned result) nor from a read before the lock.
// A remove of an entry the device lacks is not always harmless: yuma123
// netconfd refuses it when the entry's parent is gone too (data-missing,
// docs/quirks.md), which fails the whole undo and leaves the device
// half-applied. An inverse from running removes only what running holds.
func revert(ctx context.Context, s reconcile.Device, filter, before *configtree.Tree) error {
	now, err := s.GetConfig(ctx, reconcile.Running, filter)
	if err != nil {
		return fmt.Errorf("get-config running: %w", err)
	}
	inverse := restoreDiff(now, before)
	if len(inverse) == 0 {
		return nil
	}
	if err := s.Discard(ctx); err != nil {
		return fmt.Errorf("discard-changes: %w", err)
	}
	if err := s.EditConfig(ctx, reconcile.Candidate, inverse); err != nil {
		return fmt.Errorf("edit-config: %w", err)
	}
	if err := s.Commit(ctx, reconcile.CommitOptions{}); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// release discards the candidate (after a failure), unlocks and closes the
// session, reporting each failure: a lock left behind blocks every operator.
func (e *engine) release(ctx context.Context, t *txn, discard bool) {
	if t.sess == nil {
		return
	}
	ctx, cancel := context.WithTimeout(e.detached(ctx), cleanupTimeout)
	defer cancel()
	if discard && len(t.locked) > 0 {
		if err := t.sess.Discard(ctx); err != nil {
			e.log.Warn("discard-changes failed", "device", t.name, "err", err)
		}
	}
	for i := len(t.locked) - 1; i >= 0; i-- {
		if err := t.sess.Unlock(ctx, t.locked[i]); err != nil && !errors.Is(err, reconcile.ErrSessionLost) {
			e.log.Warn("unlock failed; the lock ends with the session", "device", t.name, "datastore", t.locked[i], "err", err)
		}
	}
	t.locked = nil
	closeQuietly(ctx, t.sess)
	t.sess = nil
}

// end ends t's session, with whatever locks it holds (Options.EndSessions):
// for a device done with the run, which sent its confirming commit. A pooled
// session is handed back to be ended (a lease's End); any other is closed.
func (e *engine) end(ctx context.Context, t *txn) {
	if t.sess == nil {
		return
	}
	ctx, cancel := context.WithTimeout(e.detached(ctx), cleanupTimeout)
	defer cancel()
	var err error
	if s, ok := t.sess.(interface{ End(context.Context) error }); ok {
		err = s.End(ctx)
	} else {
		err = t.sess.Close(ctx)
	}
	if err != nil && !errors.Is(err, reconcile.ErrSessionLost) {
		e.log.Warn("ending the session failed; its locks end when the device drops it", "device", t.name, "err", err)
	}
	t.locked, t.sess = nil, nil
}

func closeQuietly(ctx context.Context, s reconcile.Device) {
	_ = s.Close(ctx)
}
