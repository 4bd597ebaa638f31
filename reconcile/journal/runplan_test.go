package journal

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/reconcile/ownership"
)

func TestRunPlan(t *testing.T) { eachBackend(t, testRunPlan) }

// testRunPlan: a run's plan is stored compressed and reads back as given,
// from BeginRun and from SetRunPlan; a plan stored before compression reads
// as it was, and a stored plan that does not decode still lets the run read.
func testRunPlan(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t)
	plan := []byte(`{"devices":[` + strings.Repeat(`{"name":"pe1","space":"urn:ietf:params:xml:ns:yang:ietf-interfaces"},`, 2000) + `{}]}`)
	id, err := j.BeginRun(ctx, Run{StartedBy: "t", Plan: plan}, []string{"pe1"})
	if err != nil {
		t.Fatal(err)
	}
	stored := func() string {
		var s string
		if err := j.db.QueryRowContext(ctx, j.d.rebind(`SELECT plan FROM run_plans WHERE run_id = ?`), int64(id)).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := stored(); !strings.HasPrefix(s, planPrefix) || len(s)*20 > len(plan) {
		t.Errorf("stored plan: %d bytes for %d, %.20q...: want it compressed", len(s), len(plan), s)
	}
	read := func(what string, want []byte) {
		t.Helper()
		r, err := j.Run(ctx, id)
		if err != nil || string(r.Plan) != string(want) {
			t.Errorf("%s: plan %.40q (%d bytes), %v; want %.40q (%d bytes)", what, r.Plan, len(r.Plan), err, want, len(want))
		}
	}
	read("BeginRun", plan)

	// An apply begins its run without a plan and writes it while the
	// devices lock.
	id, err = j.BeginRun(ctx, Run{StartedBy: "t"}, []string{"pe1"})
	if err != nil {
		t.Fatal(err)
	}
	read("no plan yet", nil)
	if err := j.SetRunPlan(ctx, id, plan); err != nil {
		t.Fatal(err)
	}
	read("SetRunPlan", plan)
	if err := j.SetRunPlan(ctx, id, []byte{0xff, 0xfe}); err == nil {
		t.Error("a plan that is not UTF-8: no error")
	}
	if err := j.SetRunPlan(ctx, id+100, plan); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown run: %v, want ErrNotFound", err)
	}

	// Stored before plans were compressed, and stored broken.
	for _, c := range []struct{ stored, want string }{
		{`{"format":2}`, `{"format":2}`},
		{planPrefix + "not base64 at all", planPrefix + "not base64 at all"},
	} {
		if _, err := j.db.ExecContext(ctx, j.d.rebind(`UPDATE run_plans SET plan = ? WHERE run_id = ?`), c.stored, int64(id)); err != nil {
			t.Fatal(err)
		}
		read("stored "+c.stored, []byte(c.want))
	}
	if err := j.FinishRun(ctx, id, Applied, ""); err != nil {
		t.Fatal(err)
	}
	if err := j.SetRunPlan(ctx, id, plan); !errors.Is(err, ErrFinished) {
		t.Errorf("finished run: %v, want ErrFinished", err)
	}
}

func TestOwnershipFromPending(t *testing.T) { eachBackend(t, testOwnershipFromPending) }

// testOwnershipFromPending: an ownership record marked as the pending
// record of a run's commit is copied from that record, and reads back as
// SetOwnerships records it from the record itself; without a pending record
// in that run the record given is stored; a zero record still forgets the
// device.
func testOwnershipFromPending(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t)
	tree := desiredTree(t)
	id, err := j.BeginRun(ctx, Run{StartedBy: "t"}, []string{"pe1", "pe2"})
	if err != nil {
		t.Fatal(err)
	}
	pending := ownership.Record{Created: tree, Desired: "from the commit"}
	if err := j.EnterPhases(ctx, id, []Step{{Device: "pe1", Phase: Committed, Pending: &PendingCommit{Record: pending, Before: tree}}}); err != nil {
		t.Fatal(err)
	}
	// pe1 from its pending record (the Record given is not read again: it
	// differs here to show it);
	// pe2 has none in the run: its Record is stored.
	if err := j.SetOwnerships(ctx, []Owned{
		{Device: "pe1", Record: ownership.Record{Created: tree, Desired: "not read"}, FromRun: id},
		{Device: "pe2", Record: ownership.Record{Shared: tree, Desired: "given"}, FromRun: id},
	}, "c1"); err != nil {
		t.Fatal(err)
	}
	direct, _ := be.open(t)
	if err := direct.SetOwnerships(ctx, []Owned{{Device: "pe1", Record: pending}}, "c1"); err != nil {
		t.Fatal(err)
	}
	got, commit, err := j.Ownership(ctx, "pe1")
	want, _, _ := direct.Ownership(ctx, "pe1")
	if err != nil || commit != "c1" || got.Desired != "from the commit" || !got.Created.Equal(want.Created) || !got.Created.Equal(tree) {
		t.Errorf("pe1 from its pending record: %+v %q %v; want %+v", got, commit, err, want)
	}
	if r, _, err := j.Ownership(ctx, "pe2"); err != nil || r.Desired != "given" || !r.Shared.Equal(tree) {
		t.Errorf("pe2 without a pending record: %+v %v", r, err)
	}
	if err := j.SetOwnerships(ctx, []Owned{{Device: "pe1", FromRun: id}}, "c2"); err != nil {
		t.Fatal(err)
	}
	if r, _, err := j.Ownership(ctx, "pe1"); err != nil || !r.IsZero() {
		t.Errorf("pe1 after a zero record: %+v, %v", r, err)
	}
}

// FuzzStoredPlan: whatever a run_plans row holds, reading it never panics
// and never inflates past maxPlan; a plan encoded reads back as it was.
func FuzzStoredPlan(f *testing.F) {
	f.Add([]byte(`{"devices":[]}`), planPrefix+"H4sIAAAAAAAA/wEAAP//AAAAAAAAAAA=")
	f.Add([]byte(""), `{"format":2}`)
	f.Add([]byte("é"), planPrefix+"%%%")
	f.Fuzz(func(t *testing.T, plan []byte, stored string) {
		if got, err := decodePlan(stored); err == nil && len(got) > maxPlan {
			t.Errorf("decoded %d bytes", len(got))
		}
		enc, err := encodePlan(plan)
		if err != nil {
			return // not UTF-8: refused
		}
		got, err := decodePlan(enc)
		if err != nil || string(got) != string(plan) {
			t.Errorf("round trip of %q: %q, %v", plan, got, err)
		}
	})
}
