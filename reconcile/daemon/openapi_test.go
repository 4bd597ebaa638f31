package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/docs"
)

// openAPI loads docs/openapi.yaml (as the binary embeds it) and a router
// over it for requests to httptest's host.
func openAPI(t *testing.T) (*openapi3.T, routers.Router) {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(docs.OpenAPI)
	if err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("docs/openapi.yaml is not valid OpenAPI: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: "http://example.com"}}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return doc, r
}

// TestOpenAPIListsEveryRouteAndNoOther checks the mux's routes against the
// document's paths, both ways.
func TestOpenAPIListsEveryRouteAndNoOther(t *testing.T) {
	doc, _ := openAPI(t)
	l := newLab(t, exampleFiles(t))
	d := l.start(Options{})
	var served, documented []string
	for _, r := range d.routes() {
		served = append(served, r.pattern)
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	slices.Sort(served)
	slices.Sort(documented)
	for _, s := range served {
		if !slices.Contains(documented, s) {
			t.Errorf("%s is served but not in docs/openapi.yaml", s)
		}
	}
	for _, s := range documented {
		if !slices.Contains(served, s) {
			t.Errorf("%s is in docs/openapi.yaml but not served", s)
		}
	}
}

// apiCheck sends requests to a handler and validates every answer against
// the document: status code documented, body valid against its schema.
type apiCheck struct {
	t      *testing.T
	h      http.Handler
	router routers.Router
	hit    map[string]bool // "METHOD path template" answered
}

func (c *apiCheck) do(method, target, token string, body any) *httptest.ResponseRecorder {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, target, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, req)
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		c.t.Errorf("%s %s: not in docs/openapi.yaml: %v", method, target, err)
		return w
	}
	c.hit[method+" "+route.Path] = true
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status: w.Code, Header: w.Header(), Body: io.NopCloser(bytes.NewReader(w.Body.Bytes())),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		c.t.Errorf("%s %s = %d: the answer does not match docs/openapi.yaml: %v\n%s", method, target, w.Code, err, clip(w.Body.String()))
	}
	return w
}

func clip(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "..."
	}
	return s
}

