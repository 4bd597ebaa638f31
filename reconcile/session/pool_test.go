package session

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netrecon/netrecon/backoff"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/schema"
)

// A session handed back serves the next lease: one dial for two leases.
func TestLeaseReusesTheSession(t *testing.T) {
	env := newSim(t, 1, 10*time.Second)
	p := newPool(t, Options{})
	d := p.Dialer(env.dialer, nil)
	dev := env.devices["pe1"]

	s1 := take(t, d, dev)
	read(t, s1)
	id := s1.SessionID()
	release(t, s1)
	s2 := take(t, d, dev)
	read(t, s2)
	if s2.SessionID() != id {
		t.Errorf("second lease has session %s, want the pooled %s", s2.SessionID(), id)
	}
	release(t, s2)
	if got := env.sim.Device("pe1").SessionsOpened(); got != 1 {
		t.Errorf("device saw %d sessions for two leases, want 1", got)
	}
	if st := p.Stats(); st.Dials != 1 || st.Leases != 2 || st.Open != 1 {
		t.Errorf("stats %+v, want 1 dial, 2 leases, 1 open", st)
	}
	if h := healthOf(p, "pe1"); h.State != StateIdle || h.SessionID != id || h.Opened.IsZero() || h.LastUsed.IsZero() {
		t.Errorf("health %+v, want idle with session %s", h, id)
	}
}

// At most one session per device: a second lease waits until the first
// is handed back, and then gets the same session.
func TestSecondLeaseWaitsForTheFirst(t *testing.T) {
	env := newSim(t, 1, 10*time.Second)
	p := newPool(t, Options{})
	d := p.Dialer(env.dialer, nil)
	dev := env.devices["pe1"]
	s1 := take(t, d, dev)

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := d.Dial(ctx, dev); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lease while the first is out: %v, want it to wait until its context ends", err)
	}
	got := make(chan reconcile.Device, 1)
	go func() {
		s, err := d.Dial(t.Context(), dev)
		if err != nil {
			t.Error(err)
		}
		got <- s
	}()
	if h := healthOf(p, "pe1"); h.State != StateLeased {
		t.Errorf("state %s while leased", h.State)
	}
	release(t, s1)
	s2 := <-got
	if s2 == nil {
		return
	}
	defer s2.Close(t.Context())
	if s2.SessionID() != s1.SessionID() {
		t.Errorf("waiting lease got session %s, want %s", s2.SessionID(), s1.SessionID())
	}
	if n := env.sim.Device("pe1").SessionsOpened(); n != 1 {
		t.Errorf("%d sessions opened, want 1", n)
	}
}

// Many steps leasing one device at once never open a second session.
func TestConcurrentLeasesShareOneSession(t *testing.T) {
	env := newSim(t, 2, 10*time.Second)
	p := newPool(t, Options{})
	d := p.Dialer(env.dialer, nil)
	var wg sync.WaitGroup
	for i := range 20 {
		dev := env.devices[[]string{"pe1", "pe2"}[i%2]]
		wg.Go(func() {
			s, err := d.Dial(t.Context(), dev)
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := s.GetConfig(t.Context(), reconcile.Running, nil); err != nil {
				t.Error(err)
			}
			s.Close(t.Context())
		})
	}
	wg.Wait()
	for _, name := range []string{"pe1", "pe2"} {
		if n := env.sim.Device(name).SessionsOpened(); n != 1 {
			t.Errorf("%s: %d sessions opened for 10 leases, want 1", name, n)
		}
	}
}

