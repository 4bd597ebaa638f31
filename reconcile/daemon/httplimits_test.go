package daemon

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/reconcile/journal"
)

// serveLab runs a daemon of the lab on a loopback port with lim and returns
// its address.
func serveLab(t *testing.T, l *lab, lim httpLimits) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.cfg.Listen = ln.Addr().String()
	ln.Close()
	d := l.start(Options{httpLimits: &lim})
	runDaemon(t, d)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", l.cfg.Listen)
		if err == nil {
			c.Close()
			return l.cfg.Listen
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon not listening within 30 s: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedWithin reads c until the server closes it, failing the test when
// that takes longer than limit.
func closedWithin(t *testing.T, c net.Conn, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	c.SetReadDeadline(start.Add(limit))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %s", limit)
	}
	return time.Since(start)
}

// A body sent a byte at a time is cut at the read timeout, not when the
// client is done.
func TestHTTPSlowBodyIsCut(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.withSecrets()
	lim := defaultHTTPLimits
	lim.Read = time.Second
	addr := serveLab(t, l, lim)
	c := dial(t, addr)
	if _, err := io.WriteString(c, "POST /hooks/github HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nContent-Length: 4000\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(50 * time.Millisecond) // the trickle itself
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := c.Write([]byte("x")); err != nil {
					return
				}
			}
		}
	}()
	if took := closedWithin(t, c, 10*time.Second); took > 5*time.Second {
		t.Errorf("slow body held the connection %s", took)
	}
}

// A refused request is answered at once, whatever body it announces.
func TestHTTPUnauthorizedBeforeBody(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.withSecrets()
	addr := serveLab(t, l, defaultHTTPLimits)
	for _, req := range []string{
		"POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n",
		"GET /api/v1/status HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n",
	} {
		c := dial(t, addr)
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%q: no answer before the body: %v", req, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("%q: %d, want 401", req, resp.StatusCode)
		}
	}
}

func TestHTTPIdleKeepAliveClosed(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	lim := defaultHTTPLimits
	lim.Idle = 300 * time.Millisecond
	addr := serveLab(t, l, lim)
	c := dial(t, addr)
	io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 || resp.Close {
		t.Fatalf("keep-alive answer: %v %+v", err, resp)
	}
	io.Copy(io.Discard, resp.Body)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, br); err != nil {
		t.Fatalf("idle keep-alive not closed within 5 s: %v", err)
	}
}

// Past MaxConns, a connection waits until another ends.
func TestHTTPConnectionCap(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	lim := defaultHTTPLimits
	lim.MaxConns = 2
	addr := serveLab(t, l, lim)
	get := func(c net.Conn, wait time.Duration) error {
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(wait))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	c1, c2 := dial(t, addr), dial(t, addr)
	for _, c := range []net.Conn{c1, c2} {
		if err := get(c, 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	c3 := dial(t, addr)
	var ne net.Error
	if err := get(c3, 300*time.Millisecond); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("third connection served past the cap of 2: %v", err)
	}
	c1.Close()
	c3.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c3), nil)
	if err != nil {
		t.Fatalf("third connection not served after one closed: %v", err)
	}
	resp.Body.Close()
}

func TestAPIReadsNeedToken(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.withSecrets()
	rt := filepath.Join(filepath.Dir(l.cfg.KnownHosts), "read-token")
	os.WriteFile(rt, []byte("read-only-token\n"), 0o600)
	l.cfg.API.ReadTokenFile = rt
	h := l.start(Options{}).Handler()
	for _, tc := range []struct {
		method, path, token string
		code                int
	}{
		{"GET", "/api/v1/status", "", 401},
		{"GET", "/api/v1/status", "wrong", 401},
		{"GET", "/api/v1/status", "read-only-token", 200},
		{"GET", "/api/v1/status", testToken, 200},
		{"GET", "/api/v1/runs/1", "", 401},
		{"GET", "/api/v1/runs/99999", "read-only-token", 404},
		{"POST", "/api/v1/runs", "read-only-token", 403}, // known, too small a scope
		{"GET", "/healthz", "", 200},
	} {
		var hdr map[string]string
		if tc.token != "" {
			hdr = map[string]string{"Authorization": "Bearer " + tc.token}
		}
		if w := do(t, h, tc.method, tc.path, nil, hdr); w.Code != tc.code {
			t.Errorf("%s %s with %q = %d, want %d", tc.method, tc.path, tc.token, w.Code, tc.code)
		}
	}
}

