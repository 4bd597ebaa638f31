package daemon

import (
	"context"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/plan"
)

// Each step of a pass, called alone on a passState made by hand: what it
// reads from the state, what it leaves there, and what it records.

func newState(d *Daemon) *passState {
	return newPassState(&PassStatus{ID: "p-test"}, d.log, scopeAll)
}

func TestStepFetch(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	d := l.start(Options{})
	ctx := context.Background()
	head := l.git("rev-parse", "HEAD")
	s := newState(d)
	if done, err := d.fetch(ctx, s); done || err != nil || s.head != head || s.p.Head != head {
		t.Fatalf("fetch: done %v err %v head %q", done, err, s.head)
	}
	// The repo unreachable: the pass goes on with the last head, and the
	// alarm rises at the second failure in a row.
	away := l.repo + ".away"
	if err := os.Rename(l.repo, away); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		s := newState(d)
		if done, err := d.fetch(ctx, s); done || err != nil || s.head != head {
			t.Fatalf("failed fetch %d: done %v err %v head %q", i, done, err, s.head)
		}
		if got := d.alarms.has(AlarmFetchFailing, ""); got != (i == 2) {
			t.Errorf("after %d failed fetches: alarm %v", i, got)
		}
	}
	if err := os.Rename(away, l.repo); err != nil {
		t.Fatal(err)
	}
	if _, err := d.fetch(ctx, newState(d)); err != nil || d.alarms.has(AlarmFetchFailing, "") {
		t.Errorf("fetch again: %v, alarm %v", err, d.alarms.has(AlarmFetchFailing, ""))
	}
}

func TestStepCheck(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	d := l.start(Options{})
	ctx := context.Background()
	first := l.git("rev-parse", "HEAD")
	s := newState(d)
	s.head = first
	if done, err := d.check(ctx, s); done || err != nil || s.commit != first {
		t.Fatalf("first head: done %v err %v commit %q", done, err, s.commit)
	}
	// A head whose history no longer holds the last good commit.
	good := l.commit("good", map[string]string{acme: strings.Replace(l.read(acme), "Tokyo HQ", "Tokyo 1", 1)})
	if _, err := d.mirror.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	l.git("reset", "-q", "--hard", first)
	rewritten := l.commit("rewritten", map[string]string{acme: strings.Replace(l.read(acme), "Tokyo HQ", "Tokyo 2", 1)})
	if _, err := d.mirror.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	d.commit = good
	d.mu.Unlock()
	s = newState(d)
	s.head = rewritten
	if done, err := d.check(ctx, s); done || err != nil || s.commit != good {
		t.Fatalf("rewritten head: done %v err %v commit %q, want the last good %s", done, err, s.commit, good)
	}
	if as := d.alarms.list(); len(as) != 1 || as[0].Kind != AlarmCommitRefused || as[0].Commit != rewritten {
		t.Errorf("alarms: %+v", as)
	}
}

func TestStepLoad(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	d := l.start(Options{})
	ctx := context.Background()
	head, err := d.mirror.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := newState(d)
	s.head, s.commit = head, head
	if done, err := d.load(ctx, s); done || err != nil {
		t.Fatalf("load: done %v err %v", done, err)
	}
	if s.intent == nil || len(s.desired) != 3 || s.dialer == nil || s.p.Commit != head {
		t.Fatalf("load left intent %v, %d desired trees, dialer %v", s.intent != nil, len(s.desired), s.dialer)
	}
	if got, _ := d.journal.State(ctx, KeyCommit); got != head {
		t.Errorf("journal commit = %q, want %s", got, head)
	}
	// A head that does not validate: refused, the pass goes on with the
	// last good commit.
	bad := l.commit("broken", map[string]string{acme: l.read(acme) + "  bogus: 1\n"})
	if _, err := d.mirror.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	s = newState(d)
	s.head, s.commit = bad, bad
	if done, err := d.load(ctx, s); done || err != nil || s.commit != head || s.intent == nil {
		t.Fatalf("invalid head: done %v err %v commit %q", done, err, s.commit)
	}
	if as := d.alarms.list(); len(as) != 1 || as[0].Kind != AlarmCommitRefused || as[0].Commit != bad {
		t.Errorf("alarms: %+v", as)
	}
}

// loaded is a passState as the load step leaves it, for the steps after.
func loaded(t *testing.T, l *lab, d *Daemon) *passState {
	t.Helper()
	s := newState(d)
	s.intent, s.desired = l.desired()
	s.commit = l.git("rev-parse", "HEAD")
	s.dialer = d.dialerFor(s.intent)
	return s
}

