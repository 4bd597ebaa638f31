package daemon

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/guard"
	"github.com/netrecon/netrecon/render"
)

// receiver is a notification endpoint that records what it gets.
type receiver struct {
	mu  sync.Mutex
	got []Notification
	srv *httptest.Server
	ch  chan Notification
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{ch: make(chan Notification, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var n Notification
		if err := json.NewDecoder(req.Body).Decode(&n); err != nil || req.Header.Get("Content-Type") != "application/json" {
			t.Errorf("bad notification: %v", err)
		}
		r.mu.Lock()
		r.got = append(r.got, n)
		r.mu.Unlock()
		r.ch <- n
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// wait returns the next n notifications, failing after 10 s.
func (r *receiver) wait(t *testing.T, n int) []Notification {
	t.Helper()
	var out []Notification
	for range n {
		select {
		case x := <-r.ch:
			out = append(out, x)
		case <-t.Context().Done():
			t.Fatal("test ended")
		case <-afterSeconds(10):
			t.Fatalf("got %d notifications, want %d: %+v", len(out), n, out)
		}
	}
	return out
}

func events(ns []Notification) []string {
	var s []string
	for _, n := range ns {
		s = append(s, n.Event+" "+string(n.Alarm.Kind)+" "+n.Alarm.Device)
	}
	slices.Sort(s)
	return s
}

func TestFailingDevicesRollForwardAlarmAndClear(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	rcv := newReceiver(t)
	l.cfg.Notify.URL = rcv.srv.URL
	d := l.start(Options{})
	ctx := context.Background()
	pe1, pe2 := l.sim.Device("pe1-tyo"), l.sim.Device("pe2-osa")
	if err := pe1.HoldLock("candidate"); err != nil {
		t.Fatal(err)
	}
	pe2.RejectCommit("commit check failed: test")

	p := d.SyncOnce(ctx, "test")
	if !slices.Equal(p.Applied, []string{"pe3-sin"}) || !slices.Equal(p.Failed, []string{"pe1-tyo", "pe2-osa"}) {
		t.Fatalf("pass 1: applied %v failed %v", p.Applied, p.Failed)
	}
	if d.alarms.has(AlarmDeviceFailing, "pe1-tyo") {
		t.Error("alarm after one failure; want it after 2")
	}
	p = d.SyncOnce(ctx, "test")
	if !slices.Equal(p.Failed, []string{"pe1-tyo", "pe2-osa"}) {
		t.Fatalf("pass 2: failed %v", p.Failed)
	}
	if got := events(rcv.wait(t, 2)); !slices.Equal(got, []string{"raised device-failing pe1-tyo", "raised device-failing pe2-osa"}) {
		t.Errorf("notifications = %v", got)
	}
	st := d.Status()
	if len(st.Alarms) != 2 || !strings.Contains(st.Alarms[0].Message, "lock") || !strings.Contains(st.Alarms[1].Message, "commit check failed") {
		t.Errorf("alarms = %+v", st.Alarms)
	}
	for _, ds := range st.Devices {
		if ds.Name != "pe3-sin" && (ds.State != api.StateFailing || ds.Failures != 2 || ds.NextRetry == nil) {
			t.Errorf("%s: %+v", ds.Name, ds)
		}
	}
	if w := do(t, d.Handler(), "GET", "/metrics", nil, nil); !strings.Contains(w.Body.String(), "netrecon_alarms 2") ||
		!strings.Contains(w.Body.String(), `netrecon_devices{state="failing"} 2`) {
		t.Errorf("metrics do not show the alarms:\n%s", grep(w.Body.String(), "netrecon_"))
	}

	// The failure counts and alarms are in the journal: a restarted daemon
	// knows them, and does not notify them again.
	d.Close()
	d = l.start(Options{})
	if len(d.Status().Alarms) != 2 || d.devices["pe1-tyo"].Failures != 2 {
		t.Errorf("restart lost alarms or counts: %+v", d.Status())
	}

	pe1.ReleaseLock()
	pe2.ClearRejectCommit()
	p = d.SyncOnce(ctx, "test")
	if !slices.Equal(p.Applied, []string{"pe1-tyo", "pe2-osa"}) || len(p.Failed) != 0 {
		t.Fatalf("pass 3: applied %v failed %v (%s)", p.Applied, p.Failed, p.Error)
	}
	if got := events(rcv.wait(t, 2)); !slices.Equal(got, []string{"cleared device-failing pe1-tyo", "cleared device-failing pe2-osa"}) {
		t.Errorf("notifications = %v", got)
	}
	if len(d.Status().Alarms) != 0 {
		t.Errorf("alarms left: %+v", d.Status().Alarms)
	}
	l.assertConverged()
}

func TestDroppedConnectionIsRetried(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	d := l.start(Options{})
	l.sim.Device("pe2-osa").DropConnectionAt("commit", 1)
	p := d.SyncOnce(context.Background(), "test")
	if !slices.Contains(p.Failed, "pe2-osa") {
		t.Fatalf("dropped connection not a failure: %+v", p)
	}
	p = d.SyncOnce(context.Background(), "test")
	if len(p.Failed) != 0 || !slices.Contains(p.Applied, "pe2-osa") {
		t.Fatalf("retry: %+v", p)
	}
	l.assertConverged()
}

func TestOperatorSessionDefers(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.cfg.Guards.OperatorSessions = &OperatorSessionsConfig{Allow: []string{"netrecon"}}
	d := l.start(Options{})
	pe1 := l.sim.Device("pe1-tyo")
	pe1.AddOperatorSession("alice")
	p := d.SyncOnce(context.Background(), "test")
	if slices.Contains(p.Applied, "pe1-tyo") || len(p.Failed) != 0 || len(p.Applied) != 2 {
		t.Fatalf("pass with an operator logged in: %+v", p)
	}
	st := d.Status()
	if df := deferredOf(st); len(df) != 1 || df[0].Name != "pe1-tyo" || df[0].Deferral.Guard != guard.NameOperatorSessions ||
		!strings.Contains(df[0].Deferral.Reason, "alice") {
		t.Errorf("deferred = %+v", df)
	}
	if pe1.RPCCount("edit-config") != 0 {
		t.Error("a deferred device was edited")
	}
	if w := do(t, d.Handler(), "GET", "/metrics", nil, nil); !strings.Contains(w.Body.String(), `netrecon_devices{state="deferred"} 1`) {
		t.Errorf("metrics do not count the deferred device")
	}
	pe1.RemoveOperatorSession("alice")
	p = d.SyncOnce(context.Background(), "test")
	if !slices.Equal(p.Applied, []string{"pe1-tyo"}) {
		t.Fatalf("after logout: %+v", p)
	}
	if len(deferredOf(d.Status())) != 0 {
		t.Error("still deferred")
	}
	l.assertConverged()
}

func TestMaintenanceDefers(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	d := l.start(Options{})
	inv := l.read("inventory/sim.yaml")
	l.commit("pe2 in maintenance", map[string]string{"inventory/sim.yaml": strings.Replace(inv,
		"  - name: pe2-osa\n", "  - name: pe2-osa\n    maintenance: true\n", 1)})
	p := d.SyncOnce(context.Background(), "test")
	if slices.Contains(p.Applied, "pe2-osa") || len(p.Failed) != 0 {
		t.Fatalf("pass: %+v", p)
	}
	if df := deferredOf(d.Status()); len(df) != 1 || df[0].Deferral.Guard != guard.NameMaintenance {
		t.Errorf("deferred = %+v", df)
	}
	l.commit("pe2 back", map[string]string{"inventory/sim.yaml": inv})
	if p := d.SyncOnce(context.Background(), "test"); !slices.Equal(p.Applied, []string{"pe2-osa"}) {
		t.Fatalf("after maintenance: %+v", p)
	}
}

// handEdit changes the first managed description on dev and adds an
// interface of a human's; it returns the edited path.
func handEdit(t *testing.T, l *lab, name string) configtree.Path {
	t.Helper()
	_, desired := l.desired()
	return handEditOf(t, l, name, desired)
}

func handEditOf(t *testing.T, l *lab, name string, desired map[string]*configtree.Tree) configtree.Path {
	t.Helper()
	dev := l.sim.Device(name)
	var path configtree.Path
	desired[name].Walk(func(p configtree.Path, n *configtree.Node) bool {
		if path == "" && n.Leaf && n.Name == "description" {
			path = p
		}
		return path == ""
	})
	if path == "" {
		t.Fatalf("%s: no managed description to edit", name)
	}
	running := dev.Running()
	running.Find(path).Value = "edited by hand"
	human, err := configtree.Parse(strings.NewReader(`<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces"><interface><name>ge-9/9/9</name><description>a human's</description></interface></interfaces>`),
		"human", render.Keys(dev.Platform, l.in.Types))
	if err != nil {
		t.Fatal(err)
	}
	if err := configtree.Merge(running, human); err != nil {
		t.Fatal(err)
	}
	dev.SetRunning(running)
	return path
}

const humanPath = configtree.Path("/interfaces/interface[name=ge-9/9/9]/description")

func TestDriftHealedOrReportedAndHumansConfigUntouched(t *testing.T) {
	l, d := exampleApplied(t)
	ctx := context.Background()
	// The human's interface alone is not drift: it is not netrecon's.
	for _, n := range []string{"pe1-tyo", "pe2-osa"} {
		dev := l.sim.Device(n)
		running := dev.Running()
		human, _ := configtree.Parse(strings.NewReader(`<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces"><interface><name>ge-9/9/8</name></interface></interfaces>`), "h", render.Keys(dev.Platform, nil))
		configtree.Merge(running, human)
		dev.SetRunning(running)
	}
	before := l.editRPCs()
	if p := d.SyncOnce(ctx, "test"); len(p.Drift)+len(p.Applied) != 0 || l.editRPCs() != before {
		t.Fatalf("config outside netrecon's nodes was taken for drift: %+v", p)
	}

	p1 := handEdit(t, l, "pe1-tyo")
	p2 := handEdit(t, l, "pe2-osa")
	pe2Edits := l.sim.Device("pe2-osa").RPCCount("edit-config")
	p := d.SyncOnce(ctx, "test")
	if !slices.Equal(p.Applied, []string{"pe1-tyo"}) || !slices.Equal(p.Healed, []string{"pe1-tyo"}) || !slices.Equal(p.Drift, []string{"pe2-osa"}) {
		t.Fatalf("drift pass: applied %v drift %v failed %v", p.Applied, p.Drift, p.Failed)
	}
	pe1, pe2 := l.sim.Device("pe1-tyo").Running(), l.sim.Device("pe2-osa").Running()
	if pe1.Find(p1).Value == "edited by hand" {
		t.Error("pe1's drift was not healed")
	}
	if pe2.Find(p2).Value != "edited by hand" || l.sim.Device("pe2-osa").RPCCount("edit-config") != pe2Edits {
		t.Error("pe2's drift was touched although its policy is report")
	}
	for _, r := range []*configtree.Tree{pe1, pe2} {
		if n := r.Find(humanPath); n == nil || n.Value != "a human's" {
			t.Error("a human's interface was touched")
		}
	}
	st := d.Status()
	if len(st.Alarms) != 1 || st.Alarms[0].Kind != string(AlarmDrift) || st.Alarms[0].Device != "pe2-osa" {
		t.Errorf("alarms = %+v", st.Alarms)
	}
	if w := do(t, d.Handler(), "GET", "/metrics", nil, nil); !strings.Contains(w.Body.String(), "netrecon_drift_nodes 1") {
		t.Errorf("metrics:\n%s", grep(w.Body.String(), "netrecon_drift"))
	}
	// Reported drift stays reported, and is not healed, pass after pass.
	if p := d.SyncOnce(ctx, "test"); !slices.Equal(p.Drift, []string{"pe2-osa"}) || len(p.Applied) != 0 {
		t.Errorf("next pass: %+v", p)
	}
}

func grep(s, prefix string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, prefix) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// TestBackoffRetriesOnlyTheWaitingDevices runs the loop: a failing device
// wakes the daemon when its back-off ends (long before the poll interval),
// and that pass reads only the devices that wait, not the whole network.
func TestBackoffRetriesOnlyTheWaitingDevices(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.cfg.Retry = RetryConfig{Base: Duration(100 * time.Millisecond), Max: Duration(400 * time.Millisecond)}
	d := l.start(Options{})
	pe1, pe2 := l.sim.Device("pe1-tyo"), l.sim.Device("pe2-osa")
	pe1.HoldLock("candidate")
	runDaemon(t, d)
	first := waitFinished(t, d, func(p *PassStatus) bool { return p.Reason == "start" })
	if !slices.Equal(first.Failed, []string{"pe1-tyo"}) {
		t.Fatalf("first pass: %+v", first)
	}
	reads := pe2.RPCCount("get-config")
	retry := waitFinished(t, d, func(p *PassStatus) bool { return p.Reason == "retry" && slices.Contains(p.Failed, "pe1-tyo") })
	if pe2.RPCCount("get-config") != reads {
		t.Errorf("a retry pass read a device that was not waiting")
	}
	pe1.ReleaseLock()
	ok := waitFinished(t, d, func(p *PassStatus) bool { return p.Reason == "retry" && slices.Contains(p.Applied, "pe1-tyo") })
	if ok.Started.Before(retry.Finished) {
		t.Error("passes overlap")
	}
	l.assertConverged()
}

func TestFreezeWindowDefersUntilItCloses(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	// The clock is read by the session pool's keeper too, on its own
	// goroutine: it moves atomically.
	var clock atomic.Pointer[time.Time]
	now := time.Date(2026, 12, 24, 12, 0, 0, 0, time.UTC)
	clock.Store(&now)
	l.cfg.Guards.FreezeWindows = []guard.WindowSpec{{Name: "xmas", Start: "2026-12-24T00:00:00Z", End: "2026-12-27T00:00:00Z"}}
	d := l.start(Options{Now: func() time.Time { return *clock.Load() }})
	p := d.SyncOnce(context.Background(), "test")
	st := d.Status()
	if df := deferredOf(st); len(p.Applied) != 0 || len(df) != 3 || df[0].Deferral.Guard != guard.NameFreezeWindow ||
		df[0].Deferral.Until == nil || !df[0].Deferral.Until.Equal(time.Date(2026, 12, 27, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("in the window: pass %+v deferred %+v", p, df)
	}
	// The window ends in 2.5 days: the poll interval (1 h here) comes first.
	if wait, retry := d.nextWait(); retry || wait != time.Hour {
		t.Errorf("next wait %s (retry %v), want the poll interval", wait, retry)
	}
	later := time.Date(2026, 12, 27, 0, 0, 1, 0, time.UTC)
	clock.Store(&later)
	if p := d.SyncOnce(context.Background(), "test"); len(p.Applied) != 3 {
		t.Fatalf("after the window: %+v", p)
	}
}

// exampleApplied starts a daemon on the example intent, pe2-osa's drift
// reported rather than healed, and runs the first pass, which applies the
// three devices.
func exampleApplied(t *testing.T) (*lab, *Daemon) {
	t.Helper()
	l := newLab(t, exampleFiles(t))
	l.cfg.Drift.Devices = map[string]DriftPolicy{"pe2-osa": Report}
	d := l.start(Options{})
	if p := d.SyncOnce(context.Background(), "test"); len(p.Applied) != 3 {
		t.Fatalf("first pass: %+v", p)
	}
	return l, d
}