// A reply that never comes fails the lease's RPC (the driver's deadline),
// and the session is never handed out again: the next lease dials.
func TestLostReplyDiscardsTheSession(t *testing.T) {
	env := newSim(t, 1, 200*time.Millisecond)
	p := newPool(t, Options{})
	d := p.Dialer(env.dialer, nil)
	dev := env.devices["pe1"]
	sd := env.sim.Device("pe1")

	s1 := take(t, d, dev)
	read(t, s1)
	old := s1.SessionID()
	release(t, s1)

	sd.SwallowReplyAt("get-config", 1)
	s2 := take(t, d, dev)
	_, err := s2.GetConfig(t.Context(), reconcile.Running, nil)
	if !errors.Is(err, reconcile.ErrSessionLost) {
		t.Fatalf("lost reply on a pooled session: %v, want ErrSessionLost", err)
	}
	if sd.SessionsOpened() != 1 {
		t.Errorf("a lost reply was retried on a new session (%d opened): the device may have carried it out", sd.SessionsOpened())
	}
	release(t, s2)
	if h := healthOf(p, "pe1"); h.State != StateDown || h.Failures != 1 || h.LastError == "" {
		t.Errorf("health after the loss %+v, want down, 1 failure, the error", h)
	}

	s3 := take(t, d, dev)
	read(t, s3)
	if s3.SessionID() == old {
		t.Fatalf("the failed session %s was handed out again", old)
	}
	release(t, s3)
	h := healthOf(p, "pe1")
	if h.Failures != 0 || h.Reconnects != 1 || h.State != StateIdle {
		t.Errorf("health after the new session %+v, want idle, 0 failures, 1 reconnect", h)
	}
	if st := p.Stats(); st.Lost != 1 || st.Dials != 2 {
		t.Errorf("stats %+v, want 1 lost, 2 dials", st)
	}
}

