package schedule

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"time"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
)

// Manual steps gate a service: a new service whose type declares steps is
// configured only once each of its tasks is marked done (journal.Task.Holds).
// The daemon and the CLI gate through these functions, so that both hold
// the same services for the same journal.

// TaskSpecs are the journal tasks the rendered steps ask for. The hash
// covers the values a person types, so a changed title or instructions do
// not reopen a task.
func TaskSpecs(steps []render.Step) []journal.TaskSpec {
	out := make([]journal.TaskSpec, 0, len(steps))
	for _, st := range steps {
		data, _ := json.Marshal(st.Data)
		h := sha256.Sum256(data)
		out = append(out, journal.TaskSpec{Service: st.Service, Step: st.ID, Title: st.Title, Data: string(data), DataHash: hex.EncodeToString(h[:])})
	}
	return out
}

// Held maps each service the tasks hold to its holding steps, sorted.
func Held(tasks []journal.Task) map[string][]string {
	held := map[string][]string{}
	for _, t := range tasks {
		if t.Holds() {
			held[t.Service] = append(held[t.Service], t.Step)
		}
	}
	for _, steps := range held {
		slices.Sort(steps)
	}
	return held
}

// HeldAfterSync is Held of the tasks journal.SyncTaskSpecs would leave from
// tasks and specs, without writing: what a plan that only reads the journal
// holds. Before the journal's baseline (baselined false) nothing is held,
// since the first sync records every task done; after it, a step the
// journal does not know yet opens and holds, and a known one holds as it
// does now (a done one whose values changed reopens, which holds nothing).
func HeldAfterSync(tasks []journal.Task, specs []journal.TaskSpec, baselined bool) map[string][]string {
	held := map[string][]string{}
	if !baselined {
		return held
	}
	known := make(map[[2]string]journal.Task, len(tasks))
	for _, t := range tasks {
		known[[2]string{t.Service, t.Step}] = t
	}
	for _, s := range specs {
		t, ok := known[[2]string{s.Service, s.Step}]
		if !ok || t.Holds() {
			held[s.Service] = append(held[s.Service], s.Step)
		}
	}
	for _, steps := range held {
		slices.Sort(steps)
	}
	return held
}

// StepGate holds the services of held; nil when it holds none.
func StepGate(held map[string][]string) Gate {
	if len(held) == 0 {
		return nil
	}
	return func(s *schema.Service) bool { return len(held[s.Name]) > 0 }
}

// TaskDoc is t as the API shows it, with its step's instructions (""
// where the rendered steps are not at hand). overdueAfter is the age at
// which an open task is overdue; zero: never.
func TaskDoc(t journal.Task, instructions string, now time.Time, overdueAfter time.Duration) api.Task {
	v := api.Task{Service: t.Service, Step: t.Step, Title: t.Title, State: api.TaskStateDone, OpenedAt: t.OpenedAt,
		Reopened: t.Reopened, DoneBy: t.DoneBy, DoneAt: t.DoneAt, Reference: t.Reference, Data: []api.TaskValue{},
		Instructions: instructions}
	var vals []render.StepValue
	if err := json.Unmarshal([]byte(t.Data), &vals); err == nil {
		for _, x := range vals {
			v.Data = append(v.Data, api.TaskValue{Name: x.Name, Value: x.Value})
		}
	}
	if t.Open() {
		v.State, v.Holds = api.TaskStateOpen, t.Holds()
		v.AgeSeconds = now.Sub(t.OpenedAt).Seconds()
		v.Overdue = overdueAfter > 0 && now.Sub(t.OpenedAt) >= overdueAfter
	}
	return v
}
