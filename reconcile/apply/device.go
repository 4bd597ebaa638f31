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
	"github.com/netrecon/netrecon/reconcile/journal"
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
		return reconcile.DeviceErr(t.name, "dial", err)
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
		return fmt.Errorf("its ancestors and node do not spell its path (ancestors: %d, path steps: %d)", len(c.Ancestors), len(steps))
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

// prepare is the locked step: it locks the device, checks the plan still
// fits it, and clears the candidate — run on every device before any is
// edited, so that a lock held elsewhere or a stale plan costs no commit (and
// no cancel) anywhere.
func (e *engine) prepare(ctx context.Context, t *txn) error {
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
		return reconcile.DeviceErr(t.name, "get-config running", err)
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
	// Leftovers of someone else's edit in a shared candidate must not ride
	// along with ours (RFC 6241 §8.3.4.2).
	if err := t.sess.Discard(ctx); err != nil {
		return reconcile.DeviceErr(t.name, "discard-changes", err)
	}
	return nil
}

// edit is the edited step: the plan's changes into the candidate, validated
// where the platform allows it.
func (e *engine) edit(ctx context.Context, t *txn) error {
	if err := t.sess.EditConfig(ctx, reconcile.Candidate, t.changes); err != nil {
		return reconcile.DeviceErr(t.name, "edit-config candidate", err)
	}
	if e.opts.validates(t.dev.Platform) && t.sess.Capabilities().Validate {
		if err := t.sess.Validate(ctx, reconcile.Candidate); err != nil {
			return reconcile.DeviceErr(t.name, "validate", err)
		}
	}
	return nil
}

func changesDetail(t *txn) string { return fmt.Sprintf("changes: %d", len(t.changes)) }

// commit is the committed step: the confirmed commit (a plain one on a
// device without :confirmed-commit:1.1), then verify. Its phase was
// journaled with the persist id, the pre-image and the pending record
// (enter): recovery that rolls this commit forward records the pending
// record, not the whole desired tree; recovery that undoes it goes back to
// the pre-image.
func (e *engine) commit(ctx context.Context, t *txn) error {
	co := reconcile.CommitOptions{}
	if t.confirmed {
		co = reconcile.CommitOptions{Confirmed: true, Timeout: e.opts.ConfirmTimeout, Persist: t.persist}
	}
	if err := t.sess.Commit(ctx, co); err != nil {
		return reconcile.DeviceErr(t.name, "commit", err)
	}
	t.commitOK = true
	return e.verify(ctx, t)
}

func (e *engine) commitDetail(t *txn) string {
	if t.confirmed {
		return fmt.Sprintf("confirmed commit, timeout %s", e.opts.ConfirmTimeout)
	}
	return "commit without confirm (no :confirmed-commit:1.1)"
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
			return reconcile.DeviceErr(t.name, "lock "+ds, err)
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

// phase2 confirms the change set: confirmed journaled for every device,
// then the confirming commits, then, one journal write each, the devices
// whose confirm failed and the ownership records of the others, while the
// sessions are unlocked and handed back (or ended: Options.EndSessions).
// Too late to roll back: a device whose confirm fails is failed, loudly, and
// rolls back by itself at its confirm-timeout.
func (e *engine) phase2(ctx context.Context, txs []*txn) {
	s := step{phase: confirming, act: e.confirm}
	if err := e.enter(ctx, txs, s); err != nil {
		// Not journaled, so not sent: the commits stay pending and roll
		// back at their confirm-timeout. Unlock, or the locks stay with the
		// sessions until the process exits.
		e.each(ctx, txs, nil, func(ctx context.Context, t *txn) error {
			e.release(ctx, t, false)
			return nil
		})
		return
	}
	e.each(ctx, txs, &s, s.act)
	// The sessions are released (or ended) while the journal records the
	// outcome: neither waits for the other, and a crash between them leaves
	// the confirmed phase, which recovery settles from the device.
	released := make(chan struct{})
	go func() {
		defer close(released)
		e.each(ctx, txs, nil, func(ctx context.Context, t *txn) error {
			if t.err == nil && e.opts.EndSessions {
				e.end(ctx, t)
			} else {
				e.release(ctx, t, t.err != nil)
			}
			return nil
		})
	}()
	defer func() {
		<-released
		for _, t := range txs {
			if t.err == nil {
				_ = e.to(ctx, t, done, "") // memory only: cannot fail
			}
		}
	}()
	wctx := context.WithoutCancel(ctx) // the run's end is a fact even for a caller who gave up
	var fails []mark
	var owned []journal.Owned
	for _, t := range txs {
		if t.err != nil {
			fails = append(fails, mark{t, failed, t.err.Error()})
		} else {
			// The pending record journaled with its commit.
			owned = append(owned, journal.Owned{Device: t.name, Record: t.next, FromRun: e.id})
		}
	}
	if err := e.record(wctx, "outcome", fails); err != nil {
		e.log.Error("journal", "err", err)
	}
	if len(owned) > 0 {
		e.batchEvent("owned", len(owned))
		if err := e.opts.Journal.SetOwnerships(wctx, owned, e.opts.IntentCommit); err != nil {
			// The devices are right; the records of ownership are not.
			// Loud, but the changes stand.
			e.log.Error("journal: recording ownership failed; the next plan may not delete what this run created", "devices", len(owned), "err", err)
		}
	}
}

// confirm is phase 2 on one device: the confirming commit.
func (e *engine) confirm(ctx context.Context, t *txn) error {
	if !t.confirmed {
		return nil // committed for good already
	}
	if err := e.confirmCommit(ctx, t); err != nil {
		e.log.Error("confirming commit failed after phase 2 began; the device rolls back at its confirm-timeout", "device", t.name, "err", err)
		return err
	}
	return nil
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
