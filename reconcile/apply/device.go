package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/netrecon/netrecon/backoff"
	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile"
)

// open dials the device, reads what the journal says netrecon owns there,
// and asks the guard.
func (e *engine) open(ctx context.Context, t *txn) error {
	var err error
	if t.rec, _, err = e.opts.Journal.Ownership(ctx, t.name); err != nil {
		return err
	}
	if t.filter, err = t.rec.Filter(t.desired); err != nil {
		return fmt.Errorf("%s: %w", t.name, err)
	}
	for i, c := range t.changes {
		// A plan made elsewhere may touch what neither tree mentions; the
		// read must cover every node the edit addresses or verify cannot
		// see it.
		if err := coveredByFilter(t.filter, c); err != nil {
			return fmt.Errorf("%s: change %d (%c %s): %w: re-plan", t.name, i, c.Action, c.Path, err)
		}
	}
	e.event(t, "dial", "")
	if t.sess, err = e.opts.Dialer.Dial(ctx, t.dev); err != nil {
		return fmt.Errorf("%s: dial: %w", t.name, err)
	}
	t.confirmed = t.sess.Capabilities().ConfirmedCommit
	if g := e.opts.Guard; g != nil {
		if err := g(ctx, t.dev, t.sess); err != nil {
			return &DeferredError{Device: t.name, Reason: err.Error(), Err: err}
		}
	}
	return nil
}

// coveredByFilter checks that the filter reads every node c's edit
// addresses. EditConfig addresses a node by c.Ancestors and c.Node, not by
// c.Path, and the model of the result (configtree.Apply) follows c.Path: a
// change whose ancestors or node say otherwise would edit one node while
// verify looks at another. So the names, keys and key values of the
// ancestors and the node must spell c.Path, and at every step the filter
// holds, the namespace must be the filter's (a path carries none). Then some
// ancestor being a list entry or a selection node of the filter, which
// selects the whole subtree, puts the node in the read.
func coveredByFilter(f *configtree.Tree, c configtree.Change) error {
	steps, err := configtree.ParsePath(c.Path)
	if err != nil {
		return err
	}
	if len(steps) == 0 || c.Node == nil || len(c.Ancestors) != len(steps)-1 {
		return fmt.Errorf("has %d ancestors and a node for a path of %d steps", len(c.Ancestors), len(steps))
	}
	addressed := append(append([]*configtree.Node(nil), c.Ancestors...), c.Node)
	if slices.Contains(addressed, nil) {
		return errors.New("an ancestor is missing")
	}
	for i, s := range steps {
		if got := addressed[i].PathStep(); got != s.String() {
			return fmt.Errorf("its ancestors and node address %s, not its path (step %d is %s)", addressedPath(addressed), i+1, got)
		}
	}
	p := configtree.Path("")
	for i, s := range steps {
		a := addressed[i]
		p = configtree.Path(string(p) + "/" + s.String())
		n := f.Find(p)
		if n == nil {
			return errors.New("lies outside the managed subtrees (desired and journal)")
		}
		if n.Space != "" && a.Space != n.Space {
			return fmt.Errorf("step %s is in namespace %q, the managed subtree in %q", s, a.Space, n.Space)
		}
		if n.IsEntry() || n.Leaf {
			return nil
		}
	}
	return nil
}

func addressedPath(nodes []*configtree.Node) string {
	var b strings.Builder
	for _, n := range nodes {
		b.WriteString("/" + n.PathStep())
	}
	return b.String()
}

// prepare locks the device and checks the plan still fits it: phase 1a, run
// on every device before any is edited, so that a lock held elsewhere or a
// stale plan costs no commit (and no cancel) anywhere.
func (e *engine) prepare(ctx context.Context, t *txn) error {
	if err := e.to(ctx, t, locked, ""); err != nil {
		return err
	}
	// Candidate, then running: a human committing straight to running
	// (without candidate) would otherwise slip a change in between our read
	// and our commit. RFC 6241 §7.5.
	for _, ds := range []string{reconcile.Candidate, reconcile.Running} {
		if err := e.lock(ctx, t, ds); err != nil {
			return err
		}
	}
	var err error
	if t.before, err = t.sess.GetConfig(ctx, reconcile.Running, t.filter); err != nil {
		return named(t.name, "get-config running", err)
	}
	if got := t.before.Fingerprint(); t.fingerprint != "" && got != t.fingerprint {
		return &StalePlanError{Device: t.name, Want: t.fingerprint, Got: got}
	}
	if t.want, err = configtree.Apply(t.before, t.changes); err != nil {
		// The plan does not fit what the device holds: it is stale even if
		// nobody gave us a fingerprint to prove it.
		return &StalePlanError{Device: t.name, Want: t.fingerprint, Got: t.before.Fingerprint() + " (" + err.Error() + ")"}
	}
	// What netrecon will hold once the commit lands: told from the
	// pre-image read under lock, so a node that was there before is never
	// recorded as created.
	t.next = t.rec.Next(t.before, t.desired)
	return nil
}

