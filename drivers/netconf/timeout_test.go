package netconf

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netrecon/netrecon/reconcile"
)

// waitGoroutines polls until the number of goroutines is back to base.
func waitGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutines: %d, want <= %d\n%s", runtime.NumGoroutine(), base, buf[:n])
		}
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond) // polling interval, not a wait for an event
	}
}

// TestStalledReplyTimesOut: a device that starts a reply and never finishes it
// gives a *TimeoutError within the RPC timeout; the session is closed and
// unusable afterwards, and no goroutine is left behind. The library alone would
// block in the read of the reply's body, which no context reaches.
func TestStalledReplyTimesOut(t *testing.T) {
	for _, stallAt := range []string{"", "<data><interfaces xmlns=\"urn:x\"><interface>"} {
		name := "no reply"
		if stallAt != "" {
			name = "mid reply"
		}
		t.Run(name, func(t *testing.T) {
			srv := newFakeServer(t, func([]byte) (string, bool) { return stallAt, true })
			base := runtime.NumGoroutine()
			ctx := context.Background()
			s, err := Dial(ctx, srv.Target(t), WithRPCTimeout(300*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = s.GetConfig(ctx, Running, nil)
			var te *TimeoutError
			if !errors.As(err, &te) || te.Device != "fake" || te.Op != "get-config" {
				t.Fatalf("GetConfig = %v, want *TimeoutError for fake get-config", err)
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("timeout took %s", took)
			}
			if err := s.Lock(ctx, Candidate); !errors.Is(err, reconcile.ErrSessionLost) || !strings.HasPrefix(err.Error(), "fake: lock: ") {
				t.Errorf("after timeout, Lock = %v, want reconcile.ErrSessionLost naming device and op", err)
			}
			if err := s.Close(ctx); err != nil {
				t.Errorf("Close = %v", err)
			}
			waitGoroutines(t, base)
		})
	}
}

// TestCallerCancel: cancelling the caller's context also abandons the session.
func TestCallerCancel(t *testing.T) {
	srv := newFakeServer(t, func([]byte) (string, bool) { return "", true })
	base := runtime.NumGoroutine()
	s, err := Dial(context.Background(), srv.Target(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Lock(ctx, Candidate) }()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Lock = %v, want context.Canceled", err)
	}
	_ = s.Close(context.Background())
	waitGoroutines(t, base)
}

// TestRepliesFromFake covers reply handling that needs no real device:
// rpc-errors, lock-denied with its holder, warnings, data.
func TestRepliesFromFake(t *testing.T) {
	srv := newFakeServer(t, func(rpc []byte) (string, bool) {
		switch {
		case strings.Contains(string(rpc), "<lock"):
			return `<rpc-error><error-type>protocol</error-type><error-tag>lock-denied</error-tag><error-severity>error</error-severity>` +
				`<error-message>lock held</error-message><error-info><session-id>17</session-id></error-info></rpc-error>`, false
		case strings.Contains(string(rpc), "<edit-config"):
			return `<rpc-error><error-type>application</error-type><error-tag>invalid-value</error-tag><error-severity>error</error-severity>` +
				`<error-path>/interfaces/interface[name='x']/type</error-path><error-message>bad type</error-message></rpc-error>` +
				`<rpc-error><error-type>application</error-type><error-tag>data-missing</error-tag><error-severity>error</error-severity></rpc-error>`, false
		case strings.Contains(string(rpc), "<get-config"):
			return `<rpc-error><error-type>application</error-type><error-tag>x</error-tag><error-severity>warning</error-severity></rpc-error>` +
				`<data><interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces"><interface><name>ge0</name><description>d</description></interface></interfaces></data>`, false
		}
		return "<ok/>", false
	})
	ctx := context.Background()
	s, err := Dial(ctx, srv.Target(t), WithKeys(map[string][]string{"/interfaces/interface": {"name"}}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	if s.SessionID() != "42" || !s.Capabilities().Candidate {
		t.Errorf("session-id %s, caps %+v", s.SessionID(), s.Capabilities())
	}
	var ld *reconcile.LockHeldError
	if err := s.Lock(ctx, Candidate); !errors.As(err, &ld) || ld.HeldBy != "17" || ld.Target != Candidate {
		t.Errorf("Lock = %#v", err)
	}
	err = s.editConfigXML(ctx, Candidate, "<x/>")
	var re *RPCError
	if !errors.As(err, &re) || re.Tag != "invalid-value" || re.Path != "/interfaces/interface[name='x']/type" || re.Op != "edit-config" {
		t.Errorf("edit-config = %v", err)
	}
	if !strings.Contains(err.Error(), "data-missing") {
		t.Errorf("second rpc-error lost: %v", err)
	}
	tree, err := s.GetConfig(ctx, Running, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := tree.Find("/interfaces/interface[name=ge0]/description"); n == nil || n.Value != "d" {
		t.Errorf("get-config tree:\n%s", tree)
	}
	if err := s.Commit(ctx, reconcile.CommitOptions{}); err != nil {
		t.Error(err)
	}
	if _, err := s.GetConfig(ctx, "bogus", nil); err == nil {
		t.Error("unknown datastore: want error")
	}
}

// TestAuthAndHostKeyFake: refused credentials and host keys, without the lab.
func TestAuthAndHostKeyFake(t *testing.T) {
	srv := newFakeServer(t, func([]byte) (string, bool) { return "<ok/>", false })
	other := newFakeServer(t, func([]byte) (string, bool) { return "<ok/>", false })
	ctx := context.Background()

	tg := srv.Target(t)
	tg.Auth = PasswordAuth("wrong")
	_, err := Dial(ctx, tg)
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Device != "fake" || strings.Contains(err.Error(), "wrong") && strings.Contains(err.Error(), `"wrong"`) {
		t.Errorf("wrong password: %v", err)
	}

	tg = srv.Target(t)
	tg.KnownHosts = other.KnownHosts(t) // a known_hosts for another port: host unknown
	_, err = Dial(ctx, tg)
	var he *HostKeyError
	if !errors.As(err, &he) || len(he.Want) != 0 || !strings.HasPrefix(he.Got, "SHA256:") {
		t.Errorf("unknown host: %v", err)
	}

	// A known_hosts line for srv's address holding other's key: a mismatch.
	tg = srv.Target(t)
	writeFile(t, tg.KnownHosts, KnownHostsLine(srv.Addr, srv.Port, other.HostKey)+"\n")
	_, err = Dial(ctx, tg)
	if !errors.As(err, &he) || len(he.Want) != 1 || he.Want[0] == he.Got {
		t.Errorf("mismatch: %v", err)
	}

	key, err := FetchHostKey(ctx, srv.Addr, srv.Port)
	if err != nil || string(key.Marshal()) != string(srv.HostKey.Marshal()) {
		t.Errorf("FetchHostKey = %v, %v", key, err)
	}
}

// TestSettleAfterHello: Dial waits the settle pause, and a cancelled context
// cuts it short.
func TestSettleAfterHello(t *testing.T) {
	srv := newFakeServer(t, func([]byte) (string, bool) { return "<ok/>", false })
	start := time.Now()
	s, err := Dial(context.Background(), srv.Target(t), WithSettleAfterHello(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Errorf("Dial returned after %s, before the 200 ms settle", took)
	}
	_ = s.Close(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := Dial(ctx, srv.Target(t), WithSettleAfterHello(time.Hour)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Dial with a done context during settle = %v", err)
	}
}

// TestNoLeakAfterClose: sessions that end normally, or whose peer hangs up,
// leave no goroutine behind.
func TestNoLeakAfterClose(t *testing.T) {
	srv := newFakeServer(t, func([]byte) (string, bool) { return "<data/>", false })
	base := runtime.NumGoroutine()
	for range 5 {
		s, err := Dial(context.Background(), srv.Target(t))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetConfig(context.Background(), Running, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	waitGoroutines(t, base)

	s, err := Dial(context.Background(), srv.Target(t))
	if err != nil {
		t.Fatal(err)
	}
	srv.Close() // the device goes away under an open session
	if _, err := s.GetConfig(context.Background(), Running, nil); !errors.Is(err, reconcile.ErrSessionLost) {
		t.Errorf("GetConfig on a dropped session = %v, want reconcile.ErrSessionLost", err)
	}
	_ = s.Close(context.Background())
	waitGoroutines(t, base-1) // the server's accept loop is gone too
}

// TestDoneContextKeepsSession: an RPC called with a context that is already
// done sends nothing, so the session stays usable.
func TestDoneContextKeepsSession(t *testing.T) {
	srv := newFakeServer(t, func([]byte) (string, bool) { return "<ok/>", false })
	s, err := Dial(context.Background(), srv.Target(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Lock(ctx, Candidate); !errors.Is(err, context.Canceled) {
		t.Errorf("Lock with a done context = %v", err)
	}
	if err := s.Lock(context.Background(), Candidate); err != nil {
		t.Errorf("Lock afterwards = %v", err)
	}
}

// TestTimeoutLogsNoLibraryAlarm: after a timeout the driver logs one warning;
// the library's reports of the connection it closed are demoted to debug.
func TestTimeoutLogsNoLibraryAlarm(t *testing.T) {
	srv := newFakeServer(t, func([]byte) (string, bool) { return "<data>", true })
	var buf syncBuffer
	s, err := Dial(context.Background(), srv.Target(t), WithRPCTimeout(200*time.Millisecond),
		WithLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetConfig(context.Background(), Running, nil); err == nil {
		t.Fatal("want a timeout")
	}
	_ = s.Close(context.Background())
	out := buf.String()
	if n := strings.Count(out, "level="); n != 1 || !strings.Contains(out, "rpc abandoned") {
		t.Errorf("log:\n%s\nwant only the driver's warning", out)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
