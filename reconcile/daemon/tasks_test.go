package daemon

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/api"
)

// A new internet-access service: its type (intent-example) declares the
// JPNIC registration as a manual step.
const newAccess = `apiVersion: netrecon.io/v1
kind: internet-access
metadata:
  name: acme-inet
  customer: acme
  labels:
    order: SO-2026-0999
spec:
  device: pe1-tyo
  interface: ge-0/0/9
  vlan: 778
  description: INET-778
  ipv4: 100.64.78.1/30
  peer: 100.64.78.2
  prefixes:
    - 198.18.0.0/28
    - 198.18.1.0/28
`

func taskOf(l api.TaskList, service string) *api.Task {
	for i := range l.Tasks {
		if l.Tasks[i].Service == service {
			return &l.Tasks[i]
		}
	}
	return nil
}

// A service with an open manual step is not configured until the step is
// marked done (through the API, with who and a reference), then it is in
// the next pass; the task shows the values rendered from the intent, and
// an open step ages into the tasks-overdue alarm.
func TestManualStepHoldsTheServiceUntilDone(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.withWriteToken()
	l.cfg.Tasks.AlarmAfter = Duration(time.Hour)
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	clock := newTestClock(now)
	d := l.start(Options{Now: clock.Now})
	if p := d.SyncOnce(context.Background(), "test"); len(p.Failed) != 0 || len(p.Applied) == 0 {
		t.Fatalf("first pass: %+v", p)
	}
	// The services there at the first sync ran before their steps were
	// tracked: their tasks are the baseline's, done.
	if tk := taskOf(d.Tasks(), "hooli-tokyo"); tk == nil || tk.State != api.TaskStateDone || tk.Holds {
		t.Fatalf("hooli-tokyo's task after the first pass: %+v, want done by the baseline", tk)
	}

	l.commit("a new access", map[string]string{"services/acme/acme-inet.yaml": newAccess})
	dev := simDevice(t, l, "pe1-tyo")
	onDevice := func() bool { return strings.Contains(dev.Running().String(), "INET-778") }
	if p := d.SyncOnce(context.Background(), "test"); len(p.Failed) != 0 || onDevice() {
		t.Fatalf("with the step open: pass %+v, on the device %v; want not configured", p, onDevice())
	}
	h := d.Handler()
	var list api.TaskList
	if code := getJSON(t, h, "/api/v1/tasks", opsToken, &list); code != 200 {
		t.Fatalf("GET /api/v1/tasks: %d", code)
	}
	tk := taskOf(list, "acme-inet")
	if tk == nil || tk.Step != "jpnic-registration" || tk.State != api.TaskStateOpen || !tk.Holds || list.Tasks[0].Service != "acme-inet" {
		t.Fatalf("tasks: %+v, want acme-inet's jpnic-registration open, holding, listed first", list.Tasks)
	}
	want := map[string]string{"network_name": "ACME-INET", "address_block": "198.18.0.0/28, 198.18.1.0/28",
		"customer": "acme", "order": "SO-2026-0999", "description": "INET-778"}
	for _, v := range tk.Data {
		if want[v.Name] != v.Value {
			t.Errorf("data %s = %q, want %q", v.Name, v.Value, want[v.Name])
		}
		delete(want, v.Name)
	}
	if len(want) != 0 {
		t.Errorf("data lacks %v", want)
	}
	if d.alarms.has(AlarmTasksOverdue, "") {
		t.Error("tasks-overdue raised at once")
	}

	clock.Set(now.Add(time.Hour + time.Second))
	if p := d.SyncOnce(context.Background(), "test"); onDevice() || !d.alarms.has(AlarmTasksOverdue, "") {
		t.Fatalf("an hour on: pass %+v, on the device %v, alarm %v; want held and alarmed", p, onDevice(), d.alarms.has(AlarmTasksOverdue, ""))
	}

	body, _ := json.Marshal(api.TaskDone{Reference: ""})
	auth := map[string]string{"Authorization": "Bearer " + opsToken}
	if w := do(t, h, "POST", "/api/v1/tasks/acme-inet/jpnic-registration/done", body, auth); w.Code != 400 {
		t.Errorf("done without a reference: %d %s, want 400", w.Code, w.Body)
	}
	if w := do(t, h, "POST", "/api/v1/tasks/acme-inet/nope/done", []byte(`{"reference":"x"}`), auth); w.Code != 404 {
		t.Errorf("done of an unknown step: %d, want 404", w.Code)
	}
	body, _ = json.Marshal(api.TaskDone{Reference: "JPNIC-R-20261202-0001", As: "alice"})
	w := do(t, h, "POST", "/api/v1/tasks/acme-inet/jpnic-registration/done", body, auth)
	var done api.Task
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &done) != nil || done.State != api.TaskStateDone || done.DoneBy != "alice" || done.Reference != "JPNIC-R-20261202-0001" {
		t.Fatalf("done: %d %s", w.Code, w.Body)
	}
	if p := d.SyncOnce(context.Background(), "test"); len(p.Failed) != 0 || !onDevice() {
		t.Fatalf("the pass after done: %+v, on the device %v; want configured", p, onDevice())
	}
	if d.alarms.has(AlarmTasksOverdue, "") {
		t.Error("tasks-overdue still raised with no step open")
	}

	// Changed values reopen the step, but the running service stays.
	l.commit("another prefix", map[string]string{"services/acme/acme-inet.yaml": strings.Replace(newAccess, "198.18.1.0/28", "198.18.2.0/28", 1)})
	if p := d.SyncOnce(context.Background(), "test"); len(p.Failed) != 0 || !onDevice() {
		t.Fatalf("after a reopen: %+v, on the device %v; want still configured", p, onDevice())
	}
	if tk := taskOf(d.Tasks(), "acme-inet"); tk.State != api.TaskStateOpen || tk.Holds || tk.Reopened != 1 {
		t.Errorf("reopened task: %+v, want open, not holding, reopened once", tk)
	}
}