// stage is phase 1b on one device: edit, validate, confirmed commit, verify.
func (e *engine) stage(ctx context.Context, t *txn) error {
	// Leftovers of someone else's edit in a shared candidate must not ride
	// along with ours (RFC 6241 §8.3.4.2).
	if err := t.sess.Discard(ctx); err != nil {
		return named(t.name, "discard-changes", err)
	}
	if err := e.to(ctx, t, edited, fmt.Sprintf("%d changes", len(t.changes))); err != nil {
		return err
	}
	if err := t.sess.EditConfig(ctx, reconcile.Candidate, t.changes); err != nil {
		return named(t.name, "edit-config candidate", err)
	}
	if e.opts.validates(t.dev.Platform) && t.sess.Capabilities().Validate {
		if err := t.sess.Validate(ctx, reconcile.Candidate); err != nil {
			return named(t.name, "validate", err)
		}
	}
	co := reconcile.CommitOptions{}
	what := "commit without confirm (no :confirmed-commit:1.1)"
	if t.confirmed {
		t.persist = e.persist
		co = reconcile.CommitOptions{Confirmed: true, Timeout: e.opts.ConfirmTimeout, Persist: t.persist}
		what = fmt.Sprintf("confirmed commit, timeout %s", e.opts.ConfirmTimeout)
	}
	// Write-ahead, like the phase: recovery that rolls this commit forward
	// records this, not the whole desired tree; recovery that undoes it goes
	// back to the pre-image.
	if err := e.opts.Journal.SetPending(ctx, e.id, t.name, t.next, t.before); err != nil {
		return fmt.Errorf("%s: %w", t.name, err)
	}
	if err := e.to(ctx, t, committed, what); err != nil {
		return err
	}
	if err := t.sess.Commit(ctx, co); err != nil {
		return named(t.name, "commit", err)
	}
	return e.verify(ctx, t)
}

// verify re-reads running and compares it with what the plan meant: a device
// may answer <ok/> to a commit and change nothing (yuma123 after <validate>,
// lab/NOTES.md).
func (e *engine) verify(ctx context.Context, t *txn) error {
	after, err := t.sess.GetConfig(ctx, reconcile.Running, t.filter)
	if err != nil {
		return fmt.Errorf("%s: verify: get-config running: %w", t.name, err)
	}
	got, want := pruneEmpty(after), pruneEmpty(t.want)
	if got.Equal(want) {
		e.event(t, "checked", "running equals the planned result")
		return nil
	}
	// DiffAll: the diff also shows what should not be there.
	return &VerifyError{Device: t.name, Diff: configtree.DiffAll(got, want)}
}

// lock takes ds, waiting out another session's lock with capped exponential
// back-off and jitter until Options.LockWait. It never kills the holder's
// session: that may be an operator in the middle of their work
// (DESIGN invariant 5).
func (e *engine) lock(ctx context.Context, t *txn, ds string) error {
	var waited time.Duration
	attempt := 1
	who := ""
	for {
		err := t.sess.Lock(ctx, ds)
		if err == nil {
			t.locked = append(t.locked, ds)
			return nil
		}
		holder, ok := contention(err)
		if !ok {
			return fmt.Errorf("%s: lock %s: %w", t.name, ds, err)
		}
		if who == "" {
			who = e.whoHolds(ctx, t, holder, err)
		}
		if waited >= e.opts.LockWait {
			return &LockTimeoutError{Device: t.name, Target: ds, HeldBy: holder, Holder: who, Waited: waited}
		}
		pause := backoff.Policy{Base: lockBackoffMin, Max: lockBackoffMax}.Jittered(attempt)
		pause = max(min(pause, e.opts.LockWait-waited), time.Millisecond)
		e.report(t, Event{Phase: "lock-wait", Detail: fmt.Sprintf("%s locked by %s; retry in %s", ds, who, pause.Round(time.Millisecond)),
			Retry: pause, HeldBy: who})
		if err := e.opts.Sleep(ctx, pause); err != nil {
			return fmt.Errorf("%s: lock %s: waiting for %s: %w", t.name, ds, who, err)
		}
		waited += pause
		attempt++
	}
}

