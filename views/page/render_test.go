package page

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/api"
)

// fakeSource is a Source of fixed documents: the templates' rendering of
// what issues 16 and 17 added, without a daemon (the daemon's pages are
// tested in reconcile/daemon).
type fakeSource struct {
	status   *api.Status
	services map[string]api.Service
	tasks    api.TaskList
}

func (f *fakeSource) StatusDoc() *api.Status                  { return f.status }
func (f *fakeSource) DevicesDoc() api.DeviceList              { return api.DeviceList{} }
func (f *fakeSource) DeviceDoc(string) (api.Device, bool)     { return api.Device{}, false }
func (f *fakeSource) ServicesDoc() api.ServiceList            { return api.ServiceList{} }
func (f *fakeSource) TasksDoc() api.TaskList                  { return f.tasks }
func (f *fakeSource) ServiceDoc(n string) (api.Service, bool) { s, ok := f.services[n]; return s, ok }
func (f *fakeSource) RunDoc(context.Context, int64) (api.Run, bool, error) {
	return api.Run{}, false, nil
}
func (f *fakeSource) AlarmsDoc(context.Context, bool, int64, int) (api.AlarmList, error) {
	return api.AlarmList{}, nil
}
func (f *fakeSource) RunsDoc(context.Context, int64, int) (api.RunList, error) {
	return api.RunList{}, nil
}
func (f *fakeSource) OpenTasks() int {
	n := 0
	for _, t := range f.tasks.Tasks {
		if t.State == api.TaskStateOpen {
			n++
		}
	}
	return n
}

const registryScript = `<script>alert(1)</script>`

func fixture() *fakeSource {
	tokyo := time.FixedZone("JST", 9*3600)
	next := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	sampled := time.Date(2026, 12, 2, 9, 30, 0, 0, time.UTC)
	return &fakeSource{
		status: &api.Status{
			IRR: []api.IRRRegistration{
				{Database: "RADB", Object: "AS-NETRECON-CUSTOMERS", State: api.IRRRefused, Attempts: 1, Message: "refused: " + registryScript},
				{Database: "JPIRR", Object: "AS-NETRECON-JP", State: api.IRRFailed, Attempts: 3, NextTry: &next, Message: "connection refused"},
				{Database: "ALTDB", Object: "AS-NETRECON-ALT", State: api.IRRRegistered, Attempts: 1, Message: "all fine, not shown"},
			},
			Upcoming: []api.ScheduledChange{
				{At: time.Date(2026, 12, 5, 9, 0, 0, 0, tokyo), Service: "acme-inet", Action: api.ScheduleActivate},
				{At: time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC), Service: "old-vpn", Action: api.ScheduleDeactivate},
			},
		},
		services: map[string]api.Service{
			"acme-inet": {Name: "acme-inet", Type: "internet-access", State: api.StatePending,
				Usage: &api.ServiceUsage{Device: "pe1-tyo", Interface: "ge-0/0/9", InOctets: 5 << 30, OutOctets: 1536, OperUp: true, SampledAt: &sampled}},
			"plain": {Name: "plain", Type: "l3vpn", State: api.StateInSync},
		},
		tasks: api.TaskList{Tasks: []api.Task{
			{Service: "acme-inet", Step: "jpnic-registration", Title: "Register the block with JPNIC", State: api.TaskStateOpen,
				OpenedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), AgeSeconds: 90000, Overdue: true, Holds: true,
				Data: []api.TaskValue{{Name: "network_name", Value: "ACME-INET"}, {Name: "note", Value: registryScript}}},
			{Service: "hooli", Step: "jpnic-registration", Title: "Register the block with JPNIC", State: api.TaskStateDone,
				OpenedAt: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC), DoneBy: "alice", DoneAt: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC),
				Reference: "JPNIC-R-0001", Data: []api.TaskValue{}},
		}},
	}
}

func get(t *testing.T, src Source, path string) string {
	t.Helper()
	tm, err := Parse()
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	tm.Serve(src).ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	if w.Code != 200 {
		t.Fatalf("GET %s = %d %s", path, w.Code, w.Body)
	}
	body := w.Body.String()
	if strings.Contains(body, registryScript) {
		t.Errorf("GET %s: a registry's or intent's <script> unescaped", path)
	}
	return body
}

func wantAll(t *testing.T, page, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", page, w)
		}
	}
}

