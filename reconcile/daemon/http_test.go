package daemon

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/api"
)

const (
	testToken  = "api-token-for-tests"
	testSecret = "webhook-secret-for-tests"
)

func (l *lab) withSecrets() {
	dir := filepath.Dir(l.cfg.KnownHosts)
	tok, sec := filepath.Join(dir, "token"), filepath.Join(dir, "secret")
	os.WriteFile(tok, []byte(testToken+"\n"), 0o600)
	os.WriteFile(sec, []byte(testSecret+"\n"), 0o600)
	l.cfg.API.TokenFile, l.cfg.Webhook.SecretFile = tok, sec
	l.cfg.Webhook.MaxBody = 4096
}

func do(t *testing.T, h http.Handler, method, path string, body []byte, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, bytes.NewReader(body))
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// runDaemon runs d.Run until the test ends (then stops it and waits).
func runDaemon(t *testing.T, d *Daemon) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return within 30 s of the stop")
		}
	})
}

// waitPass polls until the pass id finished, or fails the test after 30 s.
func waitPass(t *testing.T, d *Daemon, id string) *PassStatus {
	t.Helper()
	return waitPassWithin(t, d, id, 30*time.Second)
}

// waitPassWithin is waitPass with its own deadline: a test whose passes are
// long (the soak) scales it from the passes it measured.
func waitPassWithin(t *testing.T, d *Daemon, id string, within time.Duration) *PassStatus {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if p, _ := d.passByID(context.Background(), id); p != nil && !p.Finished.IsZero() {
			return p
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline, not waiting blind
	}
	t.Fatalf("pass %s did not finish within %s", id, within)
	return nil
}