func TestStepPlan(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	d := l.start(Options{})
	ctx := context.Background()
	gone := journal.DeviceState{Device: "pe9-old", State: string(StateInSync)}
	if err := d.journal.SetDeviceStates(ctx, []journal.DeviceState{gone}); err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	d.devices["pe2-osa"] = journal.DeviceState{Device: "pe2-osa", State: string(StateFailing), Failures: 1, NextRetry: time.Now().Add(time.Hour)}
	d.devices[gone.Device] = gone
	d.mu.Unlock()
	s := loaded(t, l, d)
	if done, err := d.planDue(ctx, s); done || err != nil {
		t.Fatalf("plan: done %v err %v", done, err)
	}
	slices.Sort(s.due)
	if want := []string{"pe1-tyo", "pe3-sin"}; !slices.Equal(s.due, want) {
		t.Errorf("due = %v, want %v", s.due, want)
	}
	if r := s.results["pe2-osa"]; r.state != StateBackoff {
		t.Errorf("pe2-osa in its back-off: %+v", r)
	}
	for _, name := range s.due {
		if pd := s.plan.Device(name); pd == nil || pd.Err != nil || len(pd.Changes) == 0 {
			t.Errorf("%s: plan %+v", name, pd)
		}
	}
	if s.plan.Device("pe2-osa") != nil || s.plan.Head.Commit != s.commit {
		t.Errorf("plan: %+v", s.plan)
	}
	// A device that left the inventory is forgotten, here and in the journal.
	states, err := d.journal.DeviceStates(ctx)
	if _, ok := d.devices[gone.Device]; ok || err != nil || len(states) != 0 {
		t.Errorf("left the inventory: in memory %v, journal %+v %v", ok, states, err)
	}
}

func TestStepSort(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	d := l.start(Options{})
	ctx := context.Background()
	changes := []plan.Change{{}, {}}
	s := loaded(t, l, d)
	s.plan = &plan.Plan{Devices: []*plan.Device{
		{Name: "pe1-tyo"},
		{Name: "pe2-osa", Err: errors.New("unreachable")},
		{Name: "pe3-sin", Changes: changes},
	}}
	if done, err := d.sortPlan(ctx, s); done || err != nil {
		t.Fatalf("sort: done %v err %v", done, err)
	}
	if s.results["pe1-tyo"].state != StateInSync || s.results["pe2-osa"].state != StateFailing ||
		!slices.Equal(s.toApply, []string{"pe3-sin"}) {
		t.Fatalf("sorted: results %+v, to apply %v", s.results, s.toApply)
	}
	// pe1-tyo is now known to hold the intent: changes on it are drift,
	// healed by default, reported under the report policy.
	for _, tc := range []struct {
		policy  DriftPolicy
		toApply []string
		result  devResult
	}{
		{Heal, []string{"pe1-tyo"}, devResult{}},
		{Report, nil, devResult{state: StateDrift, changes: 2}},
	} {
		d.cfg.Drift.Devices = map[string]DriftPolicy{"pe1-tyo": tc.policy}
		s := loaded(t, l, d)
		s.plan = &plan.Plan{Devices: []*plan.Device{{Name: "pe1-tyo", Changes: changes}}}
		if _, err := d.sortPlan(ctx, s); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(s.toApply, tc.toApply) || !reflect.DeepEqual(s.results["pe1-tyo"], tc.result) || s.drift["pe1-tyo"] != 2 {
			t.Errorf("%s: to apply %v, result %+v, drift %v", tc.policy, s.toApply, s.results["pe1-tyo"], s.drift)
		}
	}
}

func TestStepApply(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	d := l.start(Options{})
	ctx := context.Background()
	s := loaded(t, l, d)
	if _, err := d.planDue(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.toApply = slices.Clone(s.due)
	if err := l.sim.Device("pe1-tyo").HoldLock("candidate"); err != nil {
		t.Fatal(err)
	}
	if done, err := d.applyChanges(ctx, s); done || err != nil {
		t.Fatalf("apply: done %v err %v", done, err)
	}
	// The held lock fails pe1-tyo alone: the others are applied without it.
	if r := s.results["pe1-tyo"]; r.state != StateFailing || r.err == nil || !strings.Contains(r.err.Error(), "lock") {
		t.Errorf("pe1-tyo: %+v", r)
	}
	for _, name := range []string{"pe2-osa", "pe3-sin"} {
		if r := s.results[name]; r.state != StateApplied || r.changes == 0 {
			t.Errorf("%s: %+v", name, r)
		}
	}
	if len(s.p.RunIDs) < 2 {
		t.Errorf("run ids %v: want the atomic run rolled back and the one without pe1-tyo", s.p.RunIDs)
	}
}
