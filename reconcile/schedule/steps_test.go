package schedule

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/render"
)

func step(service, id, value string) render.Step {
	return render.Step{Service: service, ID: id, Title: id, Data: []render.StepValue{{Name: "v", Value: value}}}
}

// What a plan predicts from the journal without writing (HeldAfterSync) is
// what the journal holds once an apply syncs (Held of SyncTaskSpecs), across
// the baseline, a new service, a done step, and a done step whose values
// changed (reopened: listed, but it does not take the service down).
func TestHeldAfterSyncPredictsTheSync(t *testing.T) {
	ctx := context.Background()
	j, err := journal.Open(ctx, filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	type round struct {
		name  string
		steps []render.Step
		done  [][2]string // marked done after the sync
		want  map[string][]string
	}
	rounds := []round{
		{name: "baseline", steps: []render.Step{step("old", "reg", "1")}, want: map[string][]string{}},
		{name: "new service", steps: []render.Step{step("old", "reg", "1"), step("new", "reg", "2"), step("new", "dns", "3")},
			want: map[string][]string{"new": {"dns", "reg"}}},
		{name: "one of two done", steps: []render.Step{step("old", "reg", "1"), step("new", "reg", "2"), step("new", "dns", "3")},
			want: map[string][]string{"new": {"dns", "reg"}}, done: [][2]string{{"new", "reg"}}},
		{name: "changed open step", steps: []render.Step{step("old", "reg", "1"), step("new", "reg", "2"), step("new", "dns", "4")},
			want: map[string][]string{"new": {"dns"}}, done: [][2]string{{"new", "dns"}}},
		{name: "done, then its values changed", steps: []render.Step{step("old", "reg", "9"), step("new", "reg", "2"), step("new", "dns", "4")},
			want: map[string][]string{}},
	}
	for _, r := range rounds {
		tasks, err := j.Tasks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		baselined, err := j.TasksBaselined(ctx)
		if err != nil {
			t.Fatal(err)
		}
		specs := TaskSpecs(r.steps)
		predicted := HeldAfterSync(tasks, specs, baselined)
		synced, err := j.SyncTaskSpecs(ctx, specs, "rev")
		if err != nil {
			t.Fatal(err)
		}
		if got := Held(synced); !reflect.DeepEqual(got, predicted) || !reflect.DeepEqual(got, r.want) {
			t.Errorf("%s: held after sync %v, predicted %v, want %v", r.name, got, predicted, r.want)
		}
		for _, d := range r.done {
			if _, err := j.DoneTask(ctx, d[0], d[1], "alice", "R-1"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if g := StepGate(nil); g != nil {
		t.Error("StepGate of nothing held is not nil")
	}
}