// TestOpenAPIDescribesTheAnswers drives the real handlers through every
// state the documents carry (drift, a deferral, a failing device, a pass in
// progress waiting on a lock, alarms active, acknowledged and past, runs,
// actions, errors) and validates each answer against its schema.
func TestOpenAPIDescribesTheAnswers(t *testing.T) {
	doc, router := openAPI(t)
	l := newLab(t, exampleFiles(t))
	l.withSecrets()
	l.withWriteToken()
	l.withOrders(nil)
	l.cfg.Drift.Devices = map[string]DriftPolicy{"pe3-sin": Report}
	l.cfg.Guards.OperatorSessions = &OperatorSessionsConfig{Allow: []string{"netrecon"}}
	l.cfg.LockWait = Duration(2 * time.Second)
	d := l.start(Options{})
	c := &apiCheck{t: t, h: d.Handler(), router: router, hit: map[string]bool{}}
	ctx := context.Background()
	read := testToken

	c.do("GET", "/api/v1/status", read, nil) // before any pass
	d.SyncOnce(ctx, "test")
	handEdit(t, l, "pe3-sin")
	l.sim.Device("pe1-tyo").AddOperatorSession("alice")
	l.commit("stark and acme: new descriptions", map[string]string{starkOsaka: strings.Replace(l.read(starkOsaka), "Osaka factory", "Osaka plant", 1),
		acme: strings.Replace(l.read(acme), "Tokyo HQ", "Tokyo head office", 1)})

	// A pass in progress, pe2-osa waiting on a lock held elsewhere.
	pe2 := l.sim.Device("pe2-osa")
	pe2.HoldLock("candidate")
	done := make(chan *PassStatus, 1)
	go func() { done <- d.SyncOnce(ctx, "test") }()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if p := d.Status().Pass; p != nil && slices.ContainsFunc(p.Devices, func(dp api.DeviceProgress) bool { return dp.Waiting != nil }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no pass waiting on a lock within 20 s")
		}
	}
	c.do("GET", "/api/v1/status", read, nil)
	c.do("GET", "/api/v1/devices/pe2-osa", read, nil)
	p := <-done // pe2-osa failed on the lock it waited for
	if !slices.Contains(p.Failed, "pe2-osa") || !slices.Contains(p.Deferred, "pe1-tyo") || !slices.Contains(p.Drift, "pe3-sin") {
		t.Fatalf("pass: %+v", p)
	}
	d.SyncOnce(ctx, "test") // a second failure: the device-failing alarm
	pe2.ReleaseLock()

	st := d.Status()
	if len(st.Alarms) < 2 {
		t.Fatalf("alarms: %+v", st.Alarms)
	}
	c.do("GET", "/api/v1/status", read, nil)
	c.do("GET", "/api/v1/devices", read, nil)
	for _, dev := range []string{"pe1-tyo", "pe2-osa", "pe3-sin", "nope"} {
		c.do("GET", "/api/v1/devices/"+dev, read, nil)
	}
	c.do("GET", "/api/v1/services", read, nil)
	c.do("GET", "/api/v1/services/stark-osaka", read, nil)
	c.do("GET", "/api/v1/services/acme-singapore", read, nil)
	c.do("GET", "/api/v1/services/nope", read, nil)
	c.do("POST", "/api/v1/actions/acknowledge", opsToken, api.ActionRequest{Alarm: st.Alarms[0].ID, Reason: "in hand", As: "alice"})
	c.do("POST", "/api/v1/actions/acknowledge", opsToken, api.ActionRequest{Alarm: 9999, Reason: "x"})
	c.do("POST", "/api/v1/actions/acknowledge", opsToken, api.ActionRequest{Reason: ""})
	c.do("POST", "/api/v1/actions/pause", opsToken, api.ActionRequest{Device: "pe2-osa", Reason: "RMA"})
	c.do("POST", "/api/v1/actions/pause", opsToken, api.ActionRequest{Device: "pe2-osa", Reason: "RMA"}) // 409
	c.do("POST", "/api/v1/actions/pause", read, api.ActionRequest{Device: "pe2-osa", Reason: "RMA"})     // 403
	c.do("POST", "/api/v1/actions/heal", opsToken, api.ActionRequest{Reason: "all, the paused one left"})
	c.do("GET", "/api/v1/status", read, nil)
	c.do("GET", "/api/v1/devices/pe3-sin", read, nil) // heal requested
	c.do("POST", "/api/v1/actions/resume", opsToken, api.ActionRequest{Device: "pe2-osa", Reason: "back"})
	c.do("POST", "/api/v1/actions/accept-history", opsToken, api.ActionRequest{Commit: "nope", Reason: "x"})
	c.do("POST", "/api/v1/actions/accept-history", opsToken, api.ActionRequest{Commit: p.Head, Reason: "the same head"})
	l.sim.Device("pe1-tyo").RemoveOperatorSession("alice")
	d.SyncOnce(ctx, "test") // everything healed: alarms cleared into the past
	c.do("GET", "/api/v1/alarms", read, nil)
	c.do("GET", "/api/v1/alarms?state=past&limit=1", read, nil)
	c.do("GET", "/api/v1/alarms?state=later", read, nil)
	w := c.do("GET", "/api/v1/runs?limit=1", read, nil)
	var runs api.RunList
	json.Unmarshal(w.Body.Bytes(), &runs)
	if len(runs.Runs) != 1 || runs.NextBefore == 0 {
		t.Fatalf("first page of runs: %s", w.Body)
	}
	c.do("GET", "/api/v1/runs?before="+jsonNumber(runs.NextBefore), read, nil)
	c.do("GET", "/api/v1/runs?limit=0", read, nil)
	c.do("GET", "/api/v1/runs/"+jsonNumber(runs.Runs[0].ID), read, nil)
	c.do("GET", "/api/v1/runs/99999", read, nil)
	c.do("GET", "/api/v1/runs/p-nope", read, nil)
	w = c.do("GET", "/api/v1/passes?limit=2", read, nil)
	var passes api.PassList
	json.Unmarshal(w.Body.Bytes(), &passes)
	c.do("GET", "/api/v1/passes?before="+passes.NextBefore, read, nil)
	c.do("GET", "/api/v1/passes/"+p.ID, read, nil)
	c.do("GET", "/api/v1/passes/p-nope", read, nil)
	var order, badOrder api.OrderRequest
	json.Unmarshal([]byte(annexOrder), &order)
	badOrder = order
	badOrder.OrderID, badOrder.Fields = "SO-bad", map[string]any{"vlan": 5000}
	w = c.do("POST", "/api/v1/orders", orderToken, order) // 201
	var placed api.Order
	json.Unmarshal(w.Body.Bytes(), &placed)
	c.do("POST", "/api/v1/orders", orderToken, order) // 200
	c.do("POST", "/api/v1/orders", orderToken, badOrder)
	order.Name = "acme-tokyo-annex-2"
	c.do("POST", "/api/v1/orders", orderToken, order) // 409
	c.do("POST", "/api/v1/orders", orderToken, map[string]any{"order_id": 1})
	c.do("POST", "/api/v1/orders", opsToken, order)
	c.do("GET", placed.URL, read, nil)
	c.do("GET", "/api/v1/orders/nope", read, nil)
	c.do("GET", "/api/v1/actions", read, nil) // the order among them
	c.do("GET", "/api/v1/actions?before=x", read, nil)
	w = c.do("POST", "/api/v1/runs", testToken, nil)
	var trig api.Triggered
	json.Unmarshal(w.Body.Bytes(), &trig)
	c.do("GET", "/api/v1/passes/"+trig.ID, read, nil) // announced
	c.do("POST", "/api/v1/runs", "", nil)
	c.do("GET", "/api/v1/status", "", nil)
	c.do("GET", "/api/v1/openapi.yaml", "", nil)
	c.do("GET", "/healthz", "", nil)
	c.do("GET", "/readyz", "", nil)
	c.do("GET", "/metrics", "", nil)
	push := []byte(`{"ref":"refs/heads/other"}`)
	req := httptest.NewRequest("POST", "/hooks/github", bytes.NewReader(push))
	req.Header.Set("X-Hub-Signature-256", sign(push))
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	route, params, _ := router.FindRoute(req)
	c.hit["POST /hooks/github"] = true
	if err := openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status: rec.Code, Header: rec.Header(), Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		Options: &openapi3filter.Options{IncludeResponseStatus: true}}); err != nil {
		t.Errorf("webhook answer: %v", err)
	}

	// A new service held by its manual step, and one scheduled ahead.
	l.commit("a new access, a scheduled circuit", map[string]string{"services/acme/acme-inet.yaml": newAccess,
		schedFile: scheduledService("2099-01-01T09:00:00+09:00", "")})
	d.SyncOnce(ctx, "test")
	c.do("GET", "/api/v1/tasks", read, nil)
	c.do("GET", "/api/v1/status", read, nil)
	c.do("POST", "/api/v1/tasks/acme-inet/jpnic-registration/done", opsToken, api.TaskDone{})
	c.do("POST", "/api/v1/tasks/acme-inet/nope/done", opsToken, api.TaskDone{Reference: "x"})
	c.do("POST", "/api/v1/tasks/acme-inet/jpnic-registration/done", read, api.TaskDone{Reference: "x"}) // 403
	c.do("POST", "/api/v1/tasks/acme-inet/jpnic-registration/done", opsToken, api.TaskDone{Reference: "JPNIC-1", As: "alice"})

	// Every documented operation was answered at least once.
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !c.hit[method+" "+path] {
				t.Errorf("%s %s is documented but this test never called it", method, path)
			}
		}
	}
}