// Apply redials while it still holds the lease whose session died: the new
// lease replaces the dead one at once instead of waiting for it.
func TestLeaseReplacesAFailedLease(t *testing.T) {
	env := newSim(t, 1, 200*time.Millisecond)
	p := newPool(t, Options{})
	d := p.Dialer(env.dialer, nil)
	dev := env.devices["pe1"]
	sd := env.sim.Device("pe1")

	s1 := take(t, d, dev)
	read(t, s1)
	sd.SwallowReplyAt("commit", 1)
	if err := s1.Commit(t.Context(), reconcile.CommitOptions{}); !errors.Is(err, reconcile.ErrSessionLost) {
		t.Fatalf("commit: %v, want ErrSessionLost", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	s2, err := d.Dial(ctx, dev)
	if err != nil {
		t.Fatalf("redial while the failed lease is out: %v", err)
	}
	release(t, s1) // the old lease ends after the new one began
	read(t, s2)
	release(t, s2)
	eventually(t, 5*time.Second, "the dead session to end on the device", func() bool { return sd.Sessions() == 1 })
	s3 := take(t, d, dev)
	if s3.SessionID() != s2.SessionID() {
		t.Errorf("the replacement %s was not pooled (got %s)", s2.SessionID(), s3.SessionID())
	}
	release(t, s3)
}

// A pooled session that died while idle is replaced at the next lease's
// first read, and the read succeeds.
func TestDeadIdleSessionReplacedAtFirstRead(t *testing.T) {
	env := newSim(t, 1, 10*time.Second)
	p := newPool(t, Options{})
	d := p.Dialer(env.dialer, nil)
	dev := env.devices["pe1"]
	sd := env.sim.Device("pe1")

	s1 := take(t, d, dev)
	read(t, s1)
	old := s1.SessionID()
	release(t, s1)
	if n := sd.DropSessions(); n != 1 {
		t.Fatalf("dropped %d sessions, want the pooled one", n)
	}
	eventually(t, 5*time.Second, "the drop to reach the device", func() bool { return sd.Sessions() == 0 })

	s2 := take(t, d, dev)
	read(t, s2)
	if s2.SessionID() == old {
		t.Error("the read went to the dead session")
	}
	if !slices.Contains(s2.(*lease).OwnSessionIDs(), old) {
		t.Errorf("own sessions %v do not name the replaced %s", s2.(*lease).OwnSessionIDs(), old)
	}
	release(t, s2)
	if n := sd.SessionsOpened(); n != 2 {
		t.Errorf("%d sessions opened, want 2", n)
	}
	if st := p.Stats(); st.Lost != 1 || st.Reconnects != 1 {
		t.Errorf("stats %+v, want 1 lost, 1 reconnect", st)
	}
}

// When the device cannot be reached again, the read on the dead session
// fails with both errors, the loss is counted once, and the next lease dials.
func TestDeadIdleSessionAndTheRedialFails(t *testing.T) {
	env := newSim(t, 1, 10*time.Second)
	p := newPool(t, Options{})
	d := p.Dialer(env.dialer, nil)
	dev := env.devices["pe1"]
	sd := env.sim.Device("pe1")
	release(t, take(t, d, dev))
	sd.DropSessions()
	eventually(t, 5*time.Second, "the drop to reach the device", func() bool { return sd.Sessions() == 0 })
	env.failDials.Store(1)
	s := take(t, d, dev)
	_, err := s.GetConfig(t.Context(), reconcile.Running, nil)
	if !errors.Is(err, reconcile.ErrSessionLost) || !strings.Contains(err.Error(), "connection refused (test)") {
		t.Fatalf("read: %v, want the lost session and the failed dial", err)
	}
	release(t, s)
	if st := p.Stats(); st.Lost != 1 || st.DialFailures != 1 || st.Down != 1 {
		t.Errorf("stats %+v, want 1 lost, 1 failed dial, 1 down", st)
	}
	s = take(t, d, dev)
	read(t, s)
	release(t, s)
	if h := healthOf(p, "pe1"); h.State != StateIdle || h.Failures != 0 || h.Reconnects != 1 {
		t.Errorf("health %+v", h)
	}
}

// An edit is not sent again on a new session: the first RPC of a lease
// that changes the device fails with the dead session.
func TestDeadIdleSessionNotRetriedForAnEdit(t *testing.T) {
	env := newSim(t, 1, 10*time.Second)
	p := newPool(t, Options{})
	d := p.Dialer(env.dialer, nil)
	dev := env.devices["pe1"]
	sd := env.sim.Device("pe1")
	release(t, take(t, d, dev))
	sd.DropSessions()
	eventually(t, 5*time.Second, "the drop to reach the device", func() bool { return sd.Sessions() == 0 })
	s := take(t, d, dev)
	if err := s.Discard(t.Context()); !errors.Is(err, reconcile.ErrSessionLost) {
		t.Fatalf("discard on the dead session: %v, want ErrSessionLost", err)
	}
	release(t, s)
	if n := sd.SessionsOpened(); n != 1 {
		t.Errorf("%d sessions opened: the discard was sent again", n)
	}
}

// A session handed back with a lock, an edited candidate or a confirmed
// commit pending is closed: nothing of a lease outlives it.
func TestSessionWithStateIsClosedOnRelease(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func(ctx context.Context, s reconcile.Device) error
	}{
		{"lock held", func(ctx context.Context, s reconcile.Device) error { return s.Lock(ctx, reconcile.Candidate) }},
		{"candidate edited", func(ctx context.Context, s reconcile.Device) error {
			return s.EditConfig(ctx, reconcile.Candidate, nil)
		}},
		{"confirmed commit pending", func(ctx context.Context, s reconcile.Device) error {
			return s.Commit(ctx, reconcile.CommitOptions{Confirmed: true, Timeout: time.Minute, Persist: "netrecon-test"})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newSim(t, 1, 10*time.Second)
			p := newPool(t, Options{})
			d := p.Dialer(env.dialer, nil)
			dev := env.devices["pe1"]
			sd := env.sim.Device("pe1")
			s := take(t, d, dev)
			if err := tc.do(t.Context(), s); err != nil {
				t.Fatal(err)
			}
			release(t, s)
			eventually(t, 5*time.Second, "the session to end", func() bool { return sd.Sessions() == 0 })
			s2 := take(t, d, dev)
			if err := s2.Lock(t.Context(), reconcile.Candidate); err != nil && tc.name == "lock held" {
				t.Fatalf("the lock outlived its session: %v", err)
			}
			release(t, s2)
		})
	}
	t.Run("locked, then unlocked", func(t *testing.T) {
		env := newSim(t, 1, 10*time.Second)
		p := newPool(t, Options{})
		d := p.Dialer(env.dialer, nil)
		s := take(t, d, env.devices["pe1"])
		for _, step := range []func(context.Context) error{
			func(ctx context.Context) error { return s.Lock(ctx, reconcile.Candidate) },
			func(ctx context.Context) error { return s.EditConfig(ctx, reconcile.Candidate, nil) },
			func(ctx context.Context) error {
				return s.Commit(ctx, reconcile.CommitOptions{Confirmed: true, Timeout: time.Minute, Persist: "p1"})
			},
			func(ctx context.Context) error { return s.Commit(ctx, reconcile.CommitOptions{PersistID: "p1"}) },
			func(ctx context.Context) error { return s.Unlock(ctx, reconcile.Candidate) },
		} {
			if err := step(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		release(t, s)
		if h := healthOf(p, "pe1"); h.State != StateIdle {
			t.Errorf("a session handed back clean is %s, want idle", h.State)
		}
	})
}

// The keepalive keeps an idle session busy enough, finds it dead, and the
// pool opens a new one by itself.
func TestKeepaliveFindsADeadSessionAndReconnects(t *testing.T) {
	env := newSim(t, 1, 2*time.Second)
	p := newPool(t, Options{Keepalive: 20 * time.Millisecond, Reconnect: backoff.Policy{Base: 10 * time.Millisecond, Max: 40 * time.Millisecond}})
	d := p.Dialer(env.dialer, nil)
	dev := env.devices["pe1"]
	sd := env.sim.Device("pe1")
	release(t, take(t, d, dev))
	eventually(t, 5*time.Second, "two keepalives", func() bool { return sd.RPCCount("get") >= 2 })

	sd.DropSessions()
	eventually(t, 5*time.Second, "the pool to open a new session", func() bool {
		h := healthOf(p, "pe1")
		return sd.SessionsOpened() == 2 && h.State == StateIdle && h.Reconnects == 1
	})
	if st := p.Stats(); st.KeepaliveFailures < 1 || st.Keepalives < 2 {
		t.Errorf("stats %+v, want keepalives and a failed one", st)
	}
	s := take(t, d, dev)
	read(t, s)
	release(t, s)
	if n := sd.SessionsOpened(); n != 2 {
		t.Errorf("%d sessions opened, want 2 (the lease took the reconnected one)", n)
	}
}

// A device that cannot be reached is tried again with growing pauses, and
// its failures show in the health report until a session opens.
func TestReconnectBacksOff(t *testing.T) {
	env := newSim(t, 1, 2*time.Second)
	start := time.Now()
	p := newPool(t, Options{Reconnect: backoff.Policy{Base: 20 * time.Millisecond, Max: 80 * time.Millisecond}})
	d := p.Dialer(env.dialer, nil)
	dev := env.devices["pe1"]
	env.failDials.Store(3)
	if _, err := d.Dial(t.Context(), dev); err == nil {
		t.Fatal("dial succeeded with the device refusing")
	}
	h := healthOf(p, "pe1")
	if h.State != StateDown || h.Failures != 1 || h.NextAttempt.Before(start.Add(20*time.Millisecond)) {
		t.Fatalf("health after a failed dial %+v, want down, 1 failure, next attempt after the base", h)
	}
	eventually(t, 5*time.Second, "the background reconnect", func() bool { return healthOf(p, "pe1").State == StateIdle })
	// 1 failed lease dial, 2 failed background ones, then success: at
	// least 20+40+80 ms of pauses.
	if env.dials.Load() != 4 {
		t.Errorf("%d dials, want 4", env.dials.Load())
	}
	if el := time.Since(start); el < 140*time.Millisecond {
		t.Errorf("reconnected after %s: the back-off was not waited for", el)
	}
	if st := p.Stats(); st.DialFailures != 3 || st.Dials != 1 {
		t.Errorf("stats %+v, want 3 failed dials and 1 session", st)
	}
}

// A session nobody leases for IdleTimeout is closed, and not reconnected.
func TestIdleTimeoutClosesTheSession(t *testing.T) {
	env := newSim(t, 1, 2*time.Second)
	p := newPool(t, Options{IdleTimeout: 50 * time.Millisecond, Keepalive: 10 * time.Millisecond, Reconnect: backoff.Policy{Base: 10 * time.Millisecond, Max: 10 * time.Millisecond}})
	d := p.Dialer(env.dialer, nil)
	dev := env.devices["pe1"]
	sd := env.sim.Device("pe1")
	release(t, take(t, d, dev))
	eventually(t, 5*time.Second, "the idle session to close", func() bool { return sd.Sessions() == 0 })
	if h := healthOf(p, "pe1"); h.State != StateClosed || h.SessionID != "" {
		t.Errorf("health %+v, want closed", h)
	}
	if st := p.Stats(); st.IdleClosed != 1 {
		t.Errorf("stats %+v, want 1 closed for idleness", st)
	}
	s := take(t, d, dev)
	read(t, s)
	release(t, s)
	if n := sd.SessionsOpened(); n != 2 {
		t.Errorf("%d sessions opened, want 2", n)
	}
}

// A device whose settings changed (another address, other credentials, or
// what the identity says) gets a new session.
func TestIdentityChangeReplacesTheSession(t *testing.T) {
	env := newSim(t, 1, 10*time.Second)
	p := newPool(t, Options{})
	gen := "a"
	d := p.Dialer(env.dialer, func(dev *schema.Device) string { return DeviceIdentity(dev) + gen })
	dev := env.devices["pe1"]
	release(t, take(t, d, dev))
	gen = "b"
	release(t, take(t, d, dev))
	sd := env.sim.Device("pe1")
	if n := sd.SessionsOpened(); n != 2 {
		t.Errorf("%d sessions opened, want 2", n)
	}
	eventually(t, 5*time.Second, "the old session to end", func() bool { return sd.Sessions() == 1 })
}

// Close ends every session; a lease out at the time is ended when handed
// back; later leases fail.
func TestCloseEndsEverySession(t *testing.T) {
	env := newSim(t, 2, 10*time.Second)
	p := newPool(t, Options{Keepalive: time.Hour})
	d := p.Dialer(env.dialer, nil)
	release(t, take(t, d, env.devices["pe1"]))
	out := take(t, d, env.devices["pe2"])
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "pe1's session to end", func() bool { return env.sim.Device("pe1").Sessions() == 0 })
	read(t, out)
	release(t, out)
	eventually(t, 5*time.Second, "pe2's session to end", func() bool { return env.sim.Device("pe2").Sessions() == 0 })
	if _, err := d.Dial(t.Context(), env.devices["pe1"]); !errors.Is(err, ErrClosed) {
		t.Errorf("dial after Close: %v, want ErrClosed", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// Retain forgets the devices that left the inventory, closing their sessions.
func TestRetain(t *testing.T) {
	env := newSim(t, 2, 10*time.Second)
	p := newPool(t, Options{})
	d := p.Dialer(env.dialer, nil)
	release(t, take(t, d, env.devices["pe1"]))
	release(t, take(t, d, env.devices["pe2"]))
	p.Retain([]string{"pe1"})
	eventually(t, 5*time.Second, "pe2's session to end", func() bool { return env.sim.Device("pe2").Sessions() == 0 })
	if hs := p.Health(); len(hs) != 1 || hs[0].Device != "pe1" {
		t.Errorf("health %+v, want pe1 only", hs)
	}
}

func TestOptionsCheck(t *testing.T) {
	for _, o := range []Options{
		{Keepalive: -1}, {IdleTimeout: -1}, {Concurrency: -1},
		{Reconnect: backoff.Policy{Base: 2 * time.Second, Max: time.Second}},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}
