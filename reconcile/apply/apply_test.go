package apply

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netsim"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/plan"
	"github.com/netrecon/netrecon/reconcile/planner"
	"github.com/netrecon/netrecon/schema"
)

// desiredFor gives every device of env the same two interfaces (desc varies).
func desiredFor(t *testing.T, env *simEnv, desc string) map[string]*configtree.Tree {
	out := map[string]*configtree.Tree{}
	for _, n := range env.names() {
		out[n] = ifaces(t, "svc-a", "ge-0/0/1", desc+" "+n, "ge-0/0/2", "uplink")
	}
	return out
}

// planLive plans every device of env.
func planLive(t *testing.T, env *simEnv, desired map[string]*configtree.Tree, j *journal.Journal) *plan.Plan {
	t.Helper()
	p, err := planner.Live(t.Context(), planner.LiveOptions{Intent: env.inv, Desired: desired, Dialer: env.dialer, Journal: j, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range p.Devices {
		if d.Err != nil {
			t.Fatalf("plan %s: %v", d.Name, d.Err)
		}
	}
	return p
}

// running returns the devices' running configurations.
func running(env *simEnv) map[string]*configtree.Tree {
	out := map[string]*configtree.Tree{}
	for _, d := range env.sim.Devices() {
		out[d.Name] = d.Running()
	}
	return out
}

// sameConfig fails unless every device's running equals want's.
func sameConfig(t *testing.T, env *simEnv, want map[string]*configtree.Tree, what string) {
	t.Helper()
	for _, d := range env.sim.Devices() {
		w := want[d.Name]
		if w == nil {
			w = configtree.New()
		}
		if got := d.Running(); !got.Equal(w) {
			t.Errorf("%s: %s: running is\n%s\nwant\n%s", d.Name, what, got, w)
		}
	}
}

func TestApplyTwoDevicesAndAgain(t *testing.T) {
	env := newSim(t, 2)
	j := openJournal(t)
	desired := desiredFor(t, env, "customer")
	p := planLive(t, env, desired, j)
	if s := p.Summary(); s.Devices != 2 {
		t.Fatalf("plan summary %+v", s)
	}
	rep := &recorder{}
	res, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: env.dialer, Journal: j, Reporter: rep, IntentCommit: "c1", StartedBy: "test"})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if res.Outcome != journal.Applied {
		t.Fatalf("outcome %s", res.Outcome)
	}
	if n, changes := confirmedCount(res); n != 2 || changes != 12 {
		t.Errorf("confirmed %d changes on %d devices, want 12 on 2: %+v", changes, n, res.Devices)
	}
	sameConfig(t, env, desired, "after apply")

	run, err := j.Run(t.Context(), res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if run.Outcome != journal.Applied || !run.Atomic || run.IntentCommit != "c1" {
		t.Errorf("run %+v", run)
	}
	wantPhases := []journal.Phase{journal.Locked, journal.Edited, journal.Committed, journal.Verified, journal.Confirmed}
	for _, d := range run.Devices {
		var got []journal.Phase
		for _, tr := range d.Transitions {
			if tr.Phase != journal.Pending {
				got = append(got, tr.Phase)
			}
		}
		if !slices.Equal(got, wantPhases) {
			t.Errorf("%s: journal phases %v, want %v", d.Device, got, wantPhases)
		}
		if d.PersistID == "" {
			t.Errorf("%s: no persist id journaled", d.Device)
		}
		// The devices were empty: netrecon created every node it applied.
		rec, commit, err := j.Ownership(t.Context(), d.Device)
		tree := rec.Created
		if err != nil || commit != "c1" || !tree.Equal(desired[d.Device]) || rec.Shared.Len() != 0 {
			t.Errorf("%s: applied tree (commit %q, err %v):\n%s", d.Device, commit, err, tree)
		}
	}
	if got := rep.phases("pe001"); !slices.Contains(got, "lock-wait") && !slices.Equal(got, []string{"dial", "locked", "edited", "committed", "checked", "verified", "confirmed", "done"}) {
		t.Errorf("events of pe001: %v", got)
	}

	// Again: the plan is empty and apply touches no device.
	edits := map[string]int{}
	for _, d := range env.sim.Devices() {
		edits[d.Name] = d.RPCCount("edit-config")
	}
	p2 := planLive(t, env, desired, j)
	if s := p2.Summary(); s.HasChanges() {
		t.Fatalf("second plan has changes: %+v", s)
	}
	dials := env.dials.Load()
	res2, err := Apply(t.Context(), p2, desired, env.inv, Options{Dialer: env.dialer, Journal: j})
	if err != nil || res2.Outcome != journal.NoChanges {
		t.Fatalf("second apply: %v, %v", res2, err)
	}
	if env.dials.Load() != dials {
		t.Errorf("second apply dialed %d devices", env.dials.Load()-dials)
	}
	for _, d := range env.sim.Devices() {
		if n := d.RPCCount("edit-config"); n != edits[d.Name] {
			t.Errorf("%s: edit-config count %d → %d", d.Name, edits[d.Name], n)
		}
	}
}

func TestApplyDeletesOnlyOwned(t *testing.T) {
	env := newSim(t, 1)
	j := openJournal(t)
	dev := env.sim.Devices()[0]
	// A human's interface, then netrecon's two.
	human := ifaces(t, "", "ge-0/0/9", "by hand")
	dev.SetRunning(human)
	desired := map[string]*configtree.Tree{dev.Name: ifaces(t, "svc-a", "ge-0/0/1", "a", "ge-0/0/2", "b")}
	if _, err := Apply(t.Context(), planLive(t, env, desired, j), desired, env.inv, Options{Dialer: env.dialer, Journal: j}); err != nil {
		t.Fatal(err)
	}
	// svc-a drops ge-0/0/2: the journal's ownership lets the plan delete it,
	// and the human's interface stays.
	desired2 := map[string]*configtree.Tree{dev.Name: ifaces(t, "svc-a", "ge-0/0/1", "a")}
	p := planLive(t, env, desired2, j)
	if s := p.Summary(); s.Delete != 1 || s.Create+s.Update != 0 {
		t.Fatalf("plan %+v", s)
	}
	if _, err := Apply(t.Context(), p, desired2, env.inv, Options{Dialer: env.dialer, Journal: j}); err != nil {
		t.Fatal(err)
	}
	want := ifaces(t, "", "ge-0/0/1", "a", "ge-0/0/9", "by hand")
	if got := dev.Running(); !got.Equal(want) {
		t.Errorf("running:\n%s\nwant\n%s", got, want)
	}
}

func TestLockWaitedOut(t *testing.T) {
	env := newSim(t, 2)
	desired := desiredFor(t, env, "x")
	p := planLive(t, env, desired, nil)
	held := env.sim.Devices()[1]
	if err := held.HoldLock(netsim.Candidate); err != nil {
		t.Fatal(err)
	}
	rep := &recorder{}
	var sleeps int
	// The first back-off is the proof that the lock was seen denied:
	// release it there, from the test, and go on at once.
	sleepHook := func(ctx context.Context, d time.Duration) error {
		sleeps++
		if sleeps == 1 {
			held.ReleaseLock()
		}
		return nil
	}
	res, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: env.dialer, Journal: openJournal(t), Reporter: rep, Sleep: sleepHook})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if res.Outcome != journal.Applied || sleeps != 1 {
		t.Fatalf("outcome %s after %d back-offs", res.Outcome, sleeps)
	}
	var wait string
	for _, e := range rep.events {
		if e.Phase == "lock-wait" {
			wait = e.Detail
		}
	}
	if !strings.Contains(wait, "candidate locked by session ") || strings.Contains(wait, "another session") {
		t.Errorf("lock-wait event %q does not name the holder", wait)
	}
	sameConfig(t, env, desired, "after waiting")
}

