package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"golang.org/x/net/netutil"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/docs"
	"github.com/netrecon/netrecon/reconcile/apply"
	"github.com/netrecon/netrecon/reconcile/journal"
)

// httpLimits bound what one client can hold of the HTTP server: without
// them a body sent a byte at a time keeps a connection (and its goroutine)
// for as long as the client likes, and idle keep-alives pile up.
type httpLimits struct {
	ReadHeader time.Duration // request line and headers
	Read       time.Duration // the whole request, body included
	Write      time.Duration // from the end of the headers to the end of the answer
	Idle       time.Duration // a keep-alive connection between requests
	MaxConns   int           // connections served at once; more wait in the kernel's backlog
}

var defaultHTTPLimits = httpLimits{
	ReadHeader: 10 * time.Second,
	Read:       30 * time.Second,
	Write:      30 * time.Second,
	Idle:       60 * time.Second,
	MaxConns:   64,
}

// httpServer returns the server of d's endpoints and the listener to serve
// it on: ln capped at lim.MaxConns connections.
func (d *Daemon) httpServer(ln net.Listener, lim httpLimits) (*http.Server, net.Listener) {
	srv := &http.Server{
		Handler:           d.Handler(),
		ReadHeaderTimeout: lim.ReadHeader,
		ReadTimeout:       lim.Read,
		WriteTimeout:      lim.Write,
		IdleTimeout:       lim.Idle,
		MaxHeaderBytes:    64 << 10,
	}
	return srv, netutil.LimitListener(ln, lim.MaxConns)
}

// Handler serves the daemon's HTTP endpoints; docs/openapi.yaml documents
// every one of them (a test checks both ways), and docs/daemon.md says what
// they are for:
//
//	GET  /healthz, /readyz, /metrics       no token
//	GET  /api/v1/openapi.yaml              no token
//	GET  /api/v1/status                    overview (read)
//	GET  /api/v1/devices[/{name}]          devices, one with its differing nodes (read)
//	GET  /api/v1/services[/{name}]         services, one with its nodes per device (read)
//	GET  /api/v1/alarms                    active or past (?state=past), paged (read)
//	GET  /api/v1/runs[/{id}]               apply runs, paged; one with changes and timings (read)
//	POST /api/v1/runs                      trigger a pass (trigger)
//	GET  /api/v1/passes[/{id}]             passes, paged; one with its runs (read)
//	GET  /api/v1/actions                   the operators' actions, paged (read)
//	POST /api/v1/actions/{action}          accept-history, heal, acknowledge, pause, resume (write)
//	POST /api/v1/orders                    an order becomes a branch and a pull request (order)
//	GET  /api/v1/orders/{id}               an order: pr_open, merged, applied or failed (read)
//	POST /hooks/github                     GitHub push webhook (webhook.secret_file)
//
// and, when Options.Pages gives one, the status page (/, /devices, ...;
// not API, so not in routes) under the read rules.
//
// A refusal is answered at once, before any body is read, and closes the
// connection.
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, r := range append(d.routes(), d.pageRoutes()...) {
		mux.Handle(r.pattern, r.handler)
	}
	return mux
}

// route is one endpoint of Handler.
type route struct {
	pattern string // "METHOD /path", as http.ServeMux takes it
	handler http.Handler
}

