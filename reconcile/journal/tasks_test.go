package journal

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A task opens, is marked done with who and a reference, stays done while
// its data stays, reopens when the data changes, and goes with its service.
func TestTasksOpenDoneReopenForget(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	j, path := openTemp(t, WithClock(func() time.Time { return now }))
	spec := TaskSpec{Service: "acme-net", Step: "jpnic", Title: "Register", Data: `{"block":"198.51.100.0/26"}`, DataHash: "h1"}
	got, err := j.SyncTasks(ctx, []TaskSpec{spec}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].Open() || !got[0].OpenedAt.Equal(now) {
		t.Fatalf("after the first sync: %+v, want one open task", got)
	}
	if _, err := j.DoneTask(ctx, "acme-net", "nope", "ops", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("done of an unknown step: %v, want ErrNotFound", err)
	}
	now = now.Add(time.Hour)
	done, err := j.DoneTask(ctx, "acme-net", "jpnic", "alice", "JPNIC-2026-1234")
	if err != nil {
		t.Fatal(err)
	}
	if done.Open() || done.DoneBy != "alice" || done.Reference != "JPNIC-2026-1234" || !done.DoneAt.Equal(now) {
		t.Errorf("done = %+v", done)
	}
	j.Close()
	if j, err = Open(ctx, path, WithClock(func() time.Time { return now })); err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if got, _ := j.SyncTasks(ctx, []TaskSpec{spec}, false); len(got) != 1 || got[0].Open() || got[0].Reopened != 0 {
		t.Errorf("same data again, after a reopen of the journal: %+v, want still done", got)
	}
	now = now.Add(time.Hour)
	spec.Data, spec.DataHash = `{"block":"198.51.100.0/25"}`, "h2"
	got, _ = j.SyncTasks(ctx, []TaskSpec{spec}, false)
	if len(got) != 1 || !got[0].Open() || got[0].Reopened != 1 || got[0].DoneBy != "" || got[0].Reference != "" || !got[0].OpenedAt.Equal(now) || got[0].Data != spec.Data {
		t.Errorf("changed data: %+v, want reopened with the new data", got)
	}
	if got, _ := j.SyncTasks(ctx, nil, false); len(got) != 0 {
		t.Errorf("service gone: %+v, want no task", got)
	}
}

// A baseline sync records its new tasks done: the services were running
// before their steps were tracked. A later new task opens.
func TestBaselineTasksAreDone(t *testing.T) {
	ctx := context.Background()
	j, _ := openTemp(t)
	got, err := j.SyncTasks(ctx, []TaskSpec{{Service: "old", Step: "s", DataHash: "h"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Open() || got[0].DoneBy != BaselineBy {
		t.Fatalf("baseline: %+v, want done by %q", got, BaselineBy)
	}
	got, _ = j.SyncTasks(ctx, []TaskSpec{{Service: "old", Step: "s", DataHash: "h"}, {Service: "new", Step: "s", DataHash: "h"}}, false)
	if len(got) != 2 || !got[0].Open() || got[1].Open() {
		t.Errorf("after: %+v, want new open, old still done", got)
	}
}
