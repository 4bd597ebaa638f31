package apply

import (
	"bytes"
	"testing"

	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/planfile"
	"github.com/netrecon/netrecon/reconcile/session"
)

// TestEndSessions: with Options.EndSessions, as a CLI apply runs, a device
// that confirmed ends its pooled session itself, locks and all, without
// unlocking; the run leaves no session open and nothing locked (the next
// session locks at once); a device that failed still discards and unlocks.
func TestEndSessions(t *testing.T) {
	env := newSim(t, 3)
	j := openJournal(t)
	pool, err := session.New(session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	dialer := pool.Dialer(env.dialer, nil)
	desired := desiredFor(t, env, "ended")
	p := planLive(t, env, desired, j)
	for _, d := range env.sim.Devices() {
		d.ResetCounters()
	}
	res, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: dialer, Journal: j, EndSessions: true})
	if err != nil || res.Outcome != journal.Applied {
		t.Fatalf("apply: %v, %v", res, err)
	}
	sameConfig(t, env, desired, "after apply")
	// Ended by the apply, not by the pool's Close (not called yet).
	noSessions(t, env)
	for _, d := range env.sim.Devices() {
		c := d.RPCCounts()
		if c["unlock"] != 0 || c["lock"] != 2 || c["close-session"] != 1 {
			t.Errorf("%s: rpcs %v, want 2 locks, no unlock, one close-session", d.Name, c)
		}
		s, err := env.dialer.Dial(t.Context(), env.inv.Device(d.Name))
		if err != nil {
			t.Fatal(err)
		}
		for _, ds := range []string{reconcile.Candidate, reconcile.Running} {
			if err := s.Lock(t.Context(), ds); err != nil {
				t.Errorf("%s: lock %s after the run: %v", d.Name, ds, err)
			}
		}
		_ = s.Close(t.Context())
	}

	// A device that fails: the change set rolls back, and every device
	// discards and unlocks before its session goes, ended or not.
	desired = desiredFor(t, env, "refused")
	p = planLive(t, env, desired, j)
	env.sim.Device("pe002").RejectCommit("refused by the test")
	for _, d := range env.sim.Devices() {
		d.ResetCounters()
	}
	res, _ = Apply(t.Context(), p, desired, env.inv, Options{Dialer: dialer, Journal: j, EndSessions: true})
	if res == nil || res.Outcome == journal.Applied {
		t.Fatalf("apply with a refused commit: %+v", res)
	}
	for _, d := range env.sim.Devices() {
		if c := d.RPCCounts(); c["unlock"] != c["lock"] {
			t.Errorf("%s: rpcs %v: a rolled-back device unlocks what it locked", d.Name, c)
		}
	}
}

// TestPlanJournaledBeforeCommit: the run's plan, written while the devices
// lock, is in the journal before the committed phase is: recovery of a
// commit reads it.
func TestPlanJournaledBeforeCommit(t *testing.T) {
	env := newSim(t, 3)
	j := openJournal(t)
	desired := desiredFor(t, env, "planned")
	p := planLive(t, env, desired, j)
	var checked bool
	rep := onEvent(func(e Event) {
		if e.Phase != BatchPrefix+string(journal.Committed) {
			return
		}
		checked = true
		runs, err := j.Unfinished(t.Context())
		if err != nil || len(runs) != 1 {
			t.Fatalf("unfinished runs %v, %v", runs, err)
		}
		got, _, err := planfile.Read(bytes.NewReader(runs[0].Plan))
		if err != nil || len(got.Devices) != len(p.Devices) {
			t.Errorf("the run's plan at the committed batch: %v (%d bytes)", err, len(runs[0].Plan))
		}
	})
	res, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: env.dialer, Journal: j, Reporter: rep})
	if err != nil || res.Outcome != journal.Applied || !checked {
		t.Fatalf("apply: %v, %v (committed batch seen: %v)", res, err, checked)
	}
}
