package guard

import (
	"os"
	"testing"
	"time"

	"github.com/netrecon/netrecon/drivers/snmp"
	"github.com/netrecon/netrecon/lab/labtest"
	"github.com/netrecon/netrecon/schema"
)

// oidMaintExtend is nsExtendOutput1Line."maint" on the lab's snmpd: the
// content of its maint file, which stands for "an operator is logged in".
const oidMaintExtend = ".1.3.6.1.4.1.8072.1.3.2.3.1.1.5.109.97.105.110.116"

func labSNMPGuard(t *testing.T, interval time.Duration, now func() time.Time) (*SNMPGuard, labtest.SNMP) {
	t.Helper()
	agent := labtest.Load(t).SNMP()
	if agent.Address == "" || agent.MaintFile == "" {
		t.Fatal("lab.json has no snmp agent")
	}
	c, err := snmp.New(snmp.Options{Community: agent.Community, Timeout: time.Second, Retries: 1})
	if err != nil {
		t.Fatal(err)
	}
	g, err := SNMPUsers(SNMPOptions{
		Client: snmpAdapter{c}, OID: oidMaintExtend, MinInterval: interval,
		Target: func(*schema.Device) string { return agent.Address },
		Now:    now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return g, agent
}

// TestLabSNMPUsersFlip flips the lab's maint file and waits, polling with a
// deadline, for the guard to follow: snmpd caches the extend output ~5 s and
// the guard its answer for MinInterval.
func TestLabSNMPUsersFlip(t *testing.T) {
	const interval = time.Second
	g, agent := labSNMPGuard(t, interval, nil)
	orig, err := os.ReadFile(agent.MaintFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.WriteFile(agent.MaintFile, orig, 0o644) })
	dev := device("lab1")
	start := time.Now()

	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(agent.MaintFile, []byte(s+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(what string, ok func(error) bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			err := g.Check(t.Context(), dev, nil)
			if ok(err) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: still %v after 20 s", what, err)
			}
			pause(t, 250*time.Millisecond)
		}
	}

	write("0")
	waitFor(`"0" passes`, func(err error) bool { return err == nil })
	write("1")
	waitFor(`"1" defers`, func(err error) bool {
		d, ok := IsDeferred(err)
		return ok && d.Guard == NameSNMPUsers && d.Err == nil
	})
	t.Logf("deferred after %s", time.Since(start).Round(time.Millisecond))
	write("0")
	waitFor(`"0" passes`, func(err error) bool { return err == nil })
	took := time.Since(start)
	t.Logf("passing again after %s, %d polls", took.Round(time.Millisecond), g.Polls(dev.Name))

	// Checked every 250 ms, the agent was still read at most once a second.
	if allowed := int(took/interval) + 1; g.Polls(dev.Name) > allowed {
		t.Errorf("%d polls in %s; MinInterval %s allows %d", g.Polls(dev.Name), took, interval, allowed)
	}
}

// TestLabSNMPUsersRateLimit: ten checks inside MinInterval make one SNMP GET
// to the real agent.
func TestLabSNMPUsersRateLimit(t *testing.T) {
	clock := newFakeClock()
	g, _ := labSNMPGuard(t, time.Minute, clock.Now)
	for range 10 {
		err := g.Check(t.Context(), device("lab1"), nil)
		if d, ok := IsDeferred(err); err != nil && (!ok || d.Err != nil) {
			t.Fatal(err) // the maint file may say 1 or 0; a failure is a bug
		}
		clock.Advance(5 * time.Second)
	}
	if g.Polls("lab1") != 1 {
		t.Errorf("10 checks within a minute made %d SNMP gets; want 1", g.Polls("lab1"))
	}
}

// pause waits between two polls of something that changes on its own clock
// (the agent's cache), not for an event the test could wait on.
func pause(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-time.After(d):
	case <-t.Context().Done():
		t.Fatal("test ended while polling")
	}
}
