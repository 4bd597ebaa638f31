package daemon

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/journal"
	statuspage "github.com/netrecon/netrecon/views/page"
)

// The status page (views/page) served by a daemon on netsim, with real
// drift. The browser's view of it is in pages_browser_test.go.

// pagesOf is cmd/netrecon's Options.Pages.
func pagesOf(t testing.TB) func(*Daemon) PageHandler {
	t.Helper()
	tm, err := statuspage.Parse()
	if err != nil {
		t.Fatal(err)
	}
	return func(d *Daemon) PageHandler { return tm.Serve(d) }
}

// attackerText is what a hand edit or an intent author may put in a
// description: the page must show it as text, never run it.
const attackerText = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`

// driftedLab is a daemon on netsim after a first pass and a hand edit of a
// managed description on pe3-sin to attackerText, reported as drift.
func driftedLab(t *testing.T, openReads bool) (*lab, *Daemon, configtree.Path) {
	t.Helper()
	l := newLab(t, exampleFiles(t))
	l.cfg.Drift.Default = Report
	l.cfg.API.OpenReads = openReads
	l.withSecrets()
	l.withWriteToken()
	d := l.start(Options{Pages: pagesOf(t)})
	ctx := context.Background()
	if p := d.SyncOnce(ctx, "test"); len(p.Applied) != 3 {
		t.Fatalf("first pass: %+v", p)
	}
	path := handEdit(t, l, "pe3-sin")
	dev := l.sim.Device("pe3-sin")
	running := dev.Running()
	running.Find(path).Value = attackerText
	dev.SetRunning(running)
	if p := d.SyncOnce(ctx, "test"); !slices.Equal(p.Drift, []string{"pe3-sin"}) {
		t.Fatalf("pass after the hand edit: %+v", p)
	}
	return l, d, path
}

func TestStatusPageShowsDriftEscapedWithSecurityHeaders(t *testing.T) {
	_, d, path := driftedLab(t, true)
	h := d.Handler()
	dev, _ := d.DeviceDoc("pe3-sin")
	owner := dev.Nodes[0].Owners[0]
	for _, p := range []string{"/", "/devices", "/devices/pe3-sin", "/services", "/services/" + owner, "/alarms", "/runs", "/runs/1"} {
		w := do(t, h, "GET", p, nil, nil)
		if w.Code != 200 || w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("GET %s = %d %s", p, w.Code, w.Header().Get("Content-Type"))
			continue
		}
		if got := w.Header().Get("Content-Security-Policy"); got != statuspage.ContentSecurityPolicy || !strings.Contains(got, "frame-ancestors 'none'") ||
			strings.Contains(got, "unsafe-inline") {
			t.Errorf("GET %s: CSP %q", p, got)
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options", p)
		}
		body := w.Body.String()
		// No inline script: the only script is the page's file.
		for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1) {
			if tag != `<script src="/static/page.js" defer>` {
				t.Errorf("GET %s: script tag %s", p, tag)
			}
		}
		if strings.Contains(body, "window.__pwned") && !strings.Contains(body, "&lt;script&gt;window.__pwned=1&lt;/script&gt;") {
			t.Errorf("GET %s: attacker text not escaped", p)
		}
		if strings.Contains(body, "<img src=x") {
			t.Errorf("GET %s: attacker markup in the page", p)
		}
	}
	body := do(t, h, "GET", "/devices/pe3-sin", nil, nil).Body.String()
	desired := *dev.Nodes[0].Desired
	for _, want := range []string{string(path), "&lt;script&gt;window.__pwned=1&lt;/script&gt;", desired, owner, "drift"} {
		if !strings.Contains(body, want) {
			t.Errorf("device page lacks %q", want)
		}
	}
	if w := do(t, h, "GET", "/devices/nope", nil, nil); w.Code != 404 || !strings.Contains(w.Body.String(), "no device nope") {
		t.Errorf("unknown device = %d", w.Code)
	}
	for _, f := range []string{"/static/page.css", "/static/page.js"} {
		if w := do(t, h, "GET", f, nil, nil); w.Code != 200 || w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s = %d", f, w.Code)
		}
	}
	// The API's own routes are untouched by the page's.
	if w := do(t, h, "GET", "/api/v1/nope", nil, nil); w.Code != 404 || strings.Contains(w.Body.String(), "<html") {
		t.Errorf("unknown API path = %d %s", w.Code, w.Body)
	}
}

// The page reads as the API does: without open reads, a token of scope read
// or more; a browser's first request, which has none, gets a page that asks
// for one (its script fetches the page again with the kept token).
func TestStatusPageFollowsTheReadRules(t *testing.T) {
	_, d, _ := driftedLab(t, false)
	h := d.Handler()
	w := do(t, h, "GET", "/devices/pe3-sin", nil, nil)
	if w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") == "" ||
		w.Header().Get("Content-Security-Policy") != statuspage.ContentSecurityPolicy || !strings.Contains(w.Body.String(), `id="token"`) {
		t.Errorf("page without a token = %d %v", w.Code, w.Header())
	}
	if strings.Contains(w.Body.String(), "pe3-sin") && strings.Contains(w.Body.String(), "window.__pwned") {
		t.Error("a refused page shows the device")
	}
	if w := do(t, h, "GET", "/static/page.js", nil, nil); w.Code != 200 {
		t.Errorf("the refusal page's script = %d", w.Code)
	}
	for _, tok := range []string{testToken, opsToken} {
		if w := do(t, h, "GET", "/devices/pe3-sin", nil, map[string]string{"Authorization": "Bearer " + tok}); w.Code != 200 {
			t.Errorf("page with a token = %d", w.Code)
		}
	}
	if st := d.StatusDoc(); st.DevicesByState[api.StateDrift] != 1 {
		t.Errorf("status doc: %v", st.DevicesByState)
	}
}

// The pass in progress and what it waits on, a guard's deferral until when,
// and a failing device's next retry, as the page words them (bigState's
// network: pe2-tyo deferred, pe3-tyo failing, pe2-tyo waiting on a lock).
func TestStatusPageShowsWaitsDeferralsAndRetries(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.cfg.API.OpenReads = true
	d := l.start(Options{Pages: pagesOf(t)})
	bigState(d, 10, 100)
	h := d.Handler()
	st := d.StatusDoc()
	when := func(t *time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }
	var deferred, failing api.Device
	for _, dv := range st.Devices {
		switch dv.Name {
		case "pe2-tyo":
			deferred = dv
		case "pe3-tyo":
			failing = dv
		}
	}
	overview := do(t, h, "GET", "/", nil, nil).Body.String()
	for _, want := range []string{"step <strong class=\"step\">apply</strong>", "lock-wait", "lock held: candidate locked by session 7",
		"retry at " + when(&st.Pass.Devices[0].Waiting.RetryAt), "p-bench"} {
		if !strings.Contains(overview, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	page := do(t, h, "GET", "/devices/pe2-tyo", nil, nil).Body.String()
	if want := "by guard <strong>freeze-window</strong>: change freeze; until " + when(deferred.Deferral.Until); !strings.Contains(page, want) {
		t.Errorf("deferred device page lacks %q", want)
	}
	page = do(t, h, "GET", "/devices/pe3-tyo", nil, nil).Body.String()
	if want := "3 attempt(s) in a row: pe3-tyo: lock candidate: held by session 7; next retry " + when(failing.NextRetry); !strings.Contains(page, want) {
		t.Errorf("failing device page lacks %q", want)
	}
}

// A daemon before its first pass: the page says so, and every page renders.
func TestStatusPageBeforeTheFirstPass(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.cfg.API.OpenReads = true
	d := l.start(Options{Pages: pagesOf(t)})
	h := d.Handler()
	if body := do(t, h, "GET", "/", nil, nil).Body.String(); !strings.Contains(body, "No pass has completed yet") {
		t.Errorf("overview before the first pass:\n%s", body)
	}
	for _, p := range []string{"/devices", "/services", "/alarms", "/runs", "/alarms?before=5", "/runs?before=5&limit=1"} {
		if w := do(t, h, "GET", p, nil, nil); w.Code != 200 {
			t.Errorf("GET %s = %d\n%s", p, w.Code, w.Body)
		}
	}
	for p, code := range map[string]int{"/runs/1": 404, "/runs/x": 404, "/runs?limit=0": 400, "/services/nope": 404} {
		if w := do(t, h, "GET", p, nil, nil); w.Code != code || !strings.Contains(w.Body.String(), "<main") {
			t.Errorf("GET %s = %d, want %d as a page", p, w.Code, code)
		}
	}
}

// A persist id quoted in an error is masked on the page as in the API,
// whichever way the page's document was made (the value itself when
// nothing needs masking, the masked JSON decoded otherwise).
func TestStatusPageMasksPersistIDs(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.cfg.API.OpenReads = true
	d := l.start(Options{Pages: pagesOf(t)})
	bigState(d, 10, 100)
	h := d.Handler()
	if a, b := d.StatusDoc(), d.StatusDoc(); a != b {
		t.Error("the status document is made anew without a change")
	}
	const id = "netrecon-0123456789abcdef"
	d.mu.Lock()
	ds := d.devices["pe3-tyo"]
	ds.LastError = "pe3-tyo: confirm " + id + ": session lost"
	d.devices["pe3-tyo"] = ds
	d.mu.Unlock()
	d.changed()
	for _, p := range []string{"/", "/devices", "/devices/pe3-tyo"} {
		body := do(t, h, "GET", p, nil, nil).Body.String()
		if strings.Contains(body, id) || !strings.Contains(body, "confirm [persist id]: session lost") {
			t.Errorf("GET %s: persist id not masked", p)
		}
	}
	if got := do(t, h, "GET", "/api/v1/status", nil, nil).Body.String(); strings.Contains(got, id) {
		t.Error("the API shows the persist id")
	}
}

// manualStepLab is a daemon whose followed commit adds acme-inet, a service
// whose type declares a manual step (tasks_test.go's newAccess): the step
// is open and holds it.
func manualStepLab(t *testing.T) (*lab, *Daemon) {
	t.Helper()
	l := newLab(t, exampleFiles(t))
	l.cfg.API.OpenReads = true
	l.withWriteToken()
	d := l.start(Options{Pages: pagesOf(t)})
	ctx := context.Background()
	if p := d.SyncOnce(ctx, "test"); len(p.Failed) != 0 {
		t.Fatalf("first pass: %+v", p)
	}
	l.commit("a new access", map[string]string{"services/acme/acme-inet.yaml": newAccess})
	if p := d.SyncOnce(ctx, "test"); len(p.Failed) != 0 {
		t.Fatalf("pass with acme-inet: %+v", p)
	}
	return l, d
}

// /tasks lists the open step with its values and a Mark done form, the
// overview counts it and the service's page has it; once done through the
// API (as page.js posts it) the page shows who, when and the reference.
func TestStatusPageTasks(t *testing.T) {
	_, d := manualStepLab(t)
	h := d.Handler()
	body := do(t, h, "GET", "/tasks", nil, nil).Body.String()
	for _, want := range []string{`<a href="/services/acme-inet">acme-inet</a>:`, `<span class="task-state">open</span>`,
		`<code class="copy">ACME-INET</code>`, `<code class="copy">198.18.0.0/28, 198.18.1.0/28</code>`,
		`data-service="acme-inet" data-step="jpnic-registration"`, "yes: it is not configured until this is done",
		"by " + journal.BaselineBy} {
		if !strings.Contains(body, want) {
			t.Errorf("/tasks lacks %q", want)
		}
	}
	if n := strings.Count(body, `class="mark-done"`); n != 1 {
		t.Errorf("/tasks has %d Mark done forms, want acme-inet's only", n)
	}
	if b := do(t, h, "GET", "/", nil, nil).Body.String(); !strings.Contains(b, `<strong>1</strong> manual step(s) open`) {
		t.Error("the overview does not count the open step")
	}
	if b := do(t, h, "GET", "/services/acme-inet", nil, nil).Body.String(); !strings.Contains(b, `data-step="jpnic-registration"`) {
		t.Error("acme-inet's page (held by the step, not in the services document) lacks its step")
	}

	req := `{"reference":"JPNIC-R-<b>1</b>","as":"alice"}`
	if w := do(t, h, "POST", "/api/v1/tasks/acme-inet/jpnic-registration/done", []byte(req),
		map[string]string{"Authorization": "Bearer " + opsToken, "Content-Type": "application/json"}); w.Code != 200 {
		t.Fatalf("done: %d %s", w.Code, w.Body)
	}
	body = do(t, h, "GET", "/tasks", nil, nil).Body.String()
	if !regexp.MustCompile(`by alice at [0-9-]+ [0-9:]+Z: reference <code>JPNIC-R-&lt;b&gt;1&lt;/b&gt;</code>`).MatchString(body) ||
		strings.Contains(body, `class="mark-done"`) {
		t.Errorf("/tasks after done: want alice's reference escaped and no form left:\n%s", body)
	}
	if b := do(t, h, "GET", "/", nil, nil).Body.String(); !strings.Contains(b, "No manual step is open") {
		t.Error("the overview still counts the step done")
	}
}
