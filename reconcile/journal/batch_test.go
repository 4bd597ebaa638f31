package journal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/ownership"
)

// A run journaled in batches reads exactly as the same run journaled one
// device at a time: the rows are per device either way, so recovery cannot
// tell them apart.
func TestBatchReadsAsSingleWrites(t *testing.T) { eachBackend(t, testBatchReadsAsSingleWrites) }

func testBatchReadsAsSingleWrites(t *testing.T, be backend) {
	ctx := context.Background()
	devices := []string{"pe1", "pe2", "pe3"}
	before := desiredTree(t)
	rec := ownership.Record{Created: desiredTree(t), Desired: "fp"}
	steps := [][]Step{
		{{Device: "pe1", Phase: Locked}, {Device: "pe2", Phase: Locked}, {Device: "pe3", Phase: Locked}},
		{{Device: "pe1", Phase: Edited, Detail: "2 changes"}, {Device: "pe2", Phase: Edited, Detail: "1 changes"}, {Device: "pe3", Phase: Edited}},
		{
			{Device: "pe1", Phase: Committed, PersistID: "p-1", Pending: &PendingCommit{Record: rec, Before: before}},
			{Device: "pe2", Phase: Committed, PersistID: "p-1", Pending: &PendingCommit{Record: ownership.Record{}, Before: configtree.New()}},
			{Device: "pe3", Phase: PhaseFailed, Detail: "edit-config: invalid-value"},
		},
		{{Device: "pe1", Phase: Cancelled, Detail: "pe3 failed"}, {Device: "pe2", Phase: Cancelled, Detail: "pe3 failed"}},
		// One device twice, in order: failed, then mixed.
		{{Device: "pe2", Phase: PhaseFailed, Detail: "cancel-commit: in-use"}, {Device: "pe2", Phase: PhaseMixed, Detail: "2 nodes"}},
	}
	read := func(batched bool) *Run {
		j, _ := be.open(t)
		id := mustBegin(t, j, Run{IntentCommit: "c1", Atomic: true}, devices...)
		for _, batch := range steps {
			if batched {
				if err := j.EnterPhases(ctx, id, batch); err != nil {
					t.Fatal(err)
				}
				continue
			}
			for _, s := range batch {
				if s.Pending != nil {
					if err := j.SetPending(ctx, id, s.Device, s.Pending.Record, s.Pending.Before); err != nil {
						t.Fatal(err)
					}
				}
				mustEnter(t, j, id, s.Device, s.Phase, s.PersistID, s.Detail)
			}
		}
		run, err := j.Run(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		// The clock is not the point: a batch reads it once.
		for i := range run.Devices {
			for k := range run.Devices[i].Transitions {
				run.Devices[i].Transitions[k].At = time.Time{}
			}
		}
		run.StartedAt, run.ID = time.Time{}, 0
		img, ok, err := j.PreImage(ctx, id, "pe1")
		if err != nil || !ok || !img.Equal(before) {
			t.Errorf("batched %v: pre-image of pe1: ok %v, err %v", batched, ok, err)
		}
		r, ok, err := j.PendingOwnership(ctx, id, "pe1")
		if err != nil || !ok || r.Desired != "fp" || !r.Created.Equal(rec.Created) {
			t.Errorf("batched %v: pending record of pe1: %+v, ok %v, err %v", batched, r, ok, err)
		}
		return run
	}
	single, batched := read(false), read(true)
	if d := cmp.Diff(single, batched, cmp.Comparer(func(a, b configtree.Tree) bool { return a.Equal(&b) })); d != "" {
		t.Errorf("single writes (-) and batches (+) differ:\n%s", d)
	}
	if batched.Devices[0].Phase != Cancelled || batched.Devices[0].PersistID != "p-1" || batched.Devices[2].Error != "edit-config: invalid-value" ||
		batched.Devices[1].Phase != PhaseMixed || batched.Devices[1].Error != "cancel-commit: in-use" {
		t.Errorf("devices after the batches: %+v", batched.Devices)
	}
}

// A batch is all or nothing: one bad step records none of the others.
func TestBatchAllOrNothing(t *testing.T) { eachBackend(t, testBatchAllOrNothing) }

func testBatchAllOrNothing(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t)
	id := mustBegin(t, j, Run{}, "pe1", "pe2")
	tests := []struct {
		name  string
		steps []Step
		is    error
		say   string
	}{
		{"unknown device", []Step{{Device: "pe1", Phase: Locked}, {Device: "pe9", Phase: Locked}}, ErrNotFound, `device "pe9"`},
		{"unknown phase", []Step{{Device: "pe1", Phase: Locked}, {Device: "pe2", Phase: "lost"}}, nil, `unknown phase "lost"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := j.EnterPhases(ctx, id, tt.steps)
			if err == nil || !strings.Contains(err.Error(), tt.say) || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Errorf("error %v, want one saying %q (is %v)", err, tt.say, tt.is)
			}
			run, err := j.Run(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range run.Devices {
				if d.Phase != Pending || len(d.Transitions) != 1 {
					t.Errorf("%s: %s after a refused batch, %d transitions", d.Device, d.Phase, len(d.Transitions))
				}
			}
		})
	}
	if err := j.FinishRun(ctx, id, Failed, ""); err != nil {
		t.Fatal(err)
	}
	if err := j.EnterPhases(ctx, id, []Step{{Device: "pe1", Phase: Locked}, {Device: "pe2", Phase: Locked}}); !errors.Is(err, ErrFinished) {
		t.Errorf("finished run: %v, want ErrFinished", err)
	}
	if err := j.EnterPhases(ctx, id, nil); err != nil {
		t.Errorf("empty batch: %v", err)
	}
}

func TestSetOwnerships(t *testing.T) { eachBackend(t, testSetOwnerships) }

func testSetOwnerships(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t)
	tree := desiredTree(t)
	if err := j.SetOwnerships(ctx, []Owned{
		{Device: "pe1", Record: ownership.Record{Created: tree, Desired: "a"}},
		{Device: "pe2", Record: ownership.Record{Shared: tree, Desired: "b"}},
	}, "c1"); err != nil {
		t.Fatal(err)
	}
	for dev, want := range map[string]string{"pe1": "a", "pe2": "b"} {
		r, commit, err := j.Ownership(ctx, dev)
		if err != nil || r.Desired != want || commit != "c1" {
			t.Errorf("%s: %+v %q %v", dev, r, commit, err)
		}
	}
	// A zero record forgets the device, in the same batch as a new one.
	if err := j.SetOwnerships(ctx, []Owned{{Device: "pe1"}, {Device: "pe3", Record: ownership.Record{Created: tree, Desired: "c"}}}, "c2"); err != nil {
		t.Fatal(err)
	}
	if r, _, err := j.Ownership(ctx, "pe1"); err != nil || !r.IsZero() {
		t.Errorf("pe1 after a zero record: %+v, %v", r, err)
	}
	for _, bad := range [][]Owned{{{Device: ""}}, {{Device: "pe4"}, {Device: "pe4"}}} {
		if err := j.SetOwnerships(ctx, bad, "c3"); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

// BenchmarkEnterPhasesChangeSet journals one phase of a 1,000-device change
// set: one transaction for all of them, against one per device.
func BenchmarkEnterPhasesChangeSet(b *testing.B) {
	const n = 1000
	ctx := context.Background()
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("pe%04d", i)
	}
	phases := []Phase{Locked, Edited, Committed, Verified, Confirmed}
	b.Run("batch", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			j, _ := openTemp(b)
			id := mustBegin(b, j, Run{}, names...)
			b.StartTimer()
			for _, p := range phases {
				steps := make([]Step, n)
				for i, d := range names {
					steps[i] = Step{Device: d, Phase: p}
				}
				if err := j.EnterPhases(ctx, id, steps); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("per-device", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			j, _ := openTemp(b)
			id := mustBegin(b, j, Run{}, names...)
			b.StartTimer()
			for _, p := range phases {
				for _, d := range names {
					if err := j.EnterPhase(ctx, id, d, p, "", ""); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	})
}
