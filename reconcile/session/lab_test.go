package session

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/lab/labtest"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/guard"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
)

// labDialer dials the lab's yuma123 netconfd devices as the CLI does.
func labDialer(t *testing.T, lab *labtest.Lab, dials *int) reconcile.Dialer {
	t.Helper()
	auth, err := netconf.KeyFileAuth(lab.KeyFile())
	if err != nil {
		t.Fatal(err)
	}
	return reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
		*dials++
		s, err := netconf.Dial(ctx, netconf.Target{Device: dev.Name, Address: dev.Address, Port: dev.Port, Username: lab.Username(), Auth: auth, KnownHosts: lab.KnownHosts()},
			netconf.WithKeys(render.Keys("ietf", nil)), netconf.WithSettleAfterHello(100*time.Millisecond), netconf.WithRPCTimeout(10*time.Second))
		if err != nil {
			return nil, err
		}
		return s, nil
	})
}

func labDevice(lab *labtest.Lab) (*schema.Device, labtest.Device) {
	d := lab.Devices()[0]
	return &schema.Device{Name: d.Name, Platform: "ietf", Address: d.Address, Port: d.Port, Credentials: schema.Credentials{Username: lab.Username()}}, d
}

// On the real server: a handed-back session serves the next lease, and a
// pooled session the device killed meanwhile is replaced at the next read,
// which succeeds.
func TestLabPoolReusesAndReplacesAKilledSession(t *testing.T) {
	lab := labtest.Load(t)
	dials := 0
	p := newPool(t, Options{})
	d := p.Dialer(labDialer(t, lab, &dials), nil)
	dev, ld := labDevice(lab)

	s := take(t, d, dev)
	read(t, s)
	id := s.SessionID()
	release(t, s)
	s = take(t, d, dev)
	read(t, s)
	if s.SessionID() != id || dials != 1 {
		t.Fatalf("second lease: session %s after %d dials, want the pooled %s after 1", s.SessionID(), dials, id)
	}
	release(t, s)

	if err := lab.KillSession(t.Context(), ld, id); err != nil {
		t.Fatal(err)
	}
	s = take(t, d, dev)
	start := time.Now()
	read(t, s)
	took := time.Since(start)
	if s.SessionID() == id || dials != 2 {
		t.Fatalf("after the kill: session %s after %d dials, want a new one", s.SessionID(), dials)
	}
	// The killed session's RPC fails at once (its transport is gone), not
	// after the RPC deadline: the lease replaces it without the wait.
	t.Logf("read on the killed session, replaced: %s (includes the new session's set-up)", took.Round(time.Millisecond))
	if took > 5*time.Second {
		t.Errorf("replacing the killed session took %s: it waited for a deadline", took)
	}
	release(t, s)
	if st := p.Stats(); st.Lost != 1 || st.Reconnects != 1 {
		t.Errorf("stats %+v, want 1 lost, 1 reconnect", st)
	}
}

// The operator-session guard on a pooled session of a real netconfd: the
// pool's own sessions never count, another real session does — even one of
// netrecon's own user.
func TestLabOperatorGuardIgnoresPooledSessions(t *testing.T) {
	lab := labtest.Load(t)
	dials := 0
	p := newPool(t, Options{})
	d := p.Dialer(labDialer(t, lab, &dials), nil)
	// A quiet device: another package's test on lab1 is an operator
	// session to the guard.
	ld := labtest.Quiet(t, 1)[0]
	dev := &schema.Device{Name: ld.Name, Platform: "ietf", Address: ld.Address, Port: ld.Port, Credentials: schema.Credentials{Username: lab.Username()}}
	g := guard.OperatorSessions(nil)
	ctx := t.Context()

	s := take(t, d, dev)
	if err := g.Check(ctx, dev, s); err != nil {
		t.Fatalf("only the pool's session is open: %v", err)
	}
	own := s.SessionID()
	release(t, s)

	// The operator: another real session, of the same user.
	auth, err := netconf.KeyFileAuth(lab.KeyFile())
	if err != nil {
		t.Fatal(err)
	}
	op, err := netconf.Dial(ctx, netconf.Target{Device: dev.Name, Address: dev.Address, Port: dev.Port, Username: lab.Username(), Auth: auth, KnownHosts: lab.KnownHosts()},
		netconf.WithSettleAfterHello(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	s = take(t, d, dev)
	err = g.Check(ctx, dev, s)
	var def *guard.DeferredError
	if !errors.As(err, &def) || !strings.Contains(def.Reason, "session "+op.SessionID()) || strings.Contains(def.Reason, "session "+own+" ") {
		t.Fatalf("operator session %s open (pool's %s): %v", op.SessionID(), own, err)
	}
	release(t, s)
	if err := op.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// The pool replaces its session (the device killed it); whether the
	// device still lists the old one or not, it is netrecon's.
	if err := lab.KillSession(ctx, ld, own); err != nil {
		t.Fatal(err)
	}
	s = take(t, d, dev)
	defer s.Close(ctx)
	read(t, s)
	if !slices.Contains(s.(*lease).OwnSessionIDs(), own) {
		t.Errorf("own sessions %v lack the replaced %s", s.(*lease).OwnSessionIDs(), own)
	}
	for end := time.Now().Add(10 * time.Second); ; {
		err := g.Check(ctx, dev, s)
		if err == nil {
			break
		}
		// Only the operator's session may still be on its way out.
		if !errors.As(err, &def) || !strings.Contains(def.Reason, "session "+op.SessionID()) || time.Now().After(end) {
			t.Fatalf("after the operator left and the pool replaced its session: %v", err)
		}
		<-time.After(50 * time.Millisecond) // poll interval
	}
}
