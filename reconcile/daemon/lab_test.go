package daemon

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/netrecon/netrecon/drivers/snmp"
	"github.com/netrecon/netrecon/lab/labtest"
	"github.com/netrecon/netrecon/reconcile/guard"
)

// oidMaint is nsExtendOutput1Line."maint" on the lab's snmpd: the content of
// its maint file, standing for "an operator is logged in".
const oidMaint = ".1.3.6.1.4.1.8072.1.3.2.3.1.1.5.109.97.105.110.116"

// TestLabSNMPGuardDefersThenApplies runs the daemon against netsim devices
// with the lab's real snmpd as the SNMP guard: while the maint file says 1
// every device is deferred; once it says 0 (after snmpd's ~5 s cache) the
// next passes apply.
func TestLabSNMPGuardDefersThenApplies(t *testing.T) {
	if testing.Short() {
		t.Skip("lab test: waits for snmpd's cache")
	}
	agent := labtest.Load(t).SNMP()
	orig, err := os.ReadFile(agent.MaintFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.WriteFile(agent.MaintFile, orig, 0o644) })
	client, err := snmp.New(snmp.Options{Community: agent.Community, Timeout: time.Second, Retries: 1})
	if err != nil {
		t.Fatal(err)
	}
	// waitAgent polls the agent until it reports want.
	waitAgent := func(want string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			v, err := client.Get(context.Background(), agent.Address, oidMaint)
			if err == nil && v.String() == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("snmpd did not report %q within 20 s (last %v, %v)", want, v, err)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	os.WriteFile(agent.MaintFile, []byte("1\n"), 0o644)
	waitAgent("1")

	l := newLab(t, exampleFiles(t))
	t.Setenv("NETRECON_TEST_SNMP_COMMUNITY", agent.Community)
	l.cfg.Guards.SNMP = &SNMPConfig{CommunityEnv: "NETRECON_TEST_SNMP_COMMUNITY", OID: oidMaint, Address: agent.Address,
		MinInterval: Duration(500 * time.Millisecond), Timeout: Duration(time.Second), Retries: 1}
	l.cfg.Defaults()
	d := l.start(Options{})
	ctx := context.Background()
	p := d.SyncOnce(ctx, "test")
	st := d.Status()
	if df := deferredOf(st); len(p.Applied) != 0 || len(p.Failed) != 0 || len(df) != 3 || df[0].Deferral.Guard != guard.NameSNMPUsers {
		t.Fatalf("with maint=1: pass %+v, deferred %+v", p, df)
	}
	if l.editRPCs() != 0 {
		t.Fatal("a deferred device was edited")
	}

	os.WriteFile(agent.MaintFile, []byte("0\n"), 0o644)
	start := time.Now()
	var applied []string
	for deadline := time.Now().Add(30 * time.Second); len(applied) < 3; {
		if time.Now().After(deadline) {
			t.Fatalf("devices not applied within 30 s of maint=0: %v; status %+v", applied, deferredOf(d.Status()))
		}
		p := d.SyncOnce(ctx, "test")
		applied = append(applied, p.Applied...)
		if len(p.Failed) != 0 {
			t.Fatalf("failed: %+v", p)
		}
		time.Sleep(250 * time.Millisecond)
	}
	slices.Sort(applied)
	t.Logf("applied %v %s after maint=0 (snmpd caches ~5 s)", applied, time.Since(start).Round(100*time.Millisecond))
	if df := deferredOf(d.Status()); len(df) != 0 {
		t.Errorf("still deferred: %+v", df)
	}
	l.assertConverged()
}
