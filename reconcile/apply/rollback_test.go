package apply

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/drivers/netsim"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/schema"
)

// TestRollbackCancelQuirk is issue 10's second item on netsim: four of five
// devices answer <ok/> to a cancel-commit sent under the running lock and
// roll nothing back (yuma123); the fifth refuses its commit. Afterwards every
// device runs its old configuration, no confirmed commit is pending, and the
// outcome and journal say rolled back.
func TestRollbackCancelQuirk(t *testing.T) {
	env := newSim(t, 5)
	j := openJournal(t)
	old := desiredFor(t, env, "old")
	if _, err := Apply(t.Context(), planLive(t, env, old, j), old, env.inv, Options{Dialer: env.dialer, Journal: j}); err != nil {
		t.Fatal(err)
	}
	desired := desiredFor(t, env, "new")
	for _, n := range env.names() {
		// An update and a create (a new circuit) on every device.
		desired[n] = ifaces(t, "svc-a", "ge-0/0/1", "new "+n, "ge-0/0/2", "uplink", "ge-0/0/9", "circuit")
	}
	p := planLive(t, env, desired, j)
	for _, d := range env.sim.Devices() {
		if d.Name == "pe003" {
			d.RejectCommit("commit check failed: test")
			continue
		}
		d.CancelCommitKeepsUnderRunningLock(true)
	}
	res, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: env.dialer, Journal: j})
	if err == nil {
		t.Fatal("apply succeeded")
	}
	t.Log(err)
	sameConfig(t, env, old, "after rollback")
	for _, d := range env.sim.Devices() {
		if d.ConfirmPending() {
			t.Errorf("%s: a confirmed commit is still pending", d.Name)
		}
	}
	if res.Outcome != journal.RolledBack {
		t.Errorf("outcome %s, devices %+v", res.Outcome, res.Devices)
	}
	run, err := j.Run(t.Context(), res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range run.Devices {
		want := journal.Cancelled
		if d.Device == "pe003" {
			want = journal.PhaseFailed
		}
		if d.Phase != want {
			t.Errorf("%s: journal phase %s, want %s", d.Device, d.Phase, want)
		}
	}
}

// keepRunningLock stands for a server on which releasing the running lock
// before cancel-commit does not help: it takes the lock again around the
// cancel, so the netsim quirk strikes anyway and only the read-back and the
// undo can bring the device back.
type keepRunningLock struct{ reconcile.Device }

func (k keepRunningLock) CancelCommit(ctx context.Context, persistID string) error {
	if err := k.Lock(ctx, netsim.Running); err != nil {
		return err
	}
	defer k.Unlock(ctx, netsim.Running)
	return k.Device.CancelCommit(ctx, persistID)
}

// TestRollbackUndoesAfterSilentCancel: cancel-commit answers ok and leaves
// the change; the read-back sees it and the device is undone from its
// pre-image, verified, and journaled undone.
func TestRollbackUndoesAfterSilentCancel(t *testing.T) {
	env := newSim(t, 3)
	j := openJournal(t)
	old := desiredFor(t, env, "old")
	if _, err := Apply(t.Context(), planLive(t, env, old, j), old, env.inv, Options{Dialer: env.dialer, Journal: j}); err != nil {
		t.Fatal(err)
	}
	dialer := reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
		d, err := env.dialer.Dial(ctx, dev)
		if err != nil || dev.Name != "pe001" {
			return d, err
		}
		return keepRunningLock{d}, nil
	})
	desired := desiredFor(t, env, "new")
	desired["pe001"] = ifaces(t, "svc-a", "ge-0/0/1", "new", "ge-0/0/7", "added") // a create, an update and a delete
	p := planLive(t, env, desired, j)
	env.sim.Device("pe001").CancelCommitKeepsUnderRunningLock(true)
	env.sim.Device("pe003").RejectCommit("commit check failed: test")
	res, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: dialer, Journal: j})
	if err == nil {
		t.Fatal("apply succeeded")
	}
	t.Log(err)
	sameConfig(t, env, old, "after rollback")
	if res.Outcome != journal.RolledBack {
		t.Errorf("outcome %s, devices %+v", res.Outcome, res.Devices)
	}
	run, err := j.Run(t.Context(), res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if d := run.Devices[0]; d.Device != "pe001" || d.Phase != journal.Undone {
		t.Errorf("%s: journal phase %s, want undone", d.Device, d.Phase)
	}
}

