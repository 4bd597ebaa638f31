package daemon

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/reconcile/session"
)

// acmeCircuits are a service on each of the example's three devices.
var acmeCircuits = []string{"services/acme/acme-tokyo-hq.yaml", "services/acme/acme-osaka-branch.yaml", "services/acme/acme-singapore.yaml"}

// changeEveryDevice commits a new description for one circuit on every
// device, so that the next pass applies to all three.
func changeEveryDevice(l *lab, word string) string {
	l.t.Helper()
	files := map[string]string{}
	for _, f := range acmeCircuits {
		files[f] = strings.Replace(l.read(f), "circuit SO-", word+" circuit SO-", 1)
	}
	return l.commit("descriptions: "+word, files)
}

// sessionsOpened returns the sessions each device saw since the last call.
func (l *lab) sessionsOpened() map[string]int {
	if l.child != nil {
		return l.child.resetCounts().Opened
	}
	got := map[string]int{}
	for _, d := range l.sim.Devices() {
		got[d.Name] = d.SessionsOpened()
		d.ResetCounters()
	}
	return got
}

func sessionOf(st api.Status, device string) api.Session {
	for _, s := range st.Sessions {
		if s.Device == device {
			return s
		}
	}
	return api.Session{}
}

// A warm pool: after the first pass, a pass that plans and applies every
// device opens no session at all, and status and metrics show the pool.
func TestWarmPassOpensNoSession(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.cfg.Sessions.Keepalive = Duration(time.Hour) // no keepalive traffic in the counts
	d := l.start(Options{})
	ctx := context.Background()
	if p := d.SyncOnce(ctx, "test"); len(p.Applied) != 3 {
		t.Fatalf("first pass: %+v", p)
	}
	for name, n := range l.sessionsOpened() {
		if n != 1 {
			t.Errorf("first pass: %s opened %d sessions, want 1 (plan and apply share it)", name, n)
		}
	}
	changeEveryDevice(l, "warm")
	p := d.SyncOnce(ctx, "test")
	if len(p.Applied) != 3 || len(p.Failed) != 0 {
		t.Fatalf("second pass: %+v", p)
	}
	l.assertConverged()
	for name, n := range l.sessionsOpened() {
		if n != 0 {
			t.Errorf("warm pass: %s opened %d sessions, want 0", name, n)
		}
	}
	st := d.Status()
	if len(st.Sessions) != 3 {
		t.Fatalf("status sessions: %+v", st.Sessions)
	}
	for _, s := range st.Sessions {
		if s.State != string(session.StateIdle) || s.SessionID == "" || s.OpenedAt.IsZero() || s.LastUsedAt.IsZero() || s.Failures != 0 || s.Reconnects != 0 {
			t.Errorf("status of %s's session: %+v", s.Device, s)
		}
	}

	// The API document names its fields in snake_case.
	srv := httptest.NewServer(d.Handler())
	defer srv.Close()
	l.cfg.API.OpenReads = true
	var doc struct {
		Sessions []map[string]any `json:"sessions"`
	}
	getURLJSON(t, srv.URL+"/api/v1/status", &doc)
	if len(doc.Sessions) != 3 {
		t.Fatalf("/api/v1/status sessions: %+v", doc.Sessions)
	}
	for _, k := range []string{"device", "state", "session_id", "opened_at", "age_seconds", "last_used_at", "failures", "reconnects"} {
		if _, ok := doc.Sessions[0][k]; !ok {
			t.Errorf("status session lacks %q: %v", k, doc.Sessions[0])
		}
	}
	metrics := get(t, srv.URL+"/metrics")
	for _, want := range []string{"netrecon_session_open 3", "netrecon_session_dials_total 3", "netrecon_session_leases_total 12", "netrecon_session_lost_total 0"} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// A pooled session that dies between passes (the device dropped it) is
// replaced at the next pass, which still converges.
func TestPooledSessionDiesBetweenPasses(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.cfg.Sessions.Keepalive = Duration(time.Hour) // the pass, not the keepalive, meets the dead session
	d := l.start(Options{})
	ctx := context.Background()
	if p := d.SyncOnce(ctx, "test"); len(p.Applied) != 3 {
		t.Fatalf("first pass: %+v", p)
	}
	l.sessionsOpened()
	for _, dev := range l.sim.Devices() {
		if n := dev.DropSessions(); n != 1 {
			t.Fatalf("%s: dropped %d sessions, want the pooled one", dev.Name, n)
		}
	}
	changeEveryDevice(l, "after-drop")
	p := d.SyncOnce(ctx, "test")
	if len(p.Applied) != 3 || len(p.Failed) != 0 || p.Error != "" {
		t.Fatalf("pass after the sessions died: %+v", p)
	}
	l.assertConverged()
	for name, n := range l.sessionsOpened() {
		if n != 1 {
			t.Errorf("%s opened %d sessions, want 1 (the replacement)", name, n)
		}
	}
	for _, s := range d.Status().Sessions {
		if s.State != string(session.StateIdle) || s.Reconnects != 1 || s.Failures != 0 || s.LastError == "" {
			t.Errorf("status of %s's session after its replacement: %+v", s.Device, s)
		}
	}
}

// The keepalive finds a dead session while no pass runs, and the pool opens
// a new one by itself: the next pass starts warm.
func TestKeepaliveReplacesADeadSessionBetweenPasses(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.cfg.Sessions.Keepalive = Duration(20 * time.Millisecond)
	l.cfg.Sessions.Reconnect = RetryConfig{Base: Duration(10 * time.Millisecond), Max: Duration(50 * time.Millisecond)}
	d := l.start(Options{})
	ctx := context.Background()
	if p := d.SyncOnce(ctx, "test"); len(p.Applied) != 3 {
		t.Fatalf("first pass: %+v", p)
	}
	pe1 := l.sim.Device("pe1-tyo")
	pe1.ResetCounters()
	pe1.DropSessions()
	for deadline := time.Now().Add(10 * time.Second); ; {
		s := sessionOf(d.Status(), "pe1-tyo")
		if s.Reconnects == 1 && s.State == string(session.StateIdle) && pe1.SessionsOpened() == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pool did not replace the dead session: %+v", s)
		}
		<-time.After(5 * time.Millisecond) // poll interval
	}
	changeEveryDevice(l, "keepalive")
	if p := d.SyncOnce(ctx, "test"); len(p.Applied) != 3 || len(p.Failed) != 0 {
		t.Fatalf("pass: %+v", p)
	}
	if n := pe1.SessionsOpened(); n != 1 {
		t.Errorf("pe1 opened %d sessions in all, want the reconnect only", n)
	}
	l.assertConverged()
}