// routes are Handler's endpoints, listed once so that the OpenAPI test
// checks the very list the mux serves.
func (d *Daemon) routes() []route {
	text := func(f func(w http.ResponseWriter, r *http.Request)) http.Handler { return http.HandlerFunc(f) }
	read := func(f func(http.ResponseWriter, *http.Request, caller)) http.Handler {
		return d.authorize(ScopeRead, f)
	}
	rs := []route{
		{"GET /healthz", text(func(w http.ResponseWriter, r *http.Request) { probe(w, d.liveness) })},
		{"GET /readyz", text(func(w http.ResponseWriter, r *http.Request) { probe(w, d.readiness) })},
		{"GET /metrics", d.metrics.handler()},
		{"GET /api/v1/openapi.yaml", text(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/yaml")
			w.Write(docs.OpenAPI)
		})},
		{"GET /api/v1/status", read(func(w http.ResponseWriter, r *http.Request, _ caller) {
			d.writeStatus(w, r)
		})},
		{"GET /api/v1/devices", read(func(w http.ResponseWriter, r *http.Request, _ caller) {
			writeJSON(w, http.StatusOK, d.devicesList())
		})},
		{"GET /api/v1/devices/{name}", read(func(w http.ResponseWriter, r *http.Request, _ caller) {
			v, ok := d.device(r.PathValue("name"))
			if !ok {
				writeJSON(w, http.StatusNotFound, apiErr("no device "+r.PathValue("name")+" in the inventory"))
				return
			}
			writeJSON(w, http.StatusOK, v)
		})},
		{"GET /api/v1/services", read(func(w http.ResponseWriter, r *http.Request, _ caller) {
			writeJSON(w, http.StatusOK, d.servicesList())
		})},
		{"GET /api/v1/services/{name}", read(func(w http.ResponseWriter, r *http.Request, _ caller) {
			v, ok := d.service(r.PathValue("name"))
			if !ok {
				writeJSON(w, http.StatusNotFound, apiErr("no service "+r.PathValue("name")+" in the intent"))
				return
			}
			writeJSON(w, http.StatusOK, v)
		})},
		{"GET /api/v1/alarms", read(d.getAlarms)},
		{"GET /api/v1/runs", read(d.getRuns)},
		{"POST /api/v1/runs", d.authorize(ScopeTrigger, d.postRun)},
		{"GET /api/v1/runs/{id}", read(d.getRun)},
		{"GET /api/v1/passes", read(d.getPasses)},
		{"GET /api/v1/passes/{id}", read(d.getPass)},
		{"GET /api/v1/actions", read(d.getActions)},
		{"GET /api/v1/tasks", read(func(w http.ResponseWriter, r *http.Request, _ caller) {
			writeJSON(w, http.StatusOK, d.Tasks())
		})},
		{"POST /api/v1/tasks/{service}/{step}/done", d.authorize(ScopeWrite, d.postTaskDone)},
		{"POST /api/v1/orders", d.authorize(ScopeOrder, d.postOrder)},
		{"GET /api/v1/orders/{id}", read(d.getOrder)},
		{"POST /hooks/github", text(d.githubHook)},
	}
	for _, a := range d.actionHandlers() {
		rs = append(rs, route{"POST /api/v1/actions/" + a.name, d.authorize(ScopeWrite, d.action(a))})
	}
	return rs
}

// writeJSON answers v as JSON. Any persist id in it is masked, wherever it
// came from (an error text in a device's status, a pass error): the id lets
// any session confirm or cancel a pending commit. apiRun masks the ids a
// run knows too; this catches the ones no field list can foresee.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error": "internal error: encoding the answer"}`)
	}
	writeRaw(w, code, append(maskPersistIDs(b), '\n'))
}

var persistIDForm = regexp.MustCompile(apply.PersistIDPattern)

func maskPersistIDs(b []byte) []byte { return persistIDForm.ReplaceAll(b, []byte("[persist id]")) }

func apiErr(msg string) api.Error { return api.Error{Error: msg} }

// page reads ?limit= (1 to 500, default 50) and ?before= of a list.
func page(r *http.Request) (before string, limit int, err error) {
	limit = 50
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			return "", 0, fmt.Errorf("limit %q: want 1 to 500", s)
		}
		limit = n
	}
	return r.URL.Query().Get("before"), limit, nil
}

// pageID is page with a numeric before.
func pageID(r *http.Request) (before int64, limit int, err error) {
	s, limit, err := page(r)
	if err != nil || s == "" {
		return 0, limit, err
	}
	before, err = strconv.ParseInt(s, 10, 64)
	if err != nil || before < 1 {
		return 0, 0, fmt.Errorf("before %q: want the id a page's next_before gave", s)
	}
	return before, limit, nil
}

