package netconf

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netsim"
	"github.com/netrecon/netrecon/reconcile"
)

// stallSim is one simulated device whose first request after the hello
// stalls until another message arrives (netsim's StallFirstRequestAfterHello,
// yuma123's bug), and its target.
func stallSim(t *testing.T) (*netsim.Device, Target) {
	t.Helper()
	const password = "sim-password"
	sim, err := netsim.Start(t.Context(), netsim.Options{
		Devices:  []netsim.DeviceSpec{{Name: "sim1", Platform: "ietf"}},
		Username: "netrecon", Password: password,
		Keys: func(string) configtree.Keys { return testKeys },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	kh := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, kh, string(sim.KnownHosts()))
	d := sim.Devices()[0]
	d.StallFirstRequestAfterHello(true)
	return d, Target{Device: d.Name, Address: d.Address, Port: d.Port, Username: "netrecon", Auth: PasswordAuth(password), KnownHosts: kh}
}

// Without a nudge the stalled first request never gets its reply: the RPC
// deadline fails the session. This is what the nudge is for.
func TestStalledFirstRequestTimesOutWithoutNudge(t *testing.T) {
	_, tg := stallSim(t)
	s, err := Dial(t.Context(), tg, WithKeys(testKeys), WithRPCTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	err = s.Lock(t.Context(), reconcile.Candidate)
	if !errors.Is(err, reconcile.ErrSessionLost) {
		t.Fatalf("lock on a stalled session: %v, want a lost session", err)
	}
}

// With a nudge the first request gets its own reply, once: a lock is sent
// once and granted, and the session goes on.
func TestNudgeReleasesTheStalledFirstRequest(t *testing.T) {
	d, tg := stallSim(t)
	s, err := Dial(t.Context(), tg, WithKeys(testKeys), WithRPCTimeout(5*time.Second), WithNudgeAfterHello(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if err := s.Lock(t.Context(), reconcile.Candidate); err != nil {
		t.Fatalf("first request, a lock: %v", err)
	}
	if err := s.Unlock(t.Context(), reconcile.Candidate); err != nil {
		t.Fatalf("unlock after: %v", err)
	}
	if n := d.RPCCount("lock"); n != 1 {
		t.Errorf("%d locks reached the device, want 1: the nudge must not repeat the request", n)
	}
	if n := d.RPCCount("get"); n != 1 {
		t.Errorf("%d gets (nudges) reached the device, want 1", n)
	}
}

// A device that answers the first request in time is not nudged.
func TestNoNudgeWhenTheFirstReplyComes(t *testing.T) {
	d, tg := stallSim(t)
	d.StallFirstRequestAfterHello(false)
	s, err := Dial(t.Context(), tg, WithKeys(testKeys), WithRPCTimeout(5*time.Second), WithNudgeAfterHello(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if err := s.Lock(t.Context(), reconcile.Candidate); err != nil {
		t.Fatal(err)
	}
	if n := d.RPCCount("get"); n != 0 {
		t.Errorf("%d nudges sent to a device that answered at once, want 0", n)
	}
}

func TestNudgeOptionCheck(t *testing.T) {
	if _, err := newConfig([]Option{WithNudgeAfterHello(-time.Millisecond)}); err == nil {
		t.Error("a negative nudge was accepted")
	}
}