// A reply lost on a pooled session fails that device's attempt only: the
// per-RPC deadline ends the session, the other devices apply, and the next
// pass brings the device in on a new session.
func TestLostReplyOnPooledSessionFailsOnlyThatDevice(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.cfg.Sessions.Keepalive = Duration(time.Hour)
	l.cfg.RPCTimeout = Duration(300 * time.Millisecond)
	d := l.start(Options{})
	ctx := context.Background()
	if p := d.SyncOnce(ctx, "test"); len(p.Applied) != 3 {
		t.Fatalf("first pass: %+v", p)
	}
	l.sessionsOpened()
	pe2 := l.sim.Device("pe2-osa")
	pe2.SwallowReplyAt("get-config", 1)
	changeEveryDevice(l, "lost-reply")
	p := d.SyncOnce(ctx, "test")
	if !slices.Equal(p.Failed, []string{"pe2-osa"}) || !slices.Equal(p.Applied, []string{"pe1-tyo", "pe3-sin"}) {
		t.Fatalf("pass with pe2's reply lost: applied %v failed %v (%s)", p.Applied, p.Failed, p.Error)
	}
	st := d.Status()
	if s := sessionOf(st, "pe2-osa"); s.State != string(session.StateDown) || s.Failures != 1 || s.SessionID != "" {
		t.Errorf("pe2's session after the lost reply: %+v", s)
	}
	if s := sessionOf(st, "pe1-tyo"); s.State != string(session.StateIdle) || s.Failures != 0 {
		t.Errorf("pe1's session: %+v", s)
	}
	opened := l.sessionsOpened()
	if opened["pe2-osa"] != 0 || opened["pe1-tyo"] != 0 {
		t.Errorf("sessions opened during the pass: %v; a lost reply is not sent again", opened)
	}
	p = d.SyncOnce(ctx, "test") // the retry pass (back-off of 1 ms in the lab config)
	if !slices.Equal(p.Applied, []string{"pe2-osa"}) || len(p.Failed) != 0 {
		t.Fatalf("retry pass: %+v", p)
	}
	l.assertConverged()
	if n := l.sessionsOpened()["pe2-osa"]; n != 1 {
		t.Errorf("pe2 opened %d sessions in the retry, want 1", n)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, b)
	}
	return string(b)
}

func getURLJSON(t *testing.T, url string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(get(t, url)), v); err != nil {
		t.Fatal(err)
	}
}
