package apply

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/schema"
)

// TestCrashRecovery stops an apply dead at each phase boundary of one device
// (crash: no further RPC, no further journal write, sessions dropped as a
// dying process drops them), then recovers from
// the journal: every device ends on exactly the old or the new configuration,
// all of them on the same one.
func TestCrashRecovery(t *testing.T) {
	phases := []struct {
		phase journal.Phase
		want  string // "old", "new", or "same" (either, but all alike)
	}{
		{journal.Locked, "old"},
		{journal.Edited, "old"},
		{journal.Committed, "old"},
		{journal.Verified, "same"},
		{journal.Confirmed, "new"},
	}
	for _, c := range phases {
		t.Run(string(c.phase), func(t *testing.T) {
			env := newSim(t, 3)
			cr := newCrash(t, env, "pe002", c.phase)
			j := cr.j
			old := desiredFor(t, env, "old")
			if _, err := Apply(t.Context(), planLive(t, env, old, j), old, env.inv, Options{Dialer: env.dialer, Journal: j}); err != nil {
				t.Fatal(err)
			}
			desired := desiredFor(t, env, "new")
			p := planLive(t, env, desired, j)
			res, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: cr.dialer(env.dialer), Journal: j, Reporter: cr, ConfirmTimeout: time.Minute})
			if !cr.stopped(err) {
				t.Fatalf("apply: %v, want halted", err)
			}
			j = cr.reopen(t)
			un, err := j.Unfinished(t.Context())
			if err != nil || len(un) != 1 || un[0].ID != res.RunID {
				t.Fatalf("unfinished runs %+v, %v", un, err)
			}
			acts, err := Recover(t.Context(), j, env.dialer, env.inv, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range acts {
				t.Logf("%s: %s %v", a.Device, a.Action, a.Err)
				if a.Err != nil {
					t.Errorf("%s: %v", a.Device, a.Err)
				}
			}
			if un, _ := j.Unfinished(t.Context()); len(un) != 0 {
				t.Errorf("still unfinished: %+v", un)
			}
			run, _ := j.Run(t.Context(), res.RunID)
			if run.Outcome != journal.Recovered {
				t.Errorf("outcome %s", run.Outcome)
			}
			// The state must be final: nothing left to time out.
			for _, d := range env.sim.Devices() {
				if d.ConfirmPending() {
					t.Errorf("%s: confirmed commit still pending after recovery", d.Name)
				}
			}
			onOld, onNew := 0, 0
			for _, d := range env.sim.Devices() {
				switch got := d.Running(); {
				case got.Equal(old[d.Name]):
					onOld++
				case got.Equal(desired[d.Name]):
					onNew++
				default:
					t.Errorf("%s: half-applied:\n%s", d.Name, got)
				}
			}
			t.Logf("crash at %s: %d old, %d new", c.phase, onOld, onNew)
			switch {
			case c.want == "old" && onOld != 3, c.want == "new" && onNew != 3, onOld != 3 && onNew != 3:
				t.Errorf("want all %s, got %d old and %d new", c.want, onOld, onNew)
			}
			// And the next plan agrees with the journal's ownership.
			if onNew == 3 {
				if s := planLive(t, env, desired, j).Summary(); s.HasChanges() {
					t.Errorf("plan after roll-forward has changes %+v", s)
				}
			}
		})
	}
}

// noConfirm hides :confirmed-commit from a session, as an older router would.
type noConfirm struct{ reconcile.Device }

func (n noConfirm) Capabilities() reconcile.Capabilities {
	c := n.Device.Capabilities()
	c.ConfirmedCommit = false
	return c
}

func TestUndoWithoutConfirmedCommit(t *testing.T) {
	env := newSim(t, 3)
	old := desiredFor(t, env, "old")
	if _, err := Apply(t.Context(), planLive(t, env, old, nil), old, env.inv, Options{Dialer: env.dialer, Journal: openJournal(t)}); err != nil {
		t.Fatal(err)
	}
	dialer := reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
		d, err := env.dialer.Dial(ctx, dev)
		if err != nil {
			return nil, err
		}
		return noConfirm{d}, nil
	})
	desired := desiredFor(t, env, "new")
	desired["pe001"] = ifaces(t, "svc-a", "ge-0/0/1", "new", "ge-0/0/7", "added") // a create, an update and a delete
	p := planLive(t, env, desired, nil)
	// pe001 commits plainly and verifies; pe003 fails verification.
	env.sim.Device("pe003").LoseCommitAfterValidate(true)
	res, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: dialer, Journal: openJournal(t), Validate: map[string]bool{"ietf": true}, Concurrency: 1})
	var ve *VerifyError
	if !errors.As(err, &ve) || res.Outcome != journal.RolledBack {
		t.Fatalf("outcome %s, err %v", res.Outcome, err)
	}
	if res.Devices[0].Phase != string(journal.Undone) {
		t.Errorf("pe001 phase %s, want undone", res.Devices[0].Phase)
	}
	for _, d := range env.sim.Devices() {
		if d.RPCCount("confirmed-commit") != 0 {
			t.Errorf("%s: confirmed commit sent", d.Name)
		}
	}
	sameConfig(t, env, old, "after undo")
}