// whoHolds describes the holder of a lock for people: the session id, and
// the user and host the device lists for it in netconf-state (RFC 6022), so
// the operator on the other end can be asked rather than guessed at.
func (e *engine) whoHolds(ctx context.Context, t *txn, holder string, err error) string {
	if holder == "" {
		return "another session (" + err.Error() + ")"
	}
	who := "session " + holder
	sessions, serr := t.sess.Sessions(ctx)
	if serr != nil {
		return who
	}
	for _, s := range sessions {
		if s.ID == holder {
			who += " (" + s.Username
			if s.SourceHost != "" {
				who += " from " + s.SourceHost
			}
			if !s.LoginTime.IsZero() {
				who += ", logged in " + s.LoginTime.UTC().Format(time.RFC3339)
			}
			return who + ")"
		}
	}
	return who
}

// contention tells a lock refused because someone else is busy with the
// datastore — a lock held by another session (lock-denied, naming it), or a
// confirmed commit of another session still pending (netconfd answers
// in-use) — from a real failure. Both end by themselves: wait, never kill.
func contention(err error) (holder string, ok bool) {
	var held *reconcile.LockHeldError
	if errors.As(err, &held) {
		return held.HeldBy, true
	}
	return "", errors.Is(err, reconcile.ErrInUse)
}

// confirm is phase 2 on one device: the confirming commit, the record of
// what netrecon now owns there, unlock.
func (e *engine) confirm(ctx context.Context, t *txn) error {
	if err := e.to(ctx, t, confirming, ""); err != nil {
		// Not journaled, so not sent: the commit stays pending and rolls
		// back at its confirm-timeout. Unlock, or the locks stay with the
		// session until the process exits.
		e.release(ctx, t, false)
		return err
	}
	if t.confirmed {
		if err := e.confirmCommit(ctx, t); err != nil {
			// Too late to roll the others back: they are confirmed. Loud,
			// journaled, and the run ends "failed" for a human to look at.
			e.log.Error("confirming commit failed after phase 2 began; the device rolls back at its confirm-timeout", "device", t.name, "err", err)
			if jerr := e.to(context.WithoutCancel(ctx), t, failed, err.Error()); jerr != nil {
				e.log.Error("journal", "device", t.name, "err", jerr)
			}
			e.release(ctx, t, true)
			return err
		}
	}
	if err := e.opts.Journal.SetOwnership(context.WithoutCancel(ctx), t.name, t.next, e.opts.IntentCommit); err != nil {
		// The device is right; the record of ownership is not. Loud, but the
		// change itself stands.
		e.log.Error("journal: recording ownership failed; the next plan may not delete what this run created", "device", t.name, "err", err)
	}
	e.release(ctx, t, false)
	return e.to(ctx, t, done, "")
}

// confirmCommit sends the confirming commit, on a fresh session if the old
// one died: the persist id lets any session confirm (RFC 6241 §8.4.1).
func (e *engine) confirmCommit(ctx context.Context, t *txn) error {
	err := t.sess.Commit(ctx, reconcile.CommitOptions{PersistID: t.persist})
	if err == nil {
		return nil
	}
	if !errors.Is(err, reconcile.ErrSessionLost) {
		return fmt.Errorf("%s: confirming commit: %w (the device rolls back after the confirm-timeout)", t.name, err)
	}
	e.log.Warn("confirming commit failed; retrying on a new session", "device", t.name, "err", err)
	s, derr := e.opts.Dialer.Dial(ctx, t.dev)
	if derr != nil {
		return fmt.Errorf("%s: confirming commit: %w; redial: %w", t.name, err, derr)
	}
	_ = t.sess.Close(context.WithoutCancel(ctx))
	t.sess, t.locked = s, nil
	if err := s.Commit(ctx, reconcile.CommitOptions{PersistID: t.persist}); err != nil {
		return fmt.Errorf("%s: confirming commit on a new session: %w", t.name, err)
	}
	return nil
}