func TestLockTimeout(t *testing.T) {
	env := newSim(t, 2)
	desired := desiredFor(t, env, "x")
	p := planLive(t, env, desired, nil)
	before := running(env)
	held := env.sim.Devices()[1]
	if err := held.HoldLock(netsim.Running); err != nil {
		t.Fatal(err)
	}
	defer held.ReleaseLock()
	res, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: env.dialer, Journal: openJournal(t), LockWait: 10 * time.Second, Sleep: noSleep})
	var lt *LockTimeoutError
	if !errors.As(err, &lt) {
		t.Fatalf("err = %v, want *LockTimeoutError", err)
	}
	if lt.Device != held.Name || lt.HeldBy == "" || lt.Target != "running" || lt.Waited != 10*time.Second {
		t.Errorf("lock timeout %+v", lt)
	}
	if !strings.Contains(lt.Error(), "held by session "+lt.HeldBy) {
		t.Errorf("message %q", lt.Error())
	}
	if res.Outcome != journal.RolledBack {
		t.Errorf("outcome %s", res.Outcome)
	}
	sameConfig(t, env, before, "after lock timeout")
	for _, d := range env.sim.Devices() {
		if d.RPCCount("commit") != 0 {
			t.Errorf("%s: committed", d.Name)
		}
	}
}