// TestRecoverAfterConfirmTimeout: netrecon stayed dead past the
// confirm-timeout, so the devices rolled back by themselves; recovery finds
// no commit to cancel and says so.
func TestRecoverAfterConfirmTimeout(t *testing.T) {
	env := newSim(t, 3)
	cr := newCrash(t, env, "pe003", journal.Committed)
	j := cr.j
	desired := desiredFor(t, env, "new")
	p := planLive(t, env, desired, j)
	// Concurrency 1 and a crash as pe003 is about to commit: pe001 and
	// pe002 have committed, with a confirm-timeout of 1 s.
	_, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: cr.dialer(env.dialer), Journal: j, Reporter: cr, ConfirmTimeout: time.Second, Concurrency: 1})
	if !cr.stopped(err) {
		t.Fatalf("apply: %v", err)
	}
	j = cr.reopen(t)
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for pending := true; pending; <-tick.C {
		pending = false
		for _, d := range env.sim.Devices() {
			pending = pending || d.ConfirmPending()
		}
		if time.Now().After(deadline) {
			t.Fatal("confirm-timeout did not roll the devices back")
		}
	}
	acts, err := Recover(t.Context(), j, env.dialer, env.inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != 3 {
		t.Fatalf("actions %+v", acts)
	}
	for _, a := range acts {
		if a.Action != RecoveryAlreadyRolledBack || a.Err != nil {
			t.Errorf("%s: %s %v", a.Device, a.Action, a.Err)
		}
	}
	sameConfig(t, env, nil, "after the timeout and recovery")
}

// TestRecoverUndoesPlainCommit: devices without confirmed commit commit
// plainly; after a crash before phase 2, recovery undoes them from the
// pre-image journaled with the commit.
func TestRecoverUndoesPlainCommit(t *testing.T) {
	env := newSim(t, 3)
	cr := newCrash(t, env, "pe003", journal.Committed)
	j := cr.j
	old := desiredFor(t, env, "old")
	if _, err := Apply(t.Context(), planLive(t, env, old, j), old, env.inv, Options{Dialer: env.dialer, Journal: j}); err != nil {
		t.Fatal(err)
	}
	dialer := reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
		d, err := env.dialer.Dial(ctx, dev)
		if err != nil {
			return nil, err
		}
		return noConfirm{d}, nil
	})
	desired := desiredFor(t, env, "new")
	desired["pe001"] = ifaces(t, "svc-a", "ge-0/0/1", "new", "ge-0/0/7", "added")
	p := planLive(t, env, desired, j)
	if _, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: cr.dialer(dialer), Journal: j, Reporter: cr, Concurrency: 1}); !cr.stopped(err) {
		t.Fatalf("apply: %v", err)
	}
	j = cr.reopen(t)
	// pe001 and pe002 hold the new configuration, committed for good.
	if !env.sim.Device("pe001").Running().Equal(desired["pe001"]) {
		t.Fatal("pe001 was not committed before the crash; the test proves nothing")
	}
	acts, err := Recover(t.Context(), j, dialer, env.inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range acts {
		t.Logf("%s: %s %v", a.Device, a.Action, a.Err)
		if a.Action != RecoveryUndone || a.Err != nil {
			t.Errorf("%s: %s %v, want undone", a.Device, a.Action, a.Err)
		}
	}
	sameConfig(t, env, old, "after undo by recovery")
}