// The overview, as html/template writes it (a "+" as &#43;).
func TestOverviewShowsIRRUpcomingAndOpenSteps(t *testing.T) {
	body := get(t, fixture(), "/")
	wantAll(t, "overview", body,
		`<h2 id="h-irr">IRR registration</h2>`,
		`<th scope="row">RADB</th><td><code>AS-NETRECON-CUSTOMERS</code></td><td><span class="irr-state irr-refused">refused</span></td><td>1</td><td>-</td>`,
		`refused: &lt;script&gt;alert(1)&lt;/script&gt;`,
		`<td>3</td><td>2026-12-02 10:00:00Z</td>`, "connection refused",
		`<time datetime="2026-12-05T00:00:00Z">2026-12-05 09:00 &#43;09:00</time>: + <a href="/services/acme-inet">acme-inet</a> (activate)`,
		`&minus; <a href="/services/old-vpn">old-vpn</a> (deactivate)`,
		`<strong>1</strong> manual step(s) open: see <a href="/tasks">Manual steps</a>`)
	if strings.Contains(body, "all fine, not shown") {
		t.Error("overview shows the message of a registered as-set: only refused and failed ones have words worth showing")
	}

	// Without registrations or schedules those sections are not there at
	// all, and no open step says so.
	quiet := &fakeSource{status: &api.Status{}, tasks: api.TaskList{Tasks: fixture().tasks.Tasks[1:]}}
	body = get(t, quiet, "/")
	for _, absent := range []string{"h-irr", "h-upcoming"} {
		if strings.Contains(body, absent) {
			t.Errorf("overview without IRR or schedules has %s", absent)
		}
	}
	wantAll(t, "quiet overview", body, "No manual step is open")
}

// A step marked done changes the count while the status document stays the
// same pointer: the cached overview must not hide it.
func TestOverviewCountFollowsTasksNotOnlyTheStatus(t *testing.T) {
	src := fixture()
	tm, err := Parse()
	if err != nil {
		t.Fatal(err)
	}
	h := tm.Serve(src)
	render := func() string {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		return w.Body.String()
	}
	if !strings.Contains(render(), "<strong>1</strong> manual step(s) open") {
		t.Fatal("one open step not counted")
	}
	src.tasks = api.TaskList{Tasks: src.tasks.Tasks[1:]}
	if b := render(); !strings.Contains(b, "No manual step is open") {
		t.Error("the overview still counts a step done since")
	}
}

func TestTasksPageShowsValuesAndTheDoneForm(t *testing.T) {
	body := get(t, fixture(), "/tasks")
	wantAll(t, "/tasks", body,
		`<a href="/tasks" aria-current="page">Manual steps</a>`,
		`<a href="/services/acme-inet">acme-inet</a>: Register the block with JPNIC <span class="task-state">open</span> <span class="overdue">overdue</span>`,
		"(1 d 1 h ago)", "yes: it is not configured until this is done",
		`<th scope="row">network_name</th><td><code class="copy">ACME-INET</code></td>`,
		`<code class="copy">&lt;script&gt;alert(1)&lt;/script&gt;</code>`,
		`<form class="mark-done" data-service="acme-inet" data-step="jpnic-registration"`,
		`name="reference" type="text" required>`, `>Mark done</button>`,
		`by alice at 2026-11-02 09:00:00Z: reference <code>JPNIC-R-0001</code>`)
	if n := strings.Count(body, `class="mark-done"`); n != 1 {
		t.Errorf("/tasks has %d done forms, want 1: a done step has none", n)
	}
	empty := get(t, &fakeSource{status: &api.Status{}}, "/tasks")
	wantAll(t, "empty /tasks", empty, "No service asks for a manual step.")
}

func TestServicePageShowsUsageAndItsSteps(t *testing.T) {
	body := get(t, fixture(), "/services/acme-inet")
	wantAll(t, "service page", body,
		`<h2 id="h-usage">Usage</h2>`, `<code>ge-0/0/9</code> on <a href="/devices/pe1-tyo">pe1-tyo</a>`,
		`<span class="state state-in-sync">up</span>`,
		"5.00 GiB", "(5368709120 octets since the counters began)", "1.50 KiB", "2026-12-02 09:30:00Z",
		`<h2 id="h-svc-tasks">Manual steps</h2>`, `data-service="acme-inet"`)
	if strings.Contains(body, "hooli") {
		t.Error("acme-inet's page lists another service's step")
	}
	plain := get(t, fixture(), "/services/plain")
	for _, absent := range []string{"h-usage", "h-svc-tasks"} {
		if strings.Contains(plain, absent) {
			t.Errorf("a service without usage or steps has %s", absent)
		}
	}
}

func TestHumanUnits(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1024: "1.00 KiB", 1536: "1.50 KiB",
		10 << 20: "10.0 MiB", 500 << 30: "500 GiB", 1<<64 - 1: "16.0 EiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
	for s, want := range map[float64]string{5: "5 s", 120: "2 min", 3700: "1 h 1 min", 90000: "1 d 1 h"} {
		if got := age(s); got != want {
			t.Errorf("age(%v) = %q, want %q", s, got, want)
		}
	}
}

// A service its open step holds back is not in the services document yet:
// its page is its steps, and a name with neither is not found.
func TestServicePageOfAHeldService(t *testing.T) {
	src := fixture()
	delete(src.services, "acme-inet")
	body := get(t, src, "/services/acme-inet")
	wantAll(t, "held service page", body, "<h1>Service acme-inet</h1>", "Not configured yet", `data-step="jpnic-registration"`)
	tm, err := Parse()
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	tm.Serve(src).ServeHTTP(w, httptest.NewRequest("GET", "/services/nope", nil))
	if w.Code != 404 {
		t.Errorf("GET /services/nope = %d, want 404", w.Code)
	}
}
