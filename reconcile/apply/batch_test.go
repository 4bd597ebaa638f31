package apply

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/netrecon/netrecon/reconcile/journal"
)

// tickingClock reads a new instant at every call, so that two journal
// writes never share a timestamp: transitions that do share one were
// written by one transaction.
type tickingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *tickingClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

// Each phase of a change set is one journal transaction for all its
// devices, written before any device takes it: every device's transition to
// a phase bears the same instant, and comes before that device's next one.
func TestPhasesJournaledOncePerChangeSet(t *testing.T) {
	env := newSim(t, 5)
	clk := &tickingClock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	j, err := journal.Open(t.Context(), t.TempDir()+"/journal.db", journal.WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	rec := &recorder{}
	desired := desiredFor(t, env, "batched")
	res, err := Apply(t.Context(), planLive(t, env, desired, j), desired, env.inv, Options{Dialer: env.dialer, Journal: j, Reporter: rec})
	if err != nil {
		t.Fatal(err)
	}
	run, err := j.Run(t.Context(), res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	at := map[journal.Phase]map[time.Time]bool{}
	for _, d := range run.Devices {
		for _, tr := range d.Transitions {
			if at[tr.Phase] == nil {
				at[tr.Phase] = map[time.Time]bool{}
			}
			at[tr.Phase][tr.At] = true
		}
	}
	for _, p := range []journal.Phase{journal.Pending, journal.Locked, journal.Edited, journal.Committed, journal.Verified, journal.Confirmed} {
		if n := len(at[p]); n != 1 {
			t.Errorf("%s: written at %d instants for 5 devices, want 1 (one transaction)", p, n)
		}
	}
	var batches []string
	for _, e := range rec.events {
		if e.Device == "" {
			batches = append(batches, e.Phase+" "+e.Detail)
		}
	}
	want := []string{"journal:locked 5 devices", "journal:edited 5 devices", "journal:committed 5 devices", "journal:verified 5 devices", "journal:confirmed 5 devices", "journal:owned 5 devices"}
	if len(batches) != len(want) {
		t.Fatalf("batch events %q, want %q", batches, want)
	}
	for i := range want {
		if batches[i] != want[i] {
			t.Errorf("batch event %d is %q, want %q", i, batches[i], want[i])
		}
	}
	// The pre-images went with the committed batch.
	for _, d := range env.names() {
		if _, ok, err := j.PreImage(t.Context(), res.RunID, d); !ok || err != nil {
			t.Errorf("%s: no pre-image (%v)", d, err)
		}
	}
}

// TestCrashRecoveryAtBatches stops an apply dead just before each journal
// batch — every device has finished the step before it, none is journaled
// for the next — and recovers: every device ends on the old or the new
// configuration, the one the batches written so far decide, and a
// roll-forward records what the run created.
func TestCrashRecoveryAtBatches(t *testing.T) {
	cases := []struct {
		batch  string
		reject bool   // pe003 refuses the commit: the apply rolls back
		want   string // "old" or "new"
	}{
		{"locked", false, "old"},
		{"edited", false, "old"},
		{"committed", false, "old"},
		// Every device committed and verified; the phase 2 marker unwritten.
		{"verified", false, "old"},
		{"confirmed", false, "new"},
		// The confirming commits sent, the ownership records not written.
		{"owned", false, "new"},
		{"rollback", true, "old"},
		{"outcome", true, "old"},
	}
	for _, c := range cases {
		t.Run(c.batch, func(t *testing.T) {
			env := newSim(t, 3)
			cr := newBatchCrash(t, env, c.batch)
			j := cr.j
			old := desiredFor(t, env, "old")
			if _, err := Apply(t.Context(), planLive(t, env, old, j), old, env.inv, Options{Dialer: env.dialer, Journal: j}); err != nil {
				t.Fatal(err)
			}
			if c.reject {
				env.sim.Device("pe003").RejectCommit("refused by the test")
			}
			desired := desiredFor(t, env, "new")
			p := planLive(t, env, desired, j)
			res, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: cr.dialer(env.dialer), Journal: j, Reporter: cr, ConfirmTimeout: time.Minute})
			if !cr.stopped(err) {
				t.Fatalf("apply: %v, want halted", err)
			}
			env.sim.Device("pe003").ClearRejectCommit()
			j = cr.reopen(t)
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
			if run, _ := j.Run(t.Context(), res.RunID); run == nil || run.Outcome != journal.Recovered {
				t.Errorf("run after recovery: %+v", run)
			}
			want := old
			if c.want == "new" {
				want = desired
			}
			for _, d := range env.sim.Devices() {
				if d.ConfirmPending() {
					t.Errorf("%s: confirmed commit still pending after recovery", d.Name)
				}
				if got := d.Running(); !got.Equal(want[d.Name]) {
					t.Errorf("%s: not on the %s configuration:\n%s", d.Name, c.want, got)
				}
			}
			if c.want != "new" {
				return
			}
			// Recovery recorded what the run created, from the records the
			// committed batch wrote: the next plan changes nothing, and
			// the record owns the new interface's description.
			if s := planLive(t, env, desired, j).Summary(); s.HasChanges() {
				t.Errorf("plan after roll-forward has changes %+v", s)
			}
			for _, d := range env.names() {
				rec, _, err := j.Ownership(context.Background(), d)
				if err != nil || rec.IsZero() || rec.Desired != desired[d].Fingerprint() {
					t.Errorf("%s: ownership after roll-forward %+v, %v", d, rec, err)
				}
			}
		})
	}
}
