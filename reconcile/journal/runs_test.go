package journal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRunRoundTrip(t *testing.T) { eachBackend(t, testRunRoundTrip) }

func testRunRoundTrip(t *testing.T, be backend) {
	ctx := context.Background()
	clk := newClock()
	j, _ := be.open(t, WithClock(clk.now))
	start := time.Date(2026, 11, 27, 2, 0, 0, 0, time.FixedZone("JST", 9*3600))
	plan := []byte(`{"devices":{"pe1":[{"action":"+","path":"/interfaces"}]}}`)
	id := mustBegin(t, j, Run{
		ID:           42, // ignored
		IntentCommit: "0123abcd",
		StartedBy:    "cli:alice",
		Atomic:       true,
		Plan:         plan,
		StartedAt:    start,
		Outcome:      Applied, // ignored: a run begins Running
	}, "pe2", "pe1")

	mustEnter(t, j, id, "pe1", Locked, "", "")
	mustEnter(t, j, id, "pe2", Locked, "", "lock held by session 7, retried")
	mustEnter(t, j, id, "pe1", Edited, "", "")
	mustEnter(t, j, id, "pe1", Committed, "p-1", "")
	mustEnter(t, j, id, "pe2", PhaseFailed, "", "edit-config: invalid-value")
	mustEnter(t, j, id, "pe1", Cancelled, "", "pe2 failed") // persist id kept
	if err := j.FinishRun(ctx, id, RolledBack, "pe2 refused the edit; pe1 cancelled"); err != nil {
		t.Fatal(err)
	}

	got, err := j.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	// The clock's first reading stamped the schema migration.
	at := func(s int) time.Time { return time.Date(2026, 11, 27, 3, 0, SchemaVersion()+s, 0, time.UTC) }
	want := &Run{
		ID: id, IntentCommit: "0123abcd", StartedBy: "cli:alice", Atomic: true, Plan: plan,
		StartedAt: start, FinishedAt: at(7), Outcome: RolledBack,
		Summary: "pe2 refused the edit; pe1 cancelled",
		Devices: []DeviceRun{{
			Device: "pe1", Phase: Cancelled, PersistID: "p-1",
			Transitions: []Transition{
				{Phase: Pending, At: start},
				{Phase: Locked, At: at(1)},
				{Phase: Edited, At: at(3)},
				{Phase: Committed, At: at(4)},
				{Phase: Cancelled, At: at(6), Detail: "pe2 failed"},
			},
		}, {
			Device: "pe2", Phase: PhaseFailed, Error: "edit-config: invalid-value",
			Transitions: []Transition{
				{Phase: Pending, At: start},
				{Phase: Locked, At: at(2), Detail: "lock held by session 7, retried"},
				{Phase: PhaseFailed, At: at(5), Detail: "edit-config: invalid-value"},
			},
		}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Run (-want +got):\n%s", d)
	}
}

func TestRunDefaults(t *testing.T) { eachBackend(t, testRunDefaults) }

func testRunDefaults(t *testing.T, be backend) {
	ctx := context.Background()
	clk := newClock()
	j, _ := be.open(t, WithClock(clk.now))
	// No devices (a run with nothing to change), no plan, no start time.
	id := mustBegin(t, j, Run{IntentCommit: "c", StartedBy: "daemon"})
	got, err := j.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := &Run{ID: id, IntentCommit: "c", StartedBy: "daemon",
		StartedAt: time.Date(2026, 11, 27, 3, 0, 1+SchemaVersion(), 0, time.UTC), Outcome: Running} // 1s a migration
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Run (-want +got):\n%s", d)
	}
}

func TestPersistIDAndError(t *testing.T) { eachBackend(t, testPersistIDAndError) }

