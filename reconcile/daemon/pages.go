package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/reconcile/journal"
)

// PageHandler is the status page (cmd/netrecon gives views/page's): another
// view of the documents the API serves. The daemon decides who may read it,
// by the API's read rules, and mounts it at Patterns; Refuse words a
// refusal as a page, since a browser's first request carries no token.
type PageHandler interface {
	http.Handler
	Patterns() []string
	Refuse(w http.ResponseWriter, r *http.Request, code int, msg string)
}

// pageRoutes mount the page's patterns behind the read scope. They are not
// in routes: those are the API, which docs/openapi.yaml documents.
func (d *Daemon) pageRoutes() []route {
	if d.opts.Pages == nil {
		return nil
	}
	p := d.opts.Pages(d)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, code, msg := d.allowed(r, ScopeRead); code != 0 {
			w.Header().Set("Connection", "close")
			p.Refuse(w, r, code, msg)
			return
		}
		p.ServeHTTP(w, r)
	})
	var rs []route
	for _, pat := range p.Patterns() {
		rs = append(rs, route{pat, h})
	}
	return rs
}

// The documents below are the API's answers as values, persist ids masked
// as writeJSON masks them, for the status page.

// masked is v as the API would answer it: every persist id masked. The
// documents always encode; were one not to, the page gets the zero value,
// never the unmasked one.
func masked[T any](v T) T {
	var out T
	b, err := json.Marshal(v)
	if err != nil {
		return out
	}
	m := maskPersistIDs(b)
	if bytes.Equal(m, b) {
		return v // nothing to mask: spare the decoding
	}
	if err := json.Unmarshal(m, &out); err != nil {
		var zero T
		return zero
	}
	return out
}

// DevicesDoc is GET /api/v1/devices.
func (d *Daemon) DevicesDoc() api.DeviceList { return masked(d.devicesList()) }

// DeviceDoc is GET /api/v1/devices/{name}; false when there is none.
func (d *Daemon) DeviceDoc(name string) (api.Device, bool) {
	v, ok := d.device(name)
	return masked(v), ok
}

// ServicesDoc is GET /api/v1/services.
func (d *Daemon) ServicesDoc() api.ServiceList { return masked(d.servicesList()) }

// ServiceDoc is GET /api/v1/services/{name}; false when there is none.
func (d *Daemon) ServiceDoc(name string) (api.Service, bool) {
	v, ok := d.service(name)
	return masked(v), ok
}

// TasksDoc is GET /api/v1/tasks.
func (d *Daemon) TasksDoc() api.TaskList { return masked(d.Tasks()) }

// OpenTasks counts TasksDoc's open tasks without making it: the overview
// asks at every read, and a daemon of thousands of services may have as
// many tasks, each with its values to decode.
func (d *Daemon) OpenTasks() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, t := range d.tasks {
		if t.Open() {
			n++
		}
	}
	return n
}

// AlarmsDoc is GET /api/v1/alarms: active ones, or past ones paged.
func (d *Daemon) AlarmsDoc(ctx context.Context, past bool, before int64, limit int) (api.AlarmList, error) {
	v, err := d.alarmsList(ctx, past, before, limit)
	return masked(v), err
}

// RunsDoc is GET /api/v1/runs.
func (d *Daemon) RunsDoc(ctx context.Context, before int64, limit int) (api.RunList, error) {
	v, err := d.runsList(ctx, before, limit)
	return masked(v), err
}

// RunDoc is GET /api/v1/runs/{id}; false when there is none.
func (d *Daemon) RunDoc(ctx context.Context, id int64) (api.Run, bool, error) {
	run, err := d.journal.Run(ctx, journal.RunID(id))
	if errors.Is(err, journal.ErrNotFound) {
		return api.Run{}, false, nil
	}
	if err != nil {
		return api.Run{}, false, err
	}
	return masked(RunView(run, false)), true, nil
}

// alarmsList is GET /api/v1/alarms.
func (d *Daemon) alarmsList(ctx context.Context, past bool, before int64, limit int) (api.AlarmList, error) {
	out := api.AlarmList{Alarms: []api.Alarm{}}
	if !past {
		for _, a := range d.alarms.list() {
			out.Alarms = append(out.Alarms, apiAlarm(a, time.Time{}))
		}
		return out, nil
	}
	as, err := d.journal.PastAlarms(ctx, before, limit+1)
	if err != nil {
		return out, err
	}
	for _, a := range as[:min(len(as), limit)] {
		out.Alarms = append(out.Alarms, apiAlarm(alarmOf(a), a.Cleared))
	}
	if len(as) > limit {
		out.NextBefore = as[limit-1].ID
	}
	return out, nil
}

// runsList is GET /api/v1/runs.
func (d *Daemon) runsList(ctx context.Context, before int64, limit int) (api.RunList, error) {
	out := api.RunList{Runs: []api.Run{}}
	runs, err := d.journal.RunsBefore(ctx, journal.RunID(before), limit+1)
	if err != nil {
		return out, err
	}
	for i := range runs[:min(len(runs), limit)] {
		out.Runs = append(out.Runs, RunView(&runs[i], false))
	}
	if len(runs) > limit {
		out.NextBefore = int64(runs[limit-1].ID)
	}
	return out, nil
}