// TestFailureRollsBackAll: one failing device of five leaves all five on the
// old configuration, whatever the failure.
func TestFailureRollsBackAll(t *testing.T) {
	cases := []struct {
		name  string
		fault func(d *netsim.Device)
		check func(t *testing.T, err error)
	}{
		{"commit rejected", func(d *netsim.Device) { d.RejectCommit("commit check failed: test") }, func(t *testing.T, err error) {
			if !strings.Contains(err.Error(), "commit check failed: test") {
				t.Errorf("err %v", err)
			}
		}},
		{"connection dropped mid-edit", func(d *netsim.Device) { d.DropConnectionAt("edit-config", 1) }, nil},
		{"commit a no-op after validate", func(d *netsim.Device) { d.LoseCommitAfterValidate(true) }, func(t *testing.T, err error) {
			var ve *VerifyError
			if !errors.As(err, &ve) || ve.Device != "pe003" || len(ve.Diff) == 0 {
				t.Errorf("err %v, want *VerifyError on pe003", err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := newSim(t, 5)
			j := openJournal(t)
			old := desiredFor(t, env, "old")
			if _, err := Apply(t.Context(), planLive(t, env, old, j), old, env.inv, Options{Dialer: env.dialer, Journal: j}); err != nil {
				t.Fatal(err)
			}
			desired := desiredFor(t, env, "new")
			desired["pe002"] = ifaces(t, "svc-a", "ge-0/0/1", "new", "ge-0/0/3", "extra")
			p := planLive(t, env, desired, j)
			bad := env.sim.Device("pe003")
			c.fault(bad)
			res, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: env.dialer, Journal: j, Validate: map[string]bool{"ietf": true}})
			if err == nil {
				t.Fatal("apply succeeded")
			}
			t.Log(err)
			if res.Outcome != journal.RolledBack {
				t.Errorf("outcome %s", res.Outcome)
			}
			if c.check != nil {
				c.check(t, err)
			}
			sameConfig(t, env, old, "after rollback")
			for _, d := range env.sim.Devices() {
				if d.ConfirmPending() {
					t.Errorf("%s: a confirmed commit is still pending", d.Name)
				}
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
			if bad := atFault(res); !slices.Equal(bad, []string{"pe003"}) {
				t.Errorf("devices at fault %v, want [pe003]", bad)
			}
			// The journal still owns the old trees only.
			rec, _, _ := j.Ownership(t.Context(), "pe002")
			tree := rec.Created
			if !tree.Equal(old["pe002"]) {
				t.Errorf("applied tree changed by a rolled-back run:\n%s", tree)
			}
		})
	}
}

func TestStalePlan(t *testing.T) {
	env := newSim(t, 2)
	old := desiredFor(t, env, "old")
	if _, err := Apply(t.Context(), planLive(t, env, old, nil), old, env.inv, Options{Dialer: env.dialer, Journal: openJournal(t)}); err != nil {
		t.Fatal(err)
	}
	desired := desiredFor(t, env, "new")
	p := planLive(t, env, desired, nil)
	// Someone edits a managed interface by hand after the plan.
	d := env.sim.Device("pe002")
	d.SetRunning(ifaces(t, "", "ge-0/0/1", "hand edit", "ge-0/0/2", "uplink"))
	before := running(env)
	_, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: env.dialer, Journal: openJournal(t)})
	var se *StalePlanError
	if !errors.As(err, &se) || se.Device != "pe002" {
		t.Fatalf("err = %v, want *StalePlanError on pe002", err)
	}
	if !strings.Contains(se.Error(), "re-plan") {
		t.Errorf("message %q", se.Error())
	}
	sameConfig(t, env, before, "after stale plan")
	for _, d := range env.sim.Devices() {
		if d.RPCCount("commit") != 2 { // the first apply's commit and confirm
			t.Errorf("%s: %d commits", d.Name, d.RPCCount("commit"))
		}
	}
}