func testPersistIDAndError(t *testing.T, be backend) {
	// Each step enters a phase and says what the device must then hold.
	steps := []struct {
		phase              Phase
		persistID, detail  string
		wantPersist, wantE string
	}{
		{Committed, "p-1", "", "p-1", ""},
		{Verified, "", "", "p-1", ""},          // "" keeps the persist id
		{Committed, "p-2", "retry", "p-2", ""}, // a new one replaces it
		{PhaseFailed, "", "timeout", "p-2", "timeout"},
		{Undone, "", "cancel-commit", "p-2", "timeout"}, // the error stays
		{PhaseFailed, "", "again", "p-2", "again"},
	}
	ctx := context.Background()
	j, _ := be.open(t)
	id := mustBegin(t, j, Run{}, "pe1")
	for i, s := range steps {
		mustEnter(t, j, id, "pe1", s.phase, s.persistID, s.detail)
		r, err := j.Run(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		d := r.Devices[0]
		if d.Phase != s.phase || d.PersistID != s.wantPersist || d.Error != s.wantE {
			t.Errorf("step %d: got phase %s persist %q error %q, want %s %q %q",
				i, d.Phase, d.PersistID, d.Error, s.phase, s.wantPersist, s.wantE)
		}
	}
}

func TestRunsNewestFirst(t *testing.T) { eachBackend(t, testRunsNewestFirst) }

func testRunsNewestFirst(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t, WithClock(newClock().now))
	var ids []RunID
	for i := range 5 {
		id := mustBegin(t, j, Run{IntentCommit: fmt.Sprint("c", i), Plan: []byte(`{}`)}, "pe1", "pe2")
		mustEnter(t, j, id, "pe2", Locked, "", "")
		ids = append(ids, id)
	}
	if err := j.FinishRun(ctx, ids[3], Applied, ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		limit int
		want  []RunID
	}{
		{0, []RunID{ids[4], ids[3], ids[2], ids[1], ids[0]}},
		{-1, []RunID{ids[4], ids[3], ids[2], ids[1], ids[0]}},
		{2, []RunID{ids[4], ids[3]}},
		{10, []RunID{ids[4], ids[3], ids[2], ids[1], ids[0]}},
	}
	for _, tt := range tests {
		runs, err := j.Runs(ctx, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []RunID
		for _, r := range runs {
			got = append(got, r.ID)
			if r.Plan != nil {
				t.Errorf("Runs: run %d has a plan", r.ID)
			}
			wantDev := []DeviceRun{{Device: "pe1", Phase: Pending}, {Device: "pe2", Phase: Locked}}
			if d := cmp.Diff(wantDev, r.Devices); d != "" {
				t.Errorf("Runs: run %d devices (-want +got):\n%s", r.ID, d)
			}
			if wantO := map[bool]Outcome{true: Applied, false: Running}[r.ID == ids[3]]; r.Outcome != wantO {
				t.Errorf("Runs: run %d outcome %s, want %s", r.ID, r.Outcome, wantO)
			}
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("Runs(%d) ids (-want +got):\n%s", tt.limit, d)
		}
	}
	// Newer runs have later start times too, with this clock.
	runs, _ := j.Runs(ctx, 0)
	for i := 1; i < len(runs); i++ {
		if !runs[i-1].StartedAt.After(runs[i].StartedAt) {
			t.Errorf("run %d started %v, not after run %d at %v", runs[i-1].ID, runs[i-1].StartedAt, runs[i].ID, runs[i].StartedAt)
		}
	}
}

func TestRunsEmpty(t *testing.T) { eachBackend(t, testRunsEmpty) }

func testRunsEmpty(t *testing.T, be backend) {
	j, _ := be.open(t)
	for name, f := range map[string]func() ([]Run, error){
		"Runs":       func() ([]Run, error) { return j.Runs(context.Background(), 10) },
		"Unfinished": func() ([]Run, error) { return j.Unfinished(context.Background()) },
	} {
		runs, err := f()
		if err != nil || len(runs) != 0 {
			t.Errorf("%s on an empty journal: %v, %v", name, runs, err)
		}
	}
}

func TestErrors(t *testing.T) { eachBackend(t, testErrors) }

func testErrors(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t)
	running := mustBegin(t, j, Run{}, "pe1")
	finished := mustBegin(t, j, Run{}, "pe1")
	if err := j.FinishRun(ctx, finished, Failed, "boom"); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name    string
		f       func() error
		is      error  // errors.Is target, or nil
		message string // part of the message
	}{
		{"Run unknown", func() error { _, err := j.Run(ctx, 999); return err }, ErrNotFound, "run 999"},
		{"EnterPhase unknown run", func() error { return j.EnterPhase(ctx, 999, "pe1", Locked, "", "") }, ErrNotFound, "no such run"},
		{"EnterPhase unknown device", func() error { return j.EnterPhase(ctx, running, "pe9", Locked, "", "") }, ErrNotFound, `"pe9"`},
		{"EnterPhase finished run", func() error { return j.EnterPhase(ctx, finished, "pe1", Locked, "", "") }, ErrFinished, "outcome failed"},
		{"EnterPhase unknown phase", func() error { return j.EnterPhase(ctx, running, "pe1", "frobbed", "", "") }, nil, `unknown phase "frobbed"`},
		{"FinishRun twice", func() error { return j.FinishRun(ctx, finished, Applied, "") }, ErrFinished, "already finished"},
		{"FinishRun unknown run", func() error { return j.FinishRun(ctx, 999, Applied, "") }, ErrNotFound, "run 999"},
		{"FinishRun running", func() error { return j.FinishRun(ctx, running, Running, "") }, nil, `invalid outcome "running"`},
		{"FinishRun unknown outcome", func() error { return j.FinishRun(ctx, running, "great", "") }, nil, `invalid outcome "great"`},
		{"BeginRun duplicate", func() error { _, err := j.BeginRun(ctx, Run{}, []string{"a", "b", "a"}); return err }, nil, `"a" listed twice`},
		{"BeginRun empty device", func() error { _, err := j.BeginRun(ctx, Run{}, []string{""}); return err }, nil, "empty device"},
		{"BeginRun binary plan", func() error { _, err := j.BeginRun(ctx, Run{Plan: []byte{0xff, 0xfe}}, nil); return err }, nil, "not UTF-8"},
		{"EnterPhase cancelled", func() error { return j.EnterPhase(cancelled, running, "pe1", Locked, "", "") }, context.Canceled, ""},
		{"SetApplied empty device", func() error { return setApplied(ctx, j, "", nil, "") }, nil, "empty device"},
		{"SetState empty key", func() error { return j.SetState(ctx, "", "v") }, nil, "empty key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.f()
			if err == nil {
				t.Fatal("no error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not say %q", err, tt.message)
			}
		})
	}
	// Refused calls left nothing behind.
	r, err := j.Run(ctx, running)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Devices) != 1 || len(r.Devices[0].Transitions) != 1 || r.Outcome != Running {
		t.Errorf("running run changed by refused calls: %+v", r)
	}
	runs, _ := j.Runs(ctx, 0)
	if len(runs) != 2 {
		t.Errorf("%d runs, want 2: a refused BeginRun recorded one", len(runs))
	}
}

