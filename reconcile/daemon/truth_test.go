package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/apply"
	"github.com/netrecon/netrecon/reconcile/journal"
)

// The tests of this file are the "seen" items of issue 13: each failed on
// the daemon before it told the truth about itself.

const (
	starkOsaka = "services/stark/stark-osaka.yaml"
	opsToken   = "ops-write-token-for-tests"
)

// withWriteToken adds a named token of scope write, "ops".
func (l *lab) withWriteToken() {
	dir := l.cfg.KnownHosts[:strings.LastIndex(l.cfg.KnownHosts, "/")]
	f := dir + "/ops.token"
	writeFile(l.t, f, opsToken+"\n")
	l.cfg.API.Tokens = append(l.cfg.API.Tokens, TokenConfig{Name: "ops", File: f, Scope: ScopeWrite})
}

func getJSON(t *testing.T, h http.Handler, path, token string, v any) int {
	t.Helper()
	w := do(t, h, "GET", path, nil, map[string]string{"Authorization": "Bearer " + token})
	if w.Code == 200 {
		if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, w.Body)
		}
	}
	return w.Code
}

func postAction(t *testing.T, h http.Handler, action string, req api.ActionRequest) (int, string) {
	t.Helper()
	b, _ := json.Marshal(req)
	w := do(t, h, "POST", "/api/v1/actions/"+action, b, map[string]string{"Authorization": "Bearer " + opsToken})
	return w.Code, w.Body.String()
}

// Seen: one hand-changed node on pe3-sin marked all of its services drift,
// and the alarm ("1 managed nodes changed") named no path.
func TestDriftNamesItsNodesAndOnlyItsOwnServices(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.cfg.Drift.Default = Report
	l.withSecrets()
	d := l.start(Options{})
	h := d.Handler()
	ctx := context.Background()
	if p := d.SyncOnce(ctx, "test"); len(p.Applied) != 3 {
		t.Fatalf("first pass: %+v", p)
	}
	path := handEdit(t, l, "pe3-sin")
	if p := d.SyncOnce(ctx, "test"); !slices.Equal(p.Drift, []string{"pe3-sin"}) {
		t.Fatalf("pass after the hand edit: %+v", p)
	}

	var dev api.Device
	if code := getJSON(t, h, "/api/v1/devices/pe3-sin", testToken, &dev); code != 200 {
		t.Fatalf("GET device = %d", code)
	}
	if dev.State != api.StateDrift || dev.DriftNodes != 1 || len(dev.Nodes) != 1 {
		t.Fatalf("device: %+v", dev)
	}
	n := dev.Nodes[0]
	if n.Kind != "drift" || n.Path != string(path) || n.Action != "update" || len(n.Owners) != 1 ||
		n.Live == nil || *n.Live != "edited by hand" || n.Desired == nil || *n.Desired == "" {
		t.Fatalf("drifted node: %+v", n)
	}
	owner := n.Owners[0]

	var svcs api.ServiceList
	getJSON(t, h, "/api/v1/services", testToken, &svcs)
	onDevice := 0
	for _, s := range svcs.Services {
		if !slices.ContainsFunc(s.Devices, func(sd api.ServiceDevice) bool { return sd.Device == "pe3-sin" }) {
			continue
		}
		onDevice++
		want := api.StateInSync
		if s.Name == owner {
			want = api.StateDrift
		}
		if s.State != want {
			t.Errorf("service %s on pe3-sin: %s, want %s (only %s owns the drifted node)", s.Name, s.State, want, owner)
		}
	}
	if onDevice < 2 {
		t.Fatalf("only %d services on pe3-sin: the test needs more than the owner", onDevice)
	}
	var svc api.Service
	getJSON(t, h, "/api/v1/services/"+owner, testToken, &svc)
	if len(svc.Devices) != 1 || len(svc.Devices[0].Nodes) != 1 || svc.Devices[0].Nodes[0].Path != string(path) {
		t.Errorf("service %s: %+v", owner, svc)
	}
	st := d.Status()
	if st.ServicesByState[api.StateDrift] != 1 || st.DevicesByState[api.StateDrift] != 1 || st.InSync {
		t.Errorf("counts: devices %v services %v in_sync %v", st.DevicesByState, st.ServicesByState, st.InSync)
	}
	if len(st.Alarms) != 1 || !strings.Contains(st.Alarms[0].Message, string(path)) || !strings.Contains(st.Alarms[0].Message, owner) ||
		!strings.Contains(st.Alarms[0].Hint, "netrecon heal pe3-sin") {
		t.Errorf("drift alarm does not name the node, its owner and what to do: %+v", st.Alarms)
	}
	// The journal keeps the nodes: a restarted daemon shows them.
	d.Close()
	d = l.start(Options{})
	if v, ok := d.device("pe3-sin"); !ok || len(v.Nodes) != 1 || v.Nodes[0].Path != string(path) {
		t.Errorf("after a restart: %+v", v)
	}
}

