package session

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/schema"
)

// A prefetched session is the one the first lease gets: one dial per
// device, and a device not asked for is not touched.
func TestPrefetchedSessionServesTheFirstLease(t *testing.T) {
	env := newSim(t, 3, 10*time.Second)
	p := newPool(t, Options{})
	p.Prefetch(env.dialer, nil, []*schema.Device{env.devices["pe1"], env.devices["pe2"]})
	for _, name := range []string{"pe1", "pe2"} {
		eventually(t, 10*time.Second, name+"'s prefetched session", func() bool { return healthOf(p, name).State == StateIdle })
	}
	d := p.Dialer(env.dialer, nil)
	for _, name := range []string{"pe1", "pe2"} {
		s := take(t, d, env.devices[name])
		read(t, s)
		release(t, s)
	}
	if n := env.dials.Load(); n != 2 {
		t.Errorf("%d dials, want 2 (the prefetch's, reused by the leases)", n)
	}
	for _, name := range []string{"pe1", "pe2"} {
		if n := env.sim.Device(name).SessionsOpened(); n != 1 {
			t.Errorf("%s: %d sessions opened, want 1", name, n)
		}
	}
	if n := env.sim.Device("pe3").SessionsOpened(); n != 0 {
		t.Errorf("pe3 was not prefetched but saw %d sessions", n)
	}
}

// A lease that arrives while the prefetch still dials waits for that dial
// rather than opening a second session.
func TestLeaseWaitsForThePrefetchDial(t *testing.T) {
	env := newSim(t, 1, 10*time.Second)
	dialing := make(chan struct{})
	proceed := make(chan struct{})
	var calls atomic.Int64
	slow := reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
		if calls.Add(1) == 1 {
			close(dialing)
			<-proceed
		}
		return env.dialer.Dial(ctx, dev)
	})
	p := newPool(t, Options{})
	p.Prefetch(slow, nil, []*schema.Device{env.devices["pe1"]})
	<-dialing
	got := make(chan reconcile.Device, 1)
	go func() {
		s, err := p.Dialer(slow, nil).Dial(t.Context(), env.devices["pe1"])
		if err != nil {
			t.Error(err)
		}
		got <- s
	}()
	close(proceed)
	s := <-got
	if s == nil {
		return
	}
	read(t, s)
	release(t, s)
	if n := env.sim.Device("pe1").SessionsOpened(); n != 1 {
		t.Errorf("pe1: %d sessions opened, want 1", n)
	}
}

// A prefetch that failed answers the next lease with its error instead of
// dialing again (an unreachable device costs one dial timeout, not two);
// the lease after that dials.
func TestFailedPrefetchIsNotDialedAgain(t *testing.T) {
	env := newSim(t, 1, 10*time.Second)
	env.failDials.Store(1)
	p := newPool(t, Options{})
	p.Prefetch(env.dialer, nil, []*schema.Device{env.devices["pe1"]})
	eventually(t, 10*time.Second, "the prefetch to fail", func() bool { return healthOf(p, "pe1").State == StateDown })
	d := p.Dialer(env.dialer, nil)
	if _, err := d.Dial(t.Context(), env.devices["pe1"]); err == nil {
		t.Fatal("the lease after a failed prefetch got a session")
	}
	if n := env.dials.Load(); n != 1 {
		t.Errorf("%d dials, want 1: the lease dialed again after the prefetch failed", n)
	}
	s := take(t, d, env.devices["pe1"])
	read(t, s)
	release(t, s)
}

// Close stops a prefetch in the middle of its dials, waits for them, and
// closes a session that a dial opened after all: nothing is left open on
// the device and no dial outlives Close.
func TestCloseStopsThePrefetch(t *testing.T) {
	env := newSim(t, 2, 10*time.Second)
	var inFlight atomic.Int64
	started := make(chan struct{}, 2)
	// Each dial waits until the pool gives up on it, then opens a real
	// session anyway, as a handshake that finishes just too late does.
	late := reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
		inFlight.Add(1)
		defer inFlight.Add(-1)
		started <- struct{}{}
		<-ctx.Done()
		return env.dialer.Dial(context.Background(), dev)
	})
	p, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.Prefetch(late, nil, []*schema.Device{env.devices["pe1"], env.devices["pe2"]})
	<-started
	<-started
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if n := inFlight.Load(); n != 0 {
		t.Errorf("Close returned with %d prefetch dials still running", n)
	}
	for _, name := range []string{"pe1", "pe2"} {
		dev := env.sim.Device(name)
		eventually(t, 10*time.Second, name+"'s late session to be closed", func() bool { return dev.Sessions() == 0 })
		if n := dev.SessionsOpened(); n != 1 {
			t.Errorf("%s: %d sessions opened, want 1 (the late one)", name, n)
		}
	}
}