func TestAPIOpenReads(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.cfg.API.OpenReads = true
	h := l.start(Options{}).Handler()
	if w := do(t, h, "GET", "/api/v1/status", nil, nil); w.Code != 200 {
		t.Errorf("open reads: %d", w.Code)
	}
	if w := do(t, h, "POST", "/api/v1/runs", nil, nil); w.Code != 401 {
		t.Errorf("open reads let a POST through: %d", w.Code)
	}
	_, err := ParseConfig([]byte("repo: {url: file:///srv/intent.git}\nstate_dir: /tmp/x\napi:\n  read_token_file: /dev/null\n  open_reads: true\n"), "c.yaml")
	if err == nil || !strings.Contains(err.Error(), "c.yaml:5:3: api.open_reads: set open_reads or read_token_file, not both") {
		t.Errorf("both set: %v", err)
	}
}

// No API answer carries a persist id (which lets any session confirm or
// cancel a pending commit) or a pre-image of managed configuration.
func TestAPIShowsNoPersistIDsOrPreImages(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.withSecrets()
	d := l.start(Options{})
	ctx := context.Background()
	const persist = "netrecon-0123456789abcdef"
	const preImage = `{"n":"interfaces","c":[{"n":"secret-pre-image-node"}]}`
	id, err := d.journal.BeginRun(ctx, journal.Run{IntentCommit: "abc", StartedBy: "daemon", Atomic: true}, []string{"pe1-tyo"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ph := range []struct {
		p      journal.Phase
		detail string
	}{
		{journal.Committed, "commit without confirm (no :confirmed-commit:1.1); pre-image: " + preImage},
		{journal.PhaseFailed, "confirm " + persist + ": rpc error"},
	} {
		if err := d.journal.EnterPhase(ctx, id, "pe1-tyo", ph.p, persist, ph.detail); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.journal.FinishRun(ctx, id, journal.Failed, "pe1-tyo: persist id "+persist+" left pending"); err != nil {
		t.Fatal(err)
	}
	h := d.Handler()
	auth := map[string]string{"Authorization": "Bearer " + testToken}
	for _, path := range []string{"/api/v1/status", "/api/v1/runs/" + jsonNumber(id)} {
		w := do(t, h, "GET", path, nil, auth)
		if w.Code != 200 {
			t.Fatalf("GET %s = %d: %s", path, w.Code, w.Body)
		}
		body := w.Body.String()
		for _, secret := range []string{persist, "secret-pre-image-node", "pre-image"} {
			if strings.Contains(body, secret) {
				t.Errorf("GET %s shows %q:\n%s", path, secret, body)
			}
		}
	}
	if w := do(t, h, "GET", "/api/v1/runs/"+jsonNumber(id), nil, auth); !strings.Contains(w.Body.String(), `"phase": "failed"`) {
		t.Errorf("the run itself is not shown: %s", w.Body)
	}
}

// A persist id in any answer is masked, whatever field it is in: a device's
// last error in the status can quote one that no field list foresaw.
func TestAPIMasksPersistIDsAnywhere(t *testing.T) {
	w := httptest.NewRecorder()
	writeJSON(w, 200, map[string]any{"devices": []map[string]string{{"lastError": "pe1: not in the inventory any more; persist id netrecon-0123456789abcdef"}}})
	if body := w.Body.String(); strings.Contains(body, "netrecon-0123456789abcdef") || !strings.Contains(body, "[persist id]") {
		t.Errorf("answer: %s", body)
	}
}
