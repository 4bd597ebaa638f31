package guard

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netrecon/netrecon/drivers/snmp"
	"github.com/netrecon/netrecon/drivers/snmp/snmptest"
	"github.com/netrecon/netrecon/schema"
)

const testCommunity = "guard-test"

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: utc("2026-11-27T10:00:00Z")} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func snmpClient(t *testing.T, community string) SNMPReader {
	t.Helper()
	c, err := snmp.New(snmp.Options{Community: community, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return snmpAdapter{c}
}

// snmpAdapter is cmd/netrecon's adapter of drivers/snmp's client, so that the
// tests read a real agent.
type snmpAdapter struct{ c *snmp.Client }

func (r snmpAdapter) Read(ctx context.Context, target, oid string) (SNMPValue, error) {
	v, err := r.c.Get(ctx, target, oid)
	if err != nil {
		return SNMPValue{}, err
	}
	out := SNMPValue{Type: v.Type}
	switch {
	case v.IsInt():
		n, err := v.Int()
		if err != nil {
			return SNMPValue{}, err
		}
		out.Int = &n
	case v.IsText():
		s := v.String()
		out.Text = &s
	}
	return out, nil
}

// fakeGuard is an SNMP guard reading oid from agent for every device.
func fakeGuard(t *testing.T, agent *snmptest.Agent, oid string, threshold int64, clock *fakeClock) *SNMPGuard {
	t.Helper()
	g, err := SNMPUsers(SNMPOptions{
		Client: snmpClient(t, testCommunity), OID: oid, Threshold: threshold, MinInterval: time.Minute,
		Target: func(*schema.Device) string { return agent.Addr() },
		Now:    clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestSNMPUsersOptions(t *testing.T) {
	c := snmpClient(t, "c")
	for _, tc := range []struct {
		name string
		opts SNMPOptions
		want []string
	}{
		{"defaults", SNMPOptions{Client: c}, nil},
		{"no client", SNMPOptions{}, []string{"Client is nil"}},
		{"bad values", SNMPOptions{Client: c, OID: "hrSystemNumUsers.0", Threshold: -1, MinInterval: -time.Second},
			[]string{`OID "hrSystemNumUsers.0" is not numeric`, "Threshold -1 is negative", "MinInterval -1s is negative"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := SNMPUsers(tc.opts)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if g.oid != OIDHrSystemNumUsers || g.interval != DefaultSNMPMinInterval {
					t.Errorf("defaults: oid %s, interval %s", g.oid, g.interval)
				}
				if got := g.target(device("pe1")); got != "127.0.0.1:161" {
					t.Errorf("default target %q", got)
				}
				return
			}
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v; want %q", err, w)
				}
			}
		})
	}
}

// TestSNMPUsersDecide: one case per kind of answer, from a fake agent.
func TestSNMPUsersDecide(t *testing.T) {
	const oid = ".1.3.6.1.2.1.25.1.5.0"
	for _, tc := range []struct {
		name      string
		set       func(a *snmptest.Agent)
		threshold int64
		reason    string // "" when the guard passes
		cause     any    // a pointer to the error type the deferral must wrap
	}{
		{"no users", func(a *snmptest.Agent) { a.SetGauge(oid, 0) }, 0, "", nil},
		{"two users", func(a *snmptest.Agent) { a.SetGauge(oid, 2) }, 0, "SNMP reports 2 logged in (.1.3.6.1.2.1.25.1.5.0 Gauge32 = 2, threshold 0)", nil},
		{"at the threshold", func(a *snmptest.Agent) { a.SetGauge(oid, 2) }, 2, "", nil},
		{"above the threshold", func(a *snmptest.Agent) { a.SetGauge(oid, 3) }, 2, "SNMP reports 3 logged in", nil},
		{"integer", func(a *snmptest.Agent) { a.SetInteger(oid, 1) }, 0, "SNMP reports 1 logged in", nil},
		{"negative integer", func(a *snmptest.Agent) { a.SetInteger(oid, -1) }, 0, "", nil},
		{"string 1", func(a *snmptest.Agent) { a.SetString(oid, "1\n") }, 0, `SNMP reports an operator logged in (.1.3.6.1.2.1.25.1.5.0 = "1", threshold 0)`, nil},
		{"string 0", func(a *snmptest.Agent) { a.SetString(oid, " 0\n") }, 0, "", nil},
		{"empty string", func(a *snmptest.Agent) { a.SetString(oid, "") }, 0, "", nil},
		{"blank string", func(a *snmptest.Agent) { a.SetString(oid, " \n") }, 0, "", nil},
		{"text", func(a *snmptest.Agent) { a.SetString(oid, "alice on tty1") }, 0, `SNMP reports an operator logged in (.1.3.6.1.2.1.25.1.5.0 = "alice on tty1")`, nil},
		{"string under threshold", func(a *snmptest.Agent) { a.SetString(oid, "2") }, 5, "", nil},
		{"other type fails closed", func(a *snmptest.Agent) { a.SetIPAddress(oid, "192.0.2.1") }, 0, "cannot tell whether an operator is logged in: .1.3.6.1.2.1.25.1.5.0 is IPAddress", nil},
		{"missing object fails closed", func(a *snmptest.Agent) {}, 0, "cannot tell whether an operator is logged in (SNMP read failed)", new(*snmp.NoSuchError)},
		{"silent agent fails closed", func(a *snmptest.Agent) { a.SetSilent(true) }, 0, "cannot tell whether an operator is logged in (SNMP read failed)", new(*snmp.TimeoutError)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			agent := snmptest.Start(t, testCommunity)
			tc.set(agent)
			g := fakeGuard(t, agent, oid, tc.threshold, newFakeClock())
			err := g.Check(t.Context(), device("pe1"), nil)
			if tc.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			d := deferredBy(t, err, NameSNMPUsers)
			if !strings.HasPrefix(d.Reason, tc.reason) {
				t.Errorf("reason %q\nwant prefix %q", d.Reason, tc.reason)
			}
			if d.RetryAfter != time.Minute {
				t.Errorf("RetryAfter = %s; want the interval to the next read", d.RetryAfter)
			}
			if tc.cause != nil && !errors.As(err, tc.cause) {
				t.Errorf("deferral %v does not wrap %T", err, tc.cause)
			}
		})
	}
}

// TestSNMPUsersRateLimit: checks inside MinInterval reuse one read, failures
// included; the next read comes once MinInterval has passed.
func TestSNMPUsersRateLimit(t *testing.T) {
	const oid = ".1.3.6.1.4.1.99999.1.0"
	agent := snmptest.Start(t, testCommunity)
	agent.SetString(oid, "0")
	clock := newFakeClock()
	g := fakeGuard(t, agent, oid, 0, clock)
	dev := device("pe1")

	for i := range 10 {
		if err := g.Check(t.Context(), dev, nil); err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
		clock.Advance(5 * time.Second) // 45 s in all: inside the minute
	}
	if g.Polls("pe1") != 1 || agent.Requests() != 1 {
		t.Fatalf("10 checks in 45 s: %d polls, %d requests; want 1", g.Polls("pe1"), agent.Requests())
	}

	// An operator logs in: the cached answer stands until the minute is up.
	agent.SetString(oid, "1")
	if err := g.Check(t.Context(), dev, nil); err != nil {
		t.Fatalf("cached answer not used: %v", err)
	}
	clock.Advance(15 * time.Second)
	d := deferredBy(t, g.Check(t.Context(), dev, nil), NameSNMPUsers, `"1"`)
	if g.Polls("pe1") != 2 || d.RetryAfter != time.Minute {
		t.Errorf("after the interval: %d polls, RetryAfter %s", g.Polls("pe1"), d.RetryAfter)
	}
	clock.Advance(20 * time.Second)
	if d := deferredBy(t, g.Check(t.Context(), dev, nil), NameSNMPUsers); d.RetryAfter != 40*time.Second {
		t.Errorf("cached deferral: RetryAfter %s; want 40s", d.RetryAfter)
	}

	// Each device has its own budget.
	if err := g.Check(t.Context(), device("pe2"), nil); err == nil || g.Polls("pe2") != 1 || g.Polls("pe1") != 2 {
		t.Errorf("pe2: %v; polls pe1 %d, pe2 %d", err, g.Polls("pe1"), g.Polls("pe2"))
	}

	// A silent agent is not hammered either: its failure is cached.
	clock.Advance(time.Minute)
	agent.SetSilent(true)
	before := agent.Requests()
	for range 5 {
		deferredBy(t, g.Check(t.Context(), dev, nil), NameSNMPUsers, "cannot tell")
	}
	if got := agent.Requests() - before; got != 1 { // Retries is 0
		t.Errorf("silent agent got %d requests for 5 checks; want 1", got)
	}

	// A clock set back ends the cached answer instead of freezing it.
	agent.SetSilent(false)
	clock.Advance(-time.Hour)
	if err := g.Check(t.Context(), dev, nil); g.Polls("pe1") != 4 {
		t.Errorf("clock set back: %v, polls %d; want a fresh read", err, g.Polls("pe1"))
	}
}

// TestSNMPUsersConcurrent: checks of one device at once share one read.
func TestSNMPUsersConcurrent(t *testing.T) {
	const oid = ".1.3.6.1.4.1.99999.1.0"
	agent := snmptest.Start(t, testCommunity)
	agent.SetString(oid, "0")
	g := fakeGuard(t, agent, oid, 0, newFakeClock())
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() { errs <- g.Check(t.Context(), device("pe1"), nil) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if g.Polls("pe1") != 1 || agent.Requests() != 1 {
		t.Errorf("20 concurrent checks: %d polls, %d requests; want 1", g.Polls("pe1"), agent.Requests())
	}
}

// TestSNMPUsersDoneContext: a caller that stops waiting gets a plain error and
// leaves nothing cached.
func TestSNMPUsersDoneContext(t *testing.T) {
	agent := snmptest.Start(t, testCommunity)
	g := fakeGuard(t, agent, OIDHrSystemNumUsers, 0, newFakeClock())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := g.Check(ctx, device("pe1"), nil)
	if !errors.Is(err, context.Canceled) || isDeferred(err) {
		t.Errorf("err = %v; want context.Canceled, not a deferral", err)
	}
	if g.Polls("pe1") != 0 {
		t.Errorf("polls = %d; want 0", g.Polls("pe1"))
	}

	// Ending while the agent is silent: the read started, nothing cached.
	agent.SetSilent(true)
	short, cancelShort := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancelShort()
	err = g.Check(short, device("pe1"), nil)
	if !errors.Is(err, context.DeadlineExceeded) || isDeferred(err) {
		t.Errorf("deadline during the read: %v; want context.DeadlineExceeded, not a deferral", err)
	}
	agent.SetSilent(false)
	agent.SetGauge(OIDHrSystemNumUsers, 0)
	if err := g.Check(t.Context(), device("pe1"), nil); err != nil || g.Polls("pe1") != 2 {
		t.Errorf("after an abandoned read: %v, %d polls; want a fresh read (2)", err, g.Polls("pe1"))
	}

	if err := g.Check(t.Context(), nil, nil); err == nil || isDeferred(err) {
		t.Errorf("nil device: %v", err)
	}
}