// TestRecoverConfirmInUse: recovery rolls a crashed run forward, but the
// device answers the confirming commit in-use (an operator took the lock on
// running meanwhile). That rpc-error does not say the commit was confirmed
// before: the run must not record the device confirmed, nor its ownership,
// while its confirmed commit still waits and will roll back.
func TestRecoverConfirmInUse(t *testing.T) {
	env := newSim(t, 1)
	desired := desiredFor(t, env, "new")
	cr := newCrash(t, env, "pe001", journal.Confirmed)
	j := cr.j
	p := planLive(t, env, desired, j)
	if _, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: cr.dialer(env.dialer), Journal: j, Reporter: cr, ConfirmTimeout: time.Minute}); !cr.stopped(err) {
		t.Fatalf("apply: %v, want halted", err)
	}
	j = cr.reopen(t)
	dev := env.sim.Device("pe001")
	if !dev.ConfirmPending() {
		t.Fatal("no confirmed commit pending after the crash; the test proves nothing")
	}
	if err := dev.HoldLock(reconcile.Running); err != nil {
		t.Fatal(err)
	}
	acts, err := Recover(t.Context(), j, env.dialer, env.inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != 1 {
		t.Fatalf("actions %+v", acts)
	}
	if a := acts[0]; a.Err == nil || a.Action == RecoveryAlreadyConfirmed {
		t.Errorf("in-use answer to the confirming commit: action %q, err %v; want an error, not %q", a.Action, a.Err, RecoveryAlreadyConfirmed)
	} else if !errors.Is(a.Err, reconcile.ErrInUse) {
		t.Errorf("err %v, want reconcile.ErrInUse in it", a.Err)
	}
	if rec, _, err := j.Ownership(t.Context(), "pe001"); err != nil || !rec.IsZero() {
		t.Errorf("ownership recorded for a commit still pending: %+v, %v", rec, err)
	}
	if !dev.ConfirmPending() {
		t.Error("the confirmed commit is no longer pending")
	}
}

// okCommit is a device without confirmed commit whose commit answers <ok/>
// and changes nothing: running stays as it was.
type okCommit struct{ noConfirm }

func (d okCommit) Commit(ctx context.Context, _ reconcile.CommitOptions) error {
	return d.Discard(ctx)
}

// TestRecoverUndoIsReadBack: recovery undoes a plain commit, the device
// answers the undo's commit <ok/> and does not do it. Recovery reads running
// back and reports the device mixed, never undone.
func TestRecoverUndoIsReadBack(t *testing.T) {
	env := newSim(t, 2)
	cr := newCrash(t, env, "pe002", journal.Committed)
	j := cr.j
	old := desiredFor(t, env, "old")
	if _, err := Apply(t.Context(), planLive(t, env, old, j), old, env.inv, Options{Dialer: env.dialer, Journal: j}); err != nil {
		t.Fatal(err)
	}
	wrap := func(mk func(reconcile.Device) reconcile.Device) reconcile.Dialer {
		return reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
			d, err := env.dialer.Dial(ctx, dev)
			if err != nil {
				return nil, err
			}
			return mk(d), nil
		})
	}
	plain := wrap(func(d reconcile.Device) reconcile.Device { return noConfirm{d} })
	desired := desiredFor(t, env, "new")
	p := planLive(t, env, desired, j)
	if _, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: cr.dialer(plain), Journal: j, Reporter: cr, Concurrency: 1}); !cr.stopped(err) {
		t.Fatalf("apply: %v", err)
	}
	j = cr.reopen(t)
	if !env.sim.Device("pe001").Running().Equal(desired["pe001"]) {
		t.Fatal("pe001 was not committed before the crash; the test proves nothing")
	}
	liar := wrap(func(d reconcile.Device) reconcile.Device { return okCommit{noConfirm{d}} })
	// pe002 crashed before its commit: a plain commit of a run that did
	// not finish is undone, pe001's through a device that only says so.
	acts, err := Recover(t.Context(), j, liar, env.inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]RecoveryAction{}
	for _, a := range acts {
		got[a.Device] = a
	}
	if a := got["pe001"]; a.Action != RecoveryMixed || !errors.As(a.Err, new(*MixedError)) {
		t.Errorf("pe001: %s %v, want mixed", a.Action, a.Err)
	}
	if a := got["pe002"]; a.Action != RecoveryUndone || a.Err != nil {
		t.Errorf("pe002 (never committed): %s %v, want undone with nothing to do", a.Action, a.Err)
	}
	run, err := j.Run(t.Context(), acts[0].Run)
	if err != nil || run.Devices[0].Device != "pe001" || run.Devices[0].Phase != journal.PhaseMixed {
		t.Errorf("journal %+v (%v), want pe001 mixed", run.Devices, err)
	}
}