func TestGuardDefersChangeSet(t *testing.T) {
	env := newSim(t, 3)
	j := openJournal(t)
	desired := desiredFor(t, env, "x")
	p := planLive(t, env, desired, j)
	guard := func(ctx context.Context, dev *schema.Device, d reconcile.Monitor) error {
		if dev.Name == "pe002" {
			return errors.New("operator alice logged in")
		}
		return nil
	}
	res, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: env.dialer, Journal: j, Guard: guard})
	var de *DeferredError
	if !errors.As(err, &de) || de.Device != "pe002" || !strings.Contains(de.Reason, "alice") {
		t.Fatalf("err = %v, want *DeferredError on pe002", err)
	}
	sameConfig(t, env, nil, "after a deferred change set")
	for _, d := range env.sim.Devices() {
		if d.RPCCount("lock") != 0 {
			t.Errorf("%s: locked although the change set was deferred", d.Name)
		}
	}
	for _, d := range res.Devices {
		if d.Phase != string(journal.Skipped) {
			t.Errorf("%s: phase %s", d.Name, d.Phase)
		}
	}
	// A guard's wait is no failure: the journal says deferred (the
	// summary's wording is the views', views.TestApplySummaryDeferred).
	if res.Outcome != journal.Deferred {
		t.Errorf("outcome %s, want deferred", res.Outcome)
	}
	if run, err := j.Run(t.Context(), res.RunID); err != nil || run.Outcome != journal.Deferred {
		t.Errorf("journaled outcome %v (%v), want deferred", run.Outcome, err)
	}

	// Without atomicity, the others go ahead.
	res, err = Apply(t.Context(), p, desired, env.inv, Options{Dialer: env.dialer, Journal: j, Guard: guard, NoAtomic: true})
	if res.Outcome != journal.Partial || !errors.As(err, &de) {
		t.Fatalf("outcome %s, err %v", res.Outcome, err)
	}
	want := map[string]*configtree.Tree{"pe001": desired["pe001"], "pe003": desired["pe003"]}
	sameConfig(t, env, want, "after a partial apply")
}

func TestNoAtomicPartial(t *testing.T) {
	env := newSim(t, 3)
	desired := desiredFor(t, env, "x")
	p := planLive(t, env, desired, nil)
	env.sim.Device("pe002").RejectCommit("nope")
	res, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: env.dialer, Journal: openJournal(t), NoAtomic: true})
	if err == nil || res.Outcome != journal.Partial {
		t.Fatalf("outcome %s, err %v", res.Outcome, err)
	}
	if n, _ := confirmedCount(res); n != 2 || !slices.Equal(atFault(res), []string{"pe002"}) {
		t.Errorf("confirmed on %d devices, at fault %v: want 2 and [pe002]", n, atFault(res))
	}
	sameConfig(t, env, map[string]*configtree.Tree{"pe001": desired["pe001"], "pe003": desired["pe003"]}, "partial")
}