// rollback returns the device to its configuration before the run: cancel
// the confirmed commit, or undo a plain one, or just discard the candidate;
// then read running back, undo from the pre-image what is still there, and
// unlock. A device it cannot bring back is mixed (*MixedError), never rolled
// back. It runs detached from the caller's context: a cancelled apply must
// still clean up rather than leave it to the confirm-timeout.
func (e *engine) rollback(ctx context.Context, t *txn, cause string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	var deferred *DeferredError
	if errors.As(t.err, &deferred) {
		// Nothing was locked or changed: the guard spoke before.
		err := e.to(ctx, t, skipped, deferred.Reason)
		e.release(ctx, t, false)
		if err != nil {
			e.log.Error("journal", "device", t.name, "err", err)
		}
		return
	}
	// A device that failed on its own (not merely rolled back because
	// another failed) journals its own reason, whoever failed first.
	var rb *RolledBackError
	failedHere := t.err != nil && !errors.As(t.err, &rb)
	var errs []error // journal failures
	var stepErr error
	step := t.rollbackStep()
	switch {
	case step == "cancel-commit":
		errs = append(errs, e.to(ctx, t, cancelled, "cancel-commit: "+reasonOf(t, cause)))
		stepErr = e.cancelCommit(ctx, t)
	case step == "undo":
		errs = append(errs, e.to(ctx, t, undone, "undo from the pre-image: "+reasonOf(t, cause)))
		stepErr = e.undo(ctx, t, t.want)
	case failedHere:
	case step == "discard":
		errs = append(errs, e.to(ctx, t, cancelled, "discarded: "+reasonOf(t, cause)))
	default:
		errs = append(errs, e.to(ctx, t, skipped, reasonOf(t, cause)))
	}
	var checkErr error
	if t.before != nil {
		// A device answering <ok/> proves nothing (DESIGN invariant 6).
		checkErr = e.settle(ctx, t, stepErr, step, cause)
	} else if stepErr != nil {
		checkErr = stepErr
	}
	e.release(ctx, t, true)
	if failedHere {
		errs = append(errs, e.to(ctx, t, failed, t.err.Error()))
	}
	var mx *MixedError
	if errors.As(checkErr, &mx) {
		errs = append(errs, e.to(ctx, t, mixed, mx.Error()))
		if failedHere {
			t.err = errors.Join(t.err, mx)
		} else {
			// Not "rolled back because ...": it was not.
			mx.Reason = cause + " failed"
			t.err = mx
		}
		e.log.Error("rollback left the device mixed: neither its old nor its new configuration", "device", t.name, "err", mx)
		checkErr = nil
	}
	errs = append(errs, checkErr)
	if err := errors.Join(errs...); err != nil {
		// The device may be left on the new configuration: make it loud,
		// and keep the run from reading as rolled back.
		t.err = errors.Join(t.err, fmt.Errorf("%s: rollback: %w", t.name, err))
		if t.phase != mixed {
			_ = e.to(ctx, t, unknown, err.Error())
		}
		e.log.Error("rollback failed", "device", t.name, "err", err)
	}
}

func reasonOf(t *txn, cause string) string {
	var rb *RolledBackError
	if t.err != nil && !errors.As(t.err, &rb) {
		return t.err.Error()
	}
	return cause + " failed"
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
			return fmt.Errorf("%s: cancel-commit: %w; redial: %w", t.name, err, derr)
		}
		err = t.sess.CancelCommit(ctx, t.persist)
	}
	if err != nil {
		return named(t.name, "cancel-commit", err)
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
		detail := fmt.Sprintf("running kept %d changes after %s: undo from the pre-image: %s failed", len(diff), step, cause)
		if err := e.to(ctx, t, undone, detail); err != nil {
			return errors.Join(stepErr, err)
		}
		uerr := e.undo(ctx, t, now)
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

// undo reverts a commit with the inverse changes from what the device holds
// (from: the planned result, or running as read back) to the pre-image read
// under lock before the edit, committed plainly under the candidate lock.
func (e *engine) undo(ctx context.Context, t *txn, from *configtree.Tree) error {
	if t.before == nil || from == nil {
		return fmt.Errorf("%s: undo: no pre-image", t.name)
	}
	inverse := restoreDiff(from, t.before)
	if len(inverse) == 0 {
		return nil
	}
	if !slices.Contains(t.locked, reconcile.Candidate) {
		// A new session (the old one died): the edit needs the lock again.
		if err := e.lock(ctx, t, reconcile.Candidate); err != nil {
			return fmt.Errorf("%s: undo: %w", t.name, err)
		}
	}
	if err := t.sess.Discard(ctx); err != nil {
		return fmt.Errorf("%s: undo: discard-changes: %w", t.name, err)
	}
	if err := t.sess.EditConfig(ctx, reconcile.Candidate, inverse); err != nil {
		return fmt.Errorf("%s: undo: edit-config: %w", t.name, err)
	}
	if err := t.sess.Commit(ctx, reconcile.CommitOptions{}); err != nil {
		return fmt.Errorf("%s: undo: commit: %w", t.name, err)
	}
	return nil
}

// release discards the candidate (after a failure), unlocks and closes the
// session, reporting each failure: a lock left behind blocks every operator.
func (e *engine) release(ctx context.Context, t *txn, discard bool) {
	if t.sess == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
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

func closeQuietly(ctx context.Context, s reconcile.Device) {
	_ = s.Close(ctx)
}

// named prefixes err with the device and operation, unless it names the
// device already: the driver's errors read "pe1: commit: ...", and a second
// "pe1: commit:" in front helps nobody.
func named(dev, op string, err error) error {
	if strings.HasPrefix(err.Error(), dev+": ") {
		return err
	}
	return fmt.Errorf("%s: %s: %w", dev, op, err)
}
