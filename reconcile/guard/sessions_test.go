package guard

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/drivers/netsim"
	"github.com/netrecon/netrecon/reconcile"
)

// sessionsDevice is the part of a device session the operator guard uses;
// the embedded interface is nil, so any other call would fail the test loudly.
type sessionsDevice struct {
	reconcile.Device
	own      string
	sessions []reconcile.MonitoringSession
	err      error
}

func (d *sessionsDevice) SessionID() string { return d.own }

func (d *sessionsDevice) Sessions(ctx context.Context) ([]reconcile.MonitoringSession, error) {
	return d.sessions, d.err
}

func TestOperatorSessions(t *testing.T) {
	self := reconcile.MonitoringSession{ID: "3", Username: "netrecon", SourceHost: "10.0.0.1"}
	alice := reconcile.MonitoringSession{ID: "7", Username: "alice", SourceHost: "10.0.0.5"}
	bob := reconcile.MonitoringSession{ID: "9", Username: "bob"}
	otherNetrecon := reconcile.MonitoringSession{ID: "4", Username: "netrecon", SourceHost: "10.0.0.2"}
	readErr := errors.New("rpc timed out")
	for _, tc := range []struct {
		name     string
		allow    []string
		sessions []reconcile.MonitoringSession
		err      error
		reason   string // "" when the guard passes
	}{
		{"only our session", nil, []reconcile.MonitoringSession{self}, nil, ""},
		{"no sessions listed", nil, nil, nil, ""},
		{"operator logged in", nil, []reconcile.MonitoringSession{self, alice}, nil, "operator alice logged in (session 7 from 10.0.0.5)"},
		{"two operators, one without a host", nil, []reconcile.MonitoringSession{alice, self, bob}, nil,
			"operator alice logged in (session 7 from 10.0.0.5), operator bob logged in (session 9)"},
		{"allowed user", []string{"alice"}, []reconcile.MonitoringSession{self, alice}, nil, ""},
		{"allow lists only some", []string{"alice"}, []reconcile.MonitoringSession{self, alice, bob}, nil, "operator bob logged in (session 9)"},
		{"another netrecon session counts", nil, []reconcile.MonitoringSession{self, otherNetrecon}, nil, "operator netrecon logged in (session 4 from 10.0.0.2)"},
		{"another netrecon session allowed", []string{"netrecon"}, []reconcile.MonitoringSession{self, otherNetrecon}, nil, ""},
		{"no username", nil, []reconcile.MonitoringSession{{ID: "12"}}, nil, "operator (unknown user) logged in (session 12)"},
		{"read fails: fail closed", nil, nil, readErr, "cannot tell whether an operator is logged in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &sessionsDevice{own: self.ID, sessions: tc.sessions, err: tc.err}
			err := OperatorSessions(tc.allow).Check(t.Context(), device("pe1"), d)
			if tc.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			def := deferredBy(t, err, NameOperatorSessions)
			if !strings.HasPrefix(def.Reason, tc.reason) {
				t.Errorf("reason %q; want %q", def.Reason, tc.reason)
			}
			if tc.err != nil && !errors.Is(err, tc.err) {
				t.Errorf("cause %v not wrapped", tc.err)
			}
		})
	}
	// A caller that stopped waiting learns nothing about the device: a
	// plain error, not a deferral.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := OperatorSessions(nil).Check(ctx, device("pe1"), &sessionsDevice{err: context.Canceled})
	if !errors.Is(err, context.Canceled) || isDeferred(err) {
		t.Errorf("done context: %v; want context.Canceled, not deferred", err)
	}
	if err := OperatorSessions(nil).Check(t.Context(), device("pe1"), nil); err == nil || isDeferred(err) {
		t.Errorf("nil session: %v; want a plain error", err)
	}
}

// pooledDevice is a session of a pool that names the sessions it replaced
// on the device (reconcile/session's leases).
type pooledDevice struct {
	sessionsDevice
	ownIDs []string
}

func (d *pooledDevice) OwnSessionIDs() []string { return d.ownIDs }

// A session netrecon's pool replaced is netrecon's own while the device
// still lists it; any other session still counts, netrecon's user or not.
func TestOperatorSessionsSkipsThePoolsOwnSessions(t *testing.T) {
	current := reconcile.MonitoringSession{ID: "12", Username: "netrecon"}
	replaced := reconcile.MonitoringSession{ID: "8", Username: "netrecon"}
	operator := reconcile.MonitoringSession{ID: "10", Username: "netrecon"}
	d := &pooledDevice{sessionsDevice{own: "12", sessions: []reconcile.MonitoringSession{replaced, current}}, []string{"12", "8"}}
	if err := OperatorSessions(nil).Check(t.Context(), device("pe1"), d); err != nil {
		t.Fatalf("the pool's replaced session counted as an operator: %v", err)
	}
	d.sessions = append(d.sessions, operator)
	deferredBy(t, OperatorSessions(nil).Check(t.Context(), device("pe1"), d), NameOperatorSessions, "operator netrecon logged in (session 10)")
	// Without the pool's list, the replaced session is someone else's.
	plain := &sessionsDevice{own: "12", sessions: []reconcile.MonitoringSession{replaced, current}}
	deferredBy(t, OperatorSessions(nil).Check(t.Context(), device("pe1"), plain), NameOperatorSessions, "operator netrecon logged in (session 8)")
}

// TestOperatorSessionsSim asks a simulated device, over a real NETCONF session,
// who is logged in while an operator comes and goes.
func TestOperatorSessionsSim(t *testing.T) {
	ctx := t.Context()
	const user, password = "netrecon", "sim-password"
	sim, err := netsim.Start(ctx, netsim.Options{
		Devices:  []netsim.DeviceSpec{{Name: "sim1", Platform: "ietf"}},
		Username: user,
		Password: password,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, sim.KnownHosts(), 0o600); err != nil {
		t.Fatal(err)
	}
	simDev := sim.Devices()[0]
	s, err := netconf.Dial(ctx, netconf.Target{
		Device: simDev.Name, Address: simDev.Address, Port: simDev.Port,
		Username: user, Auth: netconf.PasswordAuth(password), KnownHosts: kh,
	}, netconf.WithRPCTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })

	dev := device(simDev.Name)
	g := OperatorSessions(nil)
	if err := g.Check(ctx, dev, s); err != nil {
		t.Fatalf("no operator yet: %v", err)
	}
	simDev.AddOperatorSession("alice")
	deferredBy(t, g.Check(ctx, dev, s), NameOperatorSessions, "operator alice logged in (session ", " from 192.0.2.10)")
	if err := OperatorSessions([]string{"alice"}).Check(ctx, dev, s); err != nil {
		t.Errorf("alice allowed: %v", err)
	}
	simDev.RemoveOperatorSession("alice")
	if err := g.Check(ctx, dev, s); err != nil {
		t.Errorf("alice logged out: %v", err)
	}
}