func (d *Daemon) postRun(w http.ResponseWriter, r *http.Request, _ caller) {
	id := d.Trigger(ReasonAPI)
	url := "/api/v1/passes/" + id
	w.Header().Set("Location", url)
	writeJSON(w, http.StatusAccepted, api.Triggered{ID: id, URL: url})
}

func (d *Daemon) getRuns(w http.ResponseWriter, r *http.Request, _ caller) {
	before, limit, err := pageID(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiErr(err.Error()))
		return
	}
	out, err := d.runsList(r.Context(), before, limit)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, apiErr(err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (d *Daemon) getRun(w http.ResponseWriter, r *http.Request, _ caller) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeJSON(w, http.StatusNotFound, apiErr("no such run: runs are numbers; passes (p-...) are at /api/v1/passes/{id}"))
		return
	}
	run, err := d.journal.Run(r.Context(), journal.RunID(id))
	if errors.Is(err, journal.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, apiErr("no such run"))
		return
	}
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, apiErr(err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, RunView(run, false))
}

func (d *Daemon) getPasses(w http.ResponseWriter, r *http.Request, _ caller) {
	before, limit, err := page(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiErr(err.Error()))
		return
	}
	ps, err := d.journal.PassesBefore(r.Context(), before, limit+1)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, apiErr(err.Error()))
		return
	}
	out := api.PassList{Passes: []api.Pass{}}
	for _, p := range ps[:min(len(ps), limit)] {
		out.Passes = append(out.Passes, apiPass(passStatus(p)))
	}
	if len(ps) > limit {
		out.NextBefore = ps[limit-1].ID
	}
	writeJSON(w, http.StatusOK, out)
}

func (d *Daemon) getPass(w http.ResponseWriter, r *http.Request, _ caller) {
	p, err := d.passByID(r.Context(), r.PathValue("id"))
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, apiErr(err.Error()))
		return
	}
	if p == nil {
		writeJSON(w, http.StatusNotFound, apiErr("no such pass: ids are p-..., from POST /api/v1/runs or a pass list"))
		return
	}
	v := apiPass(*p)
	var persist []string
	for _, s := range p.RunIDs {
		n, _ := strconv.ParseInt(s, 10, 64)
		run, err := d.journal.Run(r.Context(), journal.RunID(n))
		if errors.Is(err, journal.ErrNotFound) {
			continue
		}
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, apiErr(err.Error()))
			return
		}
		v.Runs = append(v.Runs, RunView(run, false))
		persist = append(persist, persistIDs(run)...)
	}
	// A pass's error quotes the apply's, which may name a persist id.
	v.Error = maskIDs(v.Error, persist)
	writeJSON(w, http.StatusOK, v)
}

func (d *Daemon) getAlarms(w http.ResponseWriter, r *http.Request, _ caller) {
	before, limit, err := pageID(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiErr(err.Error()))
		return
	}
	var past bool
	switch r.URL.Query().Get("state") {
	case "", "active":
	case "past":
		past = true
	default:
		writeJSON(w, http.StatusBadRequest, apiErr("state: want active or past"))
		return
	}
	out, err := d.alarmsList(r.Context(), past, before, limit)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, apiErr(err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (d *Daemon) getActions(w http.ResponseWriter, r *http.Request, _ caller) {
	before, limit, err := pageID(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiErr(err.Error()))
		return
	}
	as, err := d.journal.Actions(r.Context(), journal.ActionID(before), limit+1)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, apiErr(err.Error()))
		return
	}
	out := api.ActionList{Actions: []api.Action{}}
	for _, a := range as[:min(len(as), limit)] {
		out.Actions = append(out.Actions, apiAction(a, ""))
	}
	if len(as) > limit {
		out.NextBefore = int64(as[limit-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
}

// probe answers a probe: 200 and "ok", or 503 and the reason.
func probe(w http.ResponseWriter, check func() (bool, string)) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	ok, why := check()
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	w.Write([]byte(why + "\n"))
}
