package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/schedule"
	"github.com/netrecon/netrecon/render"
)

// Manual steps (docs/daemon.md, "Tasks"). A service type may declare steps
// only a person can do; each service of the type gets a task per step in
// the journal, with the step's values rendered from the intent. A new
// service waits for its open tasks: it is planned as absent until each is
// marked done (API, CLI), then configured by the next pass. When the intent
// changes a done task's values, the task reopens — listed, and alarmed when
// it stays open — but a service already running is not taken down for it.

// AlarmTasksOverdue: a manual step stayed open longer than
// Config.Tasks.AlarmAfter.
const AlarmTasksOverdue AlarmKind = "tasks-overdue"

// syncTasks brings the journal's tasks to the commit's steps, once per
// commit, and keeps them for the gate and the API.
func (d *Daemon) syncTasks(ctx context.Context, c *intentCache) error {
	d.mu.Lock()
	synced := d.tasksCommit == c.commit
	d.mu.Unlock()
	if synced {
		return nil
	}
	tasks, err := d.journal.SyncTaskSpecs(ctx, schedule.TaskSpecs(c.steps), c.commit)
	if err != nil {
		return err
	}
	steps := make(map[[2]string]render.Step, len(c.steps))
	for _, st := range c.steps {
		steps[[2]string{st.Service, st.ID}] = st
	}
	d.mu.Lock()
	d.tasks, d.stepDefs, d.tasksCommit = tasks, steps, c.commit
	d.mu.Unlock()
	d.changed()
	return nil
}

// taskGate holds the services that wait for a manual step.
func (d *Daemon) taskGate() schedule.Gate {
	d.mu.Lock()
	held := schedule.Held(d.tasks)
	d.mu.Unlock()
	return schedule.StepGate(held)
}

// alarmTasks raises AlarmTasksOverdue while a task is open longer than
// Config.Tasks.AlarmAfter, and clears it when none is.
func (d *Daemon) alarmTasks(ctx context.Context, now time.Time) {
	age := d.cfg.Tasks.AlarmAfter.D()
	var late []string
	d.mu.Lock()
	for _, t := range d.tasks {
		if t.Open() && now.Sub(t.OpenedAt) >= age {
			late = append(late, fmt.Sprintf("%s/%s (open since %s)", t.Service, t.Step, t.OpenedAt.UTC().Format(time.RFC3339)))
		}
	}
	d.mu.Unlock()
	if len(late) == 0 {
		d.alarms.clear(ctx, AlarmTasksOverdue, "")
		return
	}
	d.alarms.raise(ctx, Alarm{Kind: AlarmTasksOverdue, Failures: len(late),
		Message: fmt.Sprintf("%d manual steps open longer than %s: %s", len(late), age, strings.Join(late, ", "))})
}

// Tasks is every task of the followed commit: open ones first, then by
// service and step.
func (d *Daemon) Tasks() api.TaskList {
	now := d.now()
	age := d.cfg.Tasks.AlarmAfter.D()
	d.mu.Lock()
	defer d.mu.Unlock()
	out := api.TaskList{Tasks: make([]api.Task, 0, len(d.tasks))}
	for _, t := range d.tasks {
		out.Tasks = append(out.Tasks, d.apiTask(t, now, age))
	}
	slices.SortStableFunc(out.Tasks, func(a, b api.Task) int {
		if a.State != b.State {
			return strings.Compare(b.State, a.State) // open before done
		}
		return 0
	})
	return out
}

// apiTask is t as the API shows it; under d.mu.
func (d *Daemon) apiTask(t journal.Task, now time.Time, age time.Duration) api.Task {
	return schedule.TaskDoc(t, d.stepDefs[[2]string{t.Service, t.Step}].Instructions, now, age)
}

// DoneTask marks the step of service done by who with reference, records
// the action, and triggers a pass so that a service it held is configured.
func (d *Daemon) DoneTask(ctx context.Context, service, step string, req api.TaskDone, who Who) (api.Task, error) {
	req.Reference = strings.TrimSpace(req.Reference)
	if req.Reference == "" {
		return api.Task{}, refused(http.StatusBadRequest, "reference is required: what shows the step was done (a registry's receipt number)")
	}
	t, err := d.journal.DoneTask(ctx, service, step, who.String(), req.Reference)
	if errors.Is(err, journal.ErrNotFound) {
		return api.Task{}, refused(http.StatusNotFound, "no manual step %q of service %q in the followed commit", step, service)
	}
	if err != nil {
		return api.Task{}, err
	}
	target := service + "/" + step
	if _, err := d.journal.RecordAction(ctx, journal.Action{Action: "task-done", Target: target, Who: who.String(), Token: who.Token,
		Reason: "manual step done", Detail: "reference " + req.Reference}); err != nil {
		return api.Task{}, err
	}
	now := d.now()
	d.mu.Lock()
	for i := range d.tasks {
		if d.tasks[i].Service == service && d.tasks[i].Step == step {
			d.tasks[i] = t
		}
	}
	v := d.apiTask(t, now, d.cfg.Tasks.AlarmAfter.D())
	d.mu.Unlock()
	d.log.Info("manual step done", "service", service, "step", step, "who", who.String(), "token", who.Token, "reference", req.Reference)
	d.changed()
	d.Trigger(ReasonAction)
	return v, nil
}

// maxTaskBody caps POST .../done: a reference and a name.
const maxTaskBody = 16 << 10

func (d *Daemon) postTaskDone(w http.ResponseWriter, r *http.Request, c caller) {
	var req api.TaskDone
	dec := json.NewDecoder(io.LimitReader(r.Body, maxTaskBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, apiErr("body: want a JSON api.TaskDone (docs/openapi.yaml): "+err.Error()))
		return
	}
	v, err := d.DoneTask(r.Context(), r.PathValue("service"), r.PathValue("step"), req, Who{Person: strings.TrimSpace(req.As), Token: c.token})
	var ae *ActionError
	switch {
	case errors.As(err, &ae):
		writeJSON(w, ae.Code, apiErr(ae.Msg))
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, apiErr(err.Error()))
	default:
		writeJSON(w, http.StatusOK, v)
	}
}