// TestRollbackLeftMixed: a device whose rollback cannot be verified — here a
// plain commit whose undo is cut — is mixed: the outcome, its journal phase
// and its error say so and name the nodes, and the summary does not call it
// rolled back.
func TestRollbackLeftMixed(t *testing.T) {
	env := newSim(t, 3)
	j := openJournal(t)
	old := desiredFor(t, env, "old")
	if _, err := Apply(t.Context(), planLive(t, env, old, j), old, env.inv, Options{Dialer: env.dialer, Journal: j}); err != nil {
		t.Fatal(err)
	}
	dialer := reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
		d, err := env.dialer.Dial(ctx, dev)
		if err != nil || dev.Name != "pe001" {
			return d, err
		}
		return noConfirm{d}, nil
	})
	desired := desiredFor(t, env, "new")
	desired["pe001"] = ifaces(t, "svc-a", "ge-0/0/1", "new", "ge-0/0/2", "uplink", "ge-0/0/7", "added")
	p := planLive(t, env, desired, j)
	// pe001's second edit-config is the undo's.
	env.sim.Device("pe001").DropConnectionAt("edit-config", 2)
	env.sim.Device("pe003").RejectCommit("commit check failed: test")
	res, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: dialer, Journal: j})
	if err == nil {
		t.Fatal("apply succeeded")
	}
	t.Log(err)
	if !env.sim.Device("pe001").Running().Equal(desired["pe001"]) {
		t.Fatal("pe001 was brought back; the test proves nothing")
	}
	if res.Outcome != journal.Mixed {
		t.Errorf("outcome %s, want mixed", res.Outcome)
	}
	var dr *DeviceResult
	for i := range res.Devices {
		if res.Devices[i].Name == "pe001" {
			dr = &res.Devices[i]
		}
	}
	if dr == nil || dr.Phase != string(journal.PhaseMixed) {
		t.Fatalf("pe001 result %+v", dr)
	}
	var me *MixedError
	if !errors.As(dr.Err, &me) || me.Device != "pe001" {
		t.Fatalf("pe001 error %v, want *MixedError", dr.Err)
	}
	if errors.As(dr.Err, new(*RolledBackError)) {
		t.Error("a mixed device's error reads as merely rolled back (the daemon would retry it without an alarm)")
	}
	if msg := dr.Err.Error(); !strings.Contains(msg, "ge-0/0/7") || !strings.Contains(msg, "ge-0/0/1]/description") {
		t.Errorf("pe001 error %q does not name the differing nodes", msg)
	}
	run, err := j.Run(t.Context(), res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if d := run.Devices[0]; d.Device != "pe001" || d.Phase != journal.PhaseMixed {
		t.Errorf("%s: journal phase %s, want mixed", d.Device, d.Phase)
	}
	if run.Outcome != journal.Mixed {
		t.Errorf("journal outcome %s, want mixed", run.Outcome)
	}
}

// TestRecoverChecksRunningAfterCancel: a crash before phase 2, then the
// pending confirmed commits are lost without a rollback (a session under the
// running lock cancelled them: the yuma123 quirk). Recovery's cancel-commit
// then answers "nothing pending"; that must not count as rolled back until
// running says so: recovery undoes the devices from the journaled pre-image.
func TestRecoverChecksRunningAfterCancel(t *testing.T) {
	env := newSim(t, 3)
	cr := newCrash(t, env, "pe003", journal.Committed)
	j := cr.j
	old := desiredFor(t, env, "old")
	if _, err := Apply(t.Context(), planLive(t, env, old, j), old, env.inv, Options{Dialer: env.dialer, Journal: j}); err != nil {
		t.Fatal(err)
	}
	desired := desiredFor(t, env, "new")
	desired["pe001"] = ifaces(t, "svc-a", "ge-0/0/1", "new", "ge-0/0/7", "added")
	p := planLive(t, env, desired, j)
	if _, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: cr.dialer(env.dialer), Journal: j, Reporter: cr, Concurrency: 1}); !cr.stopped(err) {
		t.Fatalf("apply: %v", err)
	}
	j = cr.reopen(t)
	runs, err := j.Unfinished(t.Context())
	if err != nil || len(runs) != 1 {
		t.Fatalf("unfinished %v %v", runs, err)
	}
	for _, d := range runs[0].Devices {
		dev := env.sim.Device(d.Device)
		if d.PersistID == "" || !dev.ConfirmPending() {
			continue // pe003 died before its commit
		}
		dev.CancelCommitKeepsUnderRunningLock(true)
		s, err := env.dialer.Dial(t.Context(), env.inv.Device(d.Device))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Lock(t.Context(), netsim.Running); err != nil {
			t.Fatal(err)
		}
		if err := s.CancelCommit(t.Context(), d.PersistID); err != nil {
			t.Fatal(err)
		}
		s.Close(t.Context())
		dev.CancelCommitKeepsUnderRunningLock(false)
		if dev.ConfirmPending() || !dev.Running().Equal(desired[d.Device]) {
			t.Fatalf("%s: the quirk did not strike; the test proves nothing", d.Device)
		}
	}
	acts, err := Recover(t.Context(), j, env.dialer, env.inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range acts {
		t.Logf("%s: %s %v", a.Device, a.Action, a.Err)
		if a.Err != nil || a.Device != "pe003" && a.Action != RecoveryUndone {
			t.Errorf("%s: %s %v, want undone", a.Device, a.Action, a.Err)
		}
	}
	sameConfig(t, env, old, "after recovery")
}
