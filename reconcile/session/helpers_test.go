package session

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/drivers/netsim"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
)

const testPassword = "session-test"

// simEnv is simulated devices and a NETCONF dialer to them: the pool's
// sessions are real SSH sessions to a server that speaks NETCONF.
type simEnv struct {
	sim     *netsim.Sim
	devices map[string]*schema.Device
	dialer  reconcile.Dialer
	dials   atomic.Int64
	// failDials makes that many dials fail before they connect.
	failDials atomic.Int64
}

func newSim(t testing.TB, n int, rpcTimeout time.Duration) *simEnv {
	t.Helper()
	k := render.Keys("ietf", nil)
	var specs []netsim.DeviceSpec
	for i := range n {
		specs = append(specs, netsim.DeviceSpec{Name: fmt.Sprintf("pe%d", i+1), Platform: "ietf"})
	}
	sim, err := netsim.Start(context.Background(), netsim.Options{
		Devices: specs, Username: "netrecon", Password: testPassword,
		Keys: func(string) configtree.Keys { return k },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, sim.KnownHosts(), 0o600); err != nil {
		t.Fatal(err)
	}
	env := &simEnv{sim: sim, devices: map[string]*schema.Device{}}
	for _, d := range sim.Devices() {
		env.devices[d.Name] = &schema.Device{Name: d.Name, Platform: d.Platform, Address: d.Address, Port: d.Port,
			Credentials: schema.Credentials{Username: "netrecon"}}
	}
	env.dialer = reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
		env.dials.Add(1)
		if env.failDials.Add(-1) >= 0 {
			return nil, fmt.Errorf("%s: dial: %w", dev.Name, errors.New("connection refused (test)"))
		}
		env.failDials.Store(0)
		t := netconf.Target{Device: dev.Name, Address: dev.Address, Port: dev.Port, Username: "netrecon", Auth: netconf.PasswordAuth(testPassword), KnownHosts: kh}
		s, err := netconf.Dial(ctx, t, netconf.WithKeys(k), netconf.WithRPCTimeout(rpcTimeout))
		if err != nil {
			return nil, err
		}
		return s, nil
	})
	return env
}

func newPool(t testing.TB, o Options) *Pool {
	t.Helper()
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// take leases dev's session from d and fails the test on error.
func take(t testing.TB, d reconcile.Dialer, dev *schema.Device) reconcile.Device {
	t.Helper()
	s, err := d.Dial(t.Context(), dev)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// read reads running through s and fails the test on error.
func read(t testing.TB, s reconcile.Device) {
	t.Helper()
	if _, err := s.GetConfig(t.Context(), reconcile.Running, nil); err != nil {
		t.Fatal(err)
	}
}

func release(t testing.TB, s reconcile.Device) {
	t.Helper()
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		<-time.After(5 * time.Millisecond) // poll interval, not a wait for the event
	}
}

func healthOf(p *Pool, device string) Health {
	for _, h := range p.Health() {
		if h.Device == device {
			return h
		}
	}
	return Health{}
}