func TestSecretLeavesAreRedacted(t *testing.T) {
	for _, tc := range []struct {
		path   string
		secret bool
	}{
		{"/interfaces/interface[name=ge-0/0/1]/description", false},
		{"/bgp/neighbor[address=192.0.2.1]/authentication-key", true},
		{"/system/user[name=alice]/password", true},
		{"/snmp/community[name=x]/community-string", true},
		{"/routing/static[prefix=10.0.0.0/8]/next-hop", false},
		{"/tunnel/pre-shared-key", true},
		{"/bgp/neighbor[address=x]/md5", true},
	} {
		if got := secretLeaf(configtree.Path(tc.path)); got != tc.secret {
			t.Errorf("secretLeaf(%s) = %v, want %v", tc.path, got, tc.secret)
		}
	}
	nodes := apiNodes([]journal.Node{{Kind: journal.NodeDrift, Action: "update", Path: "/system/user[name=alice]/password", Leaf: true,
		Live: shown("/system/user[name=alice]/password", "hunter2"), Desired: shown("/system/user[name=alice]/password", "s3cret")}})
	b, _ := json.Marshal(nodes)
	if strings.Contains(string(b), "hunter2") || strings.Contains(string(b), "s3cret") || !strings.Contains(string(b), redacted) {
		t.Errorf("secret shown: %s", b)
	}
}

// Seen: the same drift alarm, with the same since, was notified "raised"
// three times: on each new commit and on restart.
func TestAlarmNotifiedOncePerEpisode(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.cfg.Drift.Devices = map[string]DriftPolicy{"pe3-sin": Report}
	l.withWriteToken()
	rcv := newReceiver(t)
	l.cfg.Notify.URL = rcv.srv.URL
	d := l.start(Options{})
	ctx := context.Background()
	d.SyncOnce(ctx, "test")
	handEdit(t, l, "pe3-sin")
	d.SyncOnce(ctx, "test")
	if got := events(rcv.wait(t, 1)); !slices.Equal(got, []string{"raised drift pe3-sin"}) {
		t.Fatalf("notifications: %v", got)
	}
	since := d.Status().Alarms[0].Since

	// A new commit (on another device), then a restart: the same episode.
	l.commit("stark: new description", map[string]string{starkOsaka: strings.Replace(l.read(starkOsaka), "Osaka factory", "Osaka plant", 1)})
	if p := d.SyncOnce(ctx, "test"); !slices.Equal(p.Applied, []string{"pe2-osa"}) || !slices.Equal(p.Drift, []string{"pe3-sin"}) {
		t.Fatalf("pass of the new commit: %+v", p)
	}
	d.Close()
	d = l.start(Options{})
	d.SyncOnce(ctx, "test")
	st := d.Status()
	if len(st.Alarms) != 1 || !st.Alarms[0].Since.Equal(since) {
		t.Errorf("alarm after a new commit and a restart: %+v (since was %s)", st.Alarms, since)
	}

	// Acknowledged: notified as such, and still active.
	code, body := postAction(t, d.Handler(), "acknowledge", api.ActionRequest{Alarm: st.Alarms[0].ID, Reason: "ticket 42", As: "alice"})
	if code != 200 {
		t.Fatalf("acknowledge = %d %s", code, body)
	}
	if got := events(rcv.wait(t, 1)); !slices.Equal(got, []string{"acknowledged drift pe3-sin"}) {
		t.Fatalf("notifications after acknowledge: %v", got)
	}
	if a := d.Status().Alarms; len(a) != 1 || a[0].Acknowledged == nil || a[0].Acknowledged.By != "alice" || a[0].Acknowledged.Reason != "ticket 42" {
		t.Errorf("acknowledged alarm: %+v", a)
	}
	// Healed by an operator: cleared, notified once, and kept as a past alarm.
	if code, body := postAction(t, d.Handler(), "heal", api.ActionRequest{Devices: []string{"pe3-sin"}, Reason: "ticket 42"}); code != 200 {
		t.Fatalf("heal = %d %s", code, body)
	}
	d.SyncOnce(ctx, "test")
	select {
	case n := <-rcv.ch:
		if n.Event != "cleared" || n.Alarm.Kind != "drift" {
			t.Errorf("notification after the heal: %+v", n)
		}
	case <-afterSeconds(10):
		t.Fatal("no notification of the cleared alarm")
	}
	select {
	case n := <-rcv.ch:
		t.Errorf("a notification too many: %+v", n)
	default:
	}
	var past api.AlarmList
	getJSON(t, d.Handler(), "/api/v1/alarms?state=past", opsToken, &past)
	if len(past.Alarms) != 1 || past.Alarms[0].Cleared == nil || past.Alarms[0].Acknowledged == nil {
		t.Errorf("past alarms: %+v", past)
	}
}