// TestUnfinishedAfterCrash is the recovery story: a process begins a run,
// records a confirmed commit under way, and dies; the next start finds the run
// with the device's phase and persist id.
func TestUnfinishedAfterCrash(t *testing.T) { eachBackend(t, testUnfinishedAfterCrash) }

func testUnfinishedAfterCrash(t *testing.T, be backend) {
	ctx := context.Background()
	j, path := be.open(t)
	done := mustBegin(t, j, Run{IntentCommit: "old"}, "pe1")
	if err := j.FinishRun(ctx, done, Applied, ""); err != nil {
		t.Fatal(err)
	}
	plan := []byte(`{"v":1}`)
	id := mustBegin(t, j, Run{IntentCommit: "abc", StartedBy: "daemon", Atomic: true, Plan: plan}, "pe1", "pe2")
	mustEnter(t, j, id, "pe1", Committed, "netrecon-17-pe1", "")
	mustEnter(t, j, id, "pe2", Edited, "", "")
	// The crash: no FinishRun, and no more writes from this Journal.
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	j2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	got, err := j2.Unfinished(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("Unfinished: %d runs, want 1: %+v", len(got), got)
	}
	r := got[0]
	want := []DeviceRun{
		{Device: "pe1", Phase: Committed, PersistID: "netrecon-17-pe1"},
		{Device: "pe2", Phase: Edited},
	}
	if r.ID != id || r.Outcome != Running || !r.Atomic || string(r.Plan) != string(plan) || r.IntentCommit != "abc" {
		t.Errorf("Unfinished run: %+v", r)
	}
	if d := cmp.Diff(want, r.Devices); d != "" {
		t.Errorf("Unfinished devices (-want +got):\n%s", d)
	}
	// Recovery settles it; then nothing is unfinished.
	mustEnter(t, j2, id, "pe1", Cancelled, "", "recovery: cancel-commit")
	mustEnter(t, j2, id, "pe2", Cancelled, "", "recovery: never committed")
	if err := j2.FinishRun(ctx, id, Recovered, "rolled back after a crash"); err != nil {
		t.Fatal(err)
	}
	if got, err := j2.Unfinished(ctx); err != nil || len(got) != 0 {
		t.Errorf("Unfinished after recovery: %v, %v", got, err)
	}
}

func TestUnfinishedOldestFirst(t *testing.T) { eachBackend(t, testUnfinishedOldestFirst) }

func testUnfinishedOldestFirst(t *testing.T, be backend) {
	j, _ := be.open(t)
	a := mustBegin(t, j, Run{}, "pe1")
	b := mustBegin(t, j, Run{}, "pe2", "pe3")
	got, err := j.Unfinished(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != a || got[1].ID != b || len(got[0].Devices) != 1 || len(got[1].Devices) != 2 {
		t.Errorf("Unfinished: %+v", got)
	}
}

func TestValid(t *testing.T) {
	for _, p := range []Phase{Pending, Locked, Edited, Committed, Verified, Confirmed, Cancelled, Undone, PhaseFailed, Skipped} {
		if !p.Valid() {
			t.Errorf("%s not valid", p)
		}
	}
	for _, o := range []Outcome{Running, Applied, RolledBack, Failed, Partial, NoChanges, Recovered} {
		if !o.Valid() {
			t.Errorf("%s not valid", o)
		}
	}
	if Phase("").Valid() || Outcome("").Valid() || Phase("Locked").Valid() {
		t.Error("invalid value accepted")
	}
}
