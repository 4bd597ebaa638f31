package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/schema"
)

// Only devices with desired configuration are prefetched, and only among
// the first the planner reads, so that prefetch and plan together never
// set up more than --concurrency sessions at once.
func TestPrefetchDevices(t *testing.T) {
	in := &schema.Intent{}
	for _, n := range []string{"pe1", "pe2", "pe3", "pe4", "pe5"} {
		in.Devices = append(in.Devices, &schema.Device{Name: n})
	}
	desired := map[string]*configtree.Tree{"pe1": {}, "pe3": {}, "pe4": {}, "pe5": {}}
	for _, tc := range []struct {
		names       []string
		concurrency int
		want        []string
	}{
		{[]string{"pe1", "pe2", "pe3", "pe4", "pe5"}, 3, []string{"pe1", "pe3"}},
		{[]string{"pe5", "pe2", "pe1"}, 10, []string{"pe1", "pe5"}},
		{[]string{"pe2"}, 10, nil},
		{[]string{"pe4", "pe3"}, 1, []string{"pe3"}},
	} {
		var got []string
		for _, d := range prefetchDevices(in, tc.names, desired, tc.concurrency) {
			got = append(got, d.Name)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("prefetchDevices(%v, concurrency %d) = %v, want %v", tc.names, tc.concurrency, got, tc.want)
		}
	}
}

// A live plan of one device (--devices) opens a session on that device only,
// one, and closes it.
func TestPlanOneDeviceTouchesNoOther(t *testing.T) {
	e := newPlanFileEnv(t)
	code, out, errs := e.run(t, e.state, "plan", e.repo, "--devices", "pe1")
	if code != 2 || !strings.Contains(out, "pe1") {
		t.Fatalf("plan --devices pe1: exit %d, want 2 and pe1's changes\n%s%s", code, out, errs)
	}
	got := e.sessionsOpened()
	if got["pe1"] != 1 || got["pe2"] != 0 {
		t.Errorf("sessions opened %v, want pe1:1 pe2:0", got)
	}
	waitNoSessions(t, e)
}

// An apply that fails after its sessions started opening (here: the state
// folder cannot be made) leaves none of them open.
func TestApplyFailingAfterPrefetchClosesSessions(t *testing.T) {
	e := newPlanFileEnv(t)
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := e.run(t, filepath.Join(blocker, "state"), "apply", e.repo, "--auto-approve")
	if code != 1 || !strings.Contains(errs, "state folder") {
		t.Fatalf("apply with a state folder under a file: exit %d, want 1 and a state folder error\n%s%s", code, out, errs)
	}
	waitNoSessions(t, e)
	if e.edits() != 0 {
		t.Error("the failed apply edited a device")
	}
}

func waitNoSessions(t *testing.T, e *planFileEnv) {
	t.Helper()
	for _, d := range e.sim.Devices() {
		for end := time.Now().Add(10 * time.Second); d.Sessions() > 0; {
			if time.Now().After(end) {
				t.Fatalf("%s still has %d sessions open", d.Name, d.Sessions())
			}
			<-time.After(5 * time.Millisecond) // poll interval
		}
	}
}

// The first sessions open while the services load (earlySessions): an
// intent that then does not validate leaves none of them open, reads and
// edits nothing, and says so.
func TestInvalidIntentClosesEarlySessions(t *testing.T) {
	e := newPlanFileEnv(t)
	bad := "apiVersion: netrecon.io/v1\nkind: attachment-circuit\nmetadata: {name: broken, customer: x}\nspec:\n  device: pe1\n  vlan: not-a-number\n"
	if err := os.WriteFile(filepath.Join(e.repo, "services", "broken.yaml"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, verb := range [][]string{{"plan", e.repo}, {"apply", e.repo, "--auto-approve"}} {
		opened := 0
		for _, d := range e.sim.Devices() {
			d.ResetCounters()
			opened -= d.SessionsOpened()
		}
		code, out, errs := e.run(t, e.state, verb...)
		for _, d := range e.sim.Devices() {
			opened += d.SessionsOpened()
		}
		if opened == 0 {
			t.Errorf("%s: no session opened while the services loaded", verb[0])
		}
		if code != 1 || !strings.Contains(errs, "nothing was read from the devices") || !strings.Contains(errs, "broken.yaml") {
			t.Fatalf("%s on an invalid intent: exit %d, want 1, the file and nothing read\n%s%s", verb[0], code, out, errs)
		}
		waitNoSessions(t, e)
		for _, d := range e.sim.Devices() {
			if c := d.RPCCounts(); c["get-config"]+c["edit-config"]+c["lock"] != 0 {
				t.Errorf("%s: %s got %v", verb[0], d.Name, c)
			}
		}
	}
}