func TestHTTPHealthMetricsStatusAndRuns(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.withSecrets()
	d := l.start(Options{})
	h := d.Handler()

	if w := do(t, h, "GET", "/healthz", nil, nil); w.Code != 200 {
		t.Errorf("/healthz = %d", w.Code)
	}
	if w := do(t, h, "GET", "/readyz", nil, nil); w.Code != 503 {
		t.Errorf("/readyz before the first pass = %d, want 503", w.Code)
	}
	for _, hdr := range []map[string]string{nil, {"Authorization": "Bearer wrong"}, {"Authorization": testToken}} {
		if w := do(t, h, "POST", "/api/v1/runs", nil, hdr); w.Code != 401 {
			t.Errorf("POST /api/v1/runs with %v = %d, want 401", hdr, w.Code)
		}
	}
	runDaemon(t, d)
	w := do(t, h, "POST", "/api/v1/runs", nil, map[string]string{"Authorization": "Bearer " + testToken})
	if w.Code != 202 {
		t.Fatalf("POST /api/v1/runs = %d: %s", w.Code, w.Body)
	}
	var got struct{ ID string }
	json.Unmarshal(w.Body.Bytes(), &got)
	p := waitPass(t, d, got.ID)
	if p.Error != "" {
		t.Fatalf("pass: %s", p.Error)
	}
	if w := do(t, h, "GET", "/readyz", nil, nil); w.Code != 200 {
		t.Errorf("/readyz after a pass = %d, want 200", w.Code)
	}

	auth := map[string]string{"Authorization": "Bearer " + testToken}
	w = do(t, h, "GET", "/api/v1/passes/"+got.ID, nil, auth)
	var rv api.Pass
	if err := json.Unmarshal(w.Body.Bytes(), &rv); err != nil || w.Code != 200 || rv.ID != got.ID {
		t.Fatalf("GET pass = %d %s", w.Code, w.Body)
	}
	if len(rv.Applied) > 0 && len(rv.Runs) == 0 {
		t.Errorf("pass applied %v but lists no journal run: %s", rv.Applied, w.Body)
	}
	for _, r := range rv.Runs {
		if w := do(t, h, "GET", "/api/v1/runs/"+jsonNumber(r.ID), nil, auth); w.Code != 200 {
			t.Errorf("GET journal run %d = %d", r.ID, w.Code)
		}
	}
	if w := do(t, h, "GET", "/api/v1/runs/99999", nil, auth); w.Code != 404 {
		t.Errorf("unknown run = %d, want 404", w.Code)
	}

	w = do(t, h, "GET", "/api/v1/status", nil, auth)
	var st api.Status
	if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil || !st.Ready || len(st.Devices) != 3 || st.TargetCommit == "" {
		t.Errorf("status = %s", w.Body)
	}

	w = do(t, h, "GET", "/metrics", nil, nil)
	body := w.Body.String()
	for _, want := range []string{
		`netrecon_devices{state="in-sync"}`, `netrecon_devices{state="applied"}`,
		"netrecon_reconcile_duration_seconds_bucket", "netrecon_applies_total", "netrecon_apply_failures_total 0",
		"netrecon_drift_nodes 0", "netrecon_alarms 0", "netrecon_last_sync_timestamp_seconds", "netrecon_seconds_since_last_sync",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func jsonNumber(v any) string { b, _ := json.Marshal(v); return string(b) }

func sign(body []byte) string {
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func TestGitHubWebhook(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.withSecrets()
	d := l.start(Options{})
	h := d.Handler()
	push := []byte(`{"ref":"refs/heads/main","after":"abc"}`)
	other := []byte(`{"ref":"refs/heads/feature","after":"abc"}`)
	pending := func() bool { d.mu.Lock(); defer d.mu.Unlock(); return d.pending != nil }
	clearPending := func() {
		d.mu.Lock()
		d.pending = nil
		d.mu.Unlock()
		select {
		case <-d.wake:
		default:
		}
	}

	for _, tc := range []struct {
		name    string
		body    []byte
		hdr     map[string]string
		code    int
		trigger bool
	}{
		{"no signature", push, map[string]string{"X-GitHub-Event": "push"}, 401, false},
		{"bad signature", push, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": sign([]byte("other"))}, 401, false},
		{"garbage signature", push, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=zz"}, 401, false},
		{"oversized", bytes.Repeat([]byte("x"), 5000), map[string]string{"X-GitHub-Event": "push"}, 413, false},
		{"ping", []byte(`{}`), map[string]string{"X-GitHub-Event": "ping", "X-Hub-Signature-256": sign([]byte(`{}`)), "X-GitHub-Delivery": "d0"}, 202, false},
		{"other branch", other, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": sign(other), "X-GitHub-Delivery": "d1"}, 202, false},
		{"push", push, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": sign(push), "X-GitHub-Delivery": "d2"}, 202, true},
		{"replay", push, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": sign(push), "X-GitHub-Delivery": "d2"}, 202, false},
		{"new delivery", push, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": sign(push), "X-GitHub-Delivery": "d3"}, 202, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearPending()
			w := do(t, h, "POST", "/hooks/github", tc.body, tc.hdr)
			if w.Code != tc.code {
				t.Errorf("code = %d, want %d: %s", w.Code, tc.code, w.Body)
			}
			if pending() != tc.trigger {
				t.Errorf("triggered = %v, want %v", pending(), tc.trigger)
			}
		})
	}
	// Triggers coalesce: a burst before the pass starts is one pass.
	clearPending()
	a, b := d.Trigger("webhook"), d.Trigger("webhook")
	if a != b {
		t.Errorf("two triggers before a pass got two passes: %s, %s", a, b)
	}
	if w := do(t, h, "GET", "/metrics", nil, nil); !strings.Contains(w.Body.String(), `netrecon_webhook_deliveries_total{result="replay"} 1`) {
		t.Errorf("metrics lack the replay count")
	}
}

func TestRecentSetIsBounded(t *testing.T) {
	s := newRecentSet(2)
	for _, id := range []string{"a", "b", "c"} {
		if !s.add(id) {
			t.Fatalf("%s seen before", id)
		}
	}
	if s.add("b") || s.add("c") {
		t.Error("recent ids accepted again")
	}
	if !s.add("a") {
		t.Error("the oldest id was not evicted")
	}
	if len(s.ids) != 2 {
		t.Errorf("set holds %d ids, want 2", len(s.ids))
	}
}

func TestRunServesHTTPOnListen(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.cfg.Listen = ln.Addr().String()
	l.cfg.API.OpenReads = true
	ln.Close()
	d := l.start(Options{})
	runDaemon(t, d)
	url := "http://" + l.cfg.Listen
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz not 200 within 30 s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Get(url + "/api/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st api.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || st.APIVersion != "v1" || !st.Ready {
		t.Errorf("status over HTTP: %+v %v", st, err)
	}
}

func TestSecondDaemonOnTheSameStateIsRefused(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.start(Options{})
	_, err := New(context.Background(), l.cfg, Options{Dialer: l.dialer})
	var le *StateLockedError
	if !errors.As(err, &le) {
		t.Fatalf("second daemon: err = %v, want *StateLockedError", err)
	}
}