// Seen: during a pass with pe2-osa waiting on a lock, the status already
// showed the new commit and every device in sync; nothing said a pass ran.
func TestStatusShowsThePassInProgressAndWhatItWaitsOn(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.cfg.LockWait = Duration(20 * time.Second)
	d := l.start(Options{})
	ctx := context.Background()
	first := d.SyncOnce(ctx, "test")
	old := first.Commit
	pe2 := l.sim.Device("pe2-osa")
	if err := pe2.HoldLock("candidate"); err != nil {
		t.Fatal(err)
	}
	head := l.commit("stark: new description", map[string]string{starkOsaka: strings.Replace(l.read(starkOsaka), "Osaka factory", "Osaka plant", 1)})
	done := make(chan *PassStatus, 1)
	go func() { done <- d.SyncOnce(ctx, "test") }()

	var seen api.Status
	deadline := time.Now().Add(20 * time.Second)
	for {
		seen = d.Status()
		if p := seen.Pass; p != nil && p.Step == "apply" && len(p.Devices) > 0 && p.Devices[0].Waiting != nil {
			break
		}
		if time.Now().After(deadline) {
			pe2.ReleaseLock()
			t.Fatalf("no pass in progress waiting on pe2-osa's lock within 20 s: %+v", seen.Pass)
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
	w := seen.Pass.Devices[0]
	if w.Device != "pe2-osa" || w.Phase != "lock-wait" || w.Waiting.RetryAt.IsZero() || !strings.Contains(w.Waiting.Reason, "lock") {
		t.Errorf("waiting device: %+v %+v", w, w.Waiting)
	}
	if seen.Pass.Commit != head || seen.TargetCommit != head || seen.AppliedCommit != old || seen.InSync {
		t.Errorf("during the pass: pass commit %s target %s applied %s in_sync %v; want %s, %s, %s, false",
			seen.Pass.Commit, seen.TargetCommit, seen.AppliedCommit, seen.InSync, head, head, old)
	}
	for _, dv := range seen.Devices {
		if dv.Name == "pe2-osa" && dv.State == api.StateInSync {
			t.Errorf("pe2-osa is in-sync for %s, which it has not been brought to: %+v", short(head), dv)
		}
	}
	pe2.ReleaseLock()
	p := <-done
	if !slices.Equal(p.Applied, []string{"pe2-osa"}) {
		t.Fatalf("pass: %+v", p)
	}
	st := d.Status()
	if st.Pass != nil || !st.InSync || st.AppliedCommit != head {
		t.Errorf("after the pass: %+v", st)
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Seen: a guard deferral was journaled as "rolled-back ... failed: pe1-tyo"
// and shown in history as a failure.
func TestDeferralIsItsOwnOutcome(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.cfg.Guards.OperatorSessions = &OperatorSessionsConfig{Allow: []string{"netrecon"}}
	l.withSecrets()
	// The wording is the views' (cmd passes views.ApplySummary); this one
	// shows what the daemon hands it: the outcome and each guard's reason.
	summary := func(r *apply.Result) string {
		var held []string
		for _, dr := range r.Devices {
			if de := (*apply.DeferredError)(nil); errors.As(dr.Err, &de) {
				held = append(held, dr.Name+" ("+de.Reason+")")
			}
		}
		return string(r.Outcome) + ": " + strings.Join(held, "; ")
	}
	d := l.start(Options{ApplySummary: summary})
	l.sim.Device("pe1-tyo").AddOperatorSession("alice")
	ctx := context.Background()
	p := d.SyncOnce(ctx, "test")
	if !slices.Equal(p.Deferred, []string{"pe1-tyo"}) || len(p.Failed) != 0 || p.Outcome() != PassDeferred {
		t.Fatalf("pass: %+v outcome %s", p, p.Outcome())
	}
	// The first run of the pass held everything back: deferred, not a failure.
	var deferredRun *journal.Run
	for _, id := range p.RunIDs {
		var n int64
		json.Unmarshal([]byte(id), &n)
		run, err := d.Journal().Run(ctx, journal.RunID(n))
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(run.Devices, func(dr journal.DeviceRun) bool { return dr.Device == "pe1-tyo" }) {
			deferredRun = run
		}
	}
	if deferredRun == nil || deferredRun.Outcome != journal.Deferred || strings.Contains(deferredRun.Summary, "failed") ||
		!strings.Contains(deferredRun.Summary, "alice") {
		t.Fatalf("the run pe1-tyo was deferred in: %+v", deferredRun)
	}
	// In history (the API's runs, the same documents as history -o json).
	var runs api.RunList
	getJSON(t, d.Handler(), "/api/v1/runs", testToken, &runs)
	if !slices.ContainsFunc(runs.Runs, func(r api.Run) bool {
		return r.ID == int64(deferredRun.ID) && r.Outcome == "deferred" && r.Pass == p.ID
	}) {
		t.Errorf("runs: %+v", runs)
	}
	var pass api.Pass
	getJSON(t, d.Handler(), "/api/v1/passes/"+p.ID, testToken, &pass)
	if pass.Outcome != "deferred" || !slices.Equal(pass.Deferred, []string{"pe1-tyo"}) || len(pass.Failed) != 0 {
		t.Errorf("pass: %+v", pass)
	}
	dev, _ := d.device("pe1-tyo")
	if dev.State != api.StateDeferred || dev.Deferral == nil || dev.Deferral.Guard != "operator-sessions" || dev.PendingNodes == 0 {
		t.Errorf("device: %+v", dev)
	}
	m := do(t, d.Handler(), "GET", "/metrics", nil, nil).Body.String()
	for _, want := range []string{`netrecon_deferrals_total{guard="operator-sessions"} 1`, `netrecon_reconcile_passes_total{result="deferred"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestOperatorActionsRecordWhoAndWhy(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.withSecrets()
	l.withWriteToken()
	d := l.start(Options{})
	h := d.Handler()
	ctx := context.Background()
	d.SyncOnce(ctx, "test")

	// A write needs a write token and a reason.
	b, _ := json.Marshal(api.ActionRequest{Device: "pe2-osa", Reason: "RMA"})
	if w := do(t, h, "POST", "/api/v1/actions/pause", b, map[string]string{"Authorization": "Bearer " + testToken}); w.Code != 403 {
		t.Errorf("pause with a trigger token = %d, want 403", w.Code)
	}
	if code, _ := postAction(t, h, "pause", api.ActionRequest{Device: "pe2-osa"}); code != 400 {
		t.Errorf("pause without a reason = %d, want 400", code)
	}
	if code, body := postAction(t, h, "pause", api.ActionRequest{Device: "pe2-osa", Reason: "RMA", As: "alice"}); code != 200 {
		t.Fatalf("pause = %d %s", code, body)
	}
	if code, _ := postAction(t, h, "heal", api.ActionRequest{Devices: []string{"pe2-osa"}, Reason: "x"}); code != 409 {
		t.Errorf("heal of a paused device = %d, want 409", code)
	}
	// Paused: not read, not changed, and shown as such.
	l.commit("stark: new description", map[string]string{starkOsaka: strings.Replace(l.read(starkOsaka), "Osaka factory", "Osaka plant", 1)})
	reads := l.sim.Device("pe2-osa").RPCCount("get-config")
	p := d.SyncOnce(ctx, "test")
	if slices.Contains(p.Applied, "pe2-osa") || l.sim.Device("pe2-osa").RPCCount("get-config") != reads {
		t.Errorf("a paused device was read or changed: %+v", p)
	}
	dev, _ := d.device("pe2-osa")
	if dev.State != api.StatePaused || dev.Paused == nil || dev.Paused.By != "alice" || dev.Paused.Reason != "RMA" {
		t.Errorf("paused device: %+v", dev)
	}
	// Paused across a restart (the journal's).
	d.Close()
	d = l.start(Options{})
	h = d.Handler()
	if dev, _ := d.device("pe2-osa"); dev.State != api.StatePaused {
		t.Errorf("after a restart: %+v", dev)
	}
	code, body := postAction(t, h, "resume", api.ActionRequest{Device: "pe2-osa", Reason: "RMA done"})
	if code != 200 {
		t.Fatalf("resume = %d %s", code, body)
	}
	var act api.Action
	json.Unmarshal([]byte(body), &act)
	if act.Pass == "" || act.Who != "ops" || act.Token != "ops" {
		t.Errorf("resume answer: %+v", act)
	}
	// The pass the action announced (SyncOnce runs it: no loop here).
	if p := d.SyncOnce(ctx, "test"); p.ID != act.Pass || !slices.Equal(p.Applied, []string{"pe2-osa"}) {
		t.Errorf("pass after resume: %+v", p)
	}
	var acts api.ActionList
	getJSON(t, h, "/api/v1/actions?limit=2", testToken, &acts)
	if len(acts.Actions) != 2 || acts.Actions[0].Action != "resume" || acts.Actions[1].Action != "pause" ||
		acts.Actions[1].Who != "alice" || acts.Actions[1].Token != "ops" || acts.Actions[1].Reason != "RMA" {
		t.Errorf("actions: %+v", acts)
	}
}

// Seen: after a force-push the daemon said "until a human accepts the new
// history", and nothing said how.
func TestAcceptRewrittenHistory(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.withWriteToken()
	d := l.start(Options{})
	h := d.Handler()
	ctx := context.Background()
	good := d.SyncOnce(ctx, "test").Commit
	l.commit("acme: a", map[string]string{acme: strings.Replace(l.read(acme), "Tokyo HQ", "Tokyo A", 1)})
	d.SyncOnce(ctx, "test")
	l.git("checkout", "-q", "-B", "main", good)
	rewritten := l.commit("acme: b", map[string]string{acme: strings.Replace(l.read(acme), "Tokyo HQ", "Tokyo B", 1)})
	if p := d.SyncOnce(ctx, "test"); p.Commit == rewritten {
		t.Fatalf("a rewritten head was applied: %+v", p)
	}
	st := d.Status()
	if len(st.Alarms) != 1 || !strings.Contains(st.Alarms[0].Message, "netrecon accept-history --commit "+short(rewritten)) ||
		!strings.Contains(st.Alarms[0].Hint, "accept-history") {
		t.Fatalf("the refusal does not say how to accept: %+v", st.Alarms)
	}
	if code, _ := postAction(t, h, "accept-history", api.ActionRequest{Commit: "0123456789abcdef0123456789abcdef01234567", Reason: "x"}); code != 400 {
		t.Errorf("accepting an unknown commit = %d, want 400", code)
	}
	code, body := postAction(t, h, "accept-history", api.ActionRequest{Commit: rewritten, Reason: "the force-push was meant", As: "bob"})
	if code != 200 {
		t.Fatalf("accept-history = %d %s", code, body)
	}
	var act api.Action
	json.Unmarshal([]byte(body), &act)
	if act.Target != rewritten || !strings.Contains(act.Detail, "new base "+short(rewritten)) {
		t.Errorf("action: %+v", act)
	}
	p := d.SyncOnce(ctx, "test")
	if p.Commit != rewritten || !slices.Equal(p.Applied, []string{"pe1-tyo"}) {
		t.Fatalf("pass after the acceptance: %+v", p)
	}
	if st := d.Status(); len(st.Alarms) != 0 || st.TargetCommit != rewritten {
		t.Errorf("after the acceptance: %+v", st)
	}
	l.assertConverged()
}
