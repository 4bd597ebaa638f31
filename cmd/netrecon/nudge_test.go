package main

import "testing"

// --nudge-after-hello reaches the driver: on devices whose first request
// after the hello stalls (yuma123's bug, netsim's knob), an apply with a
// short RPC deadline still succeeds, one session per device.
func TestApplyNudgesStalledFirstRequests(t *testing.T) {
	e := newPlanFileEnv(t)
	for _, d := range e.sim.Devices() {
		d.StallFirstRequestAfterHello(true)
	}
	if code, out, errs := e.run(t, e.state, "apply", e.repo, "--auto-approve", "--rpc-timeout", "2s", "--nudge-after-hello", "20ms"); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errs)
	}
	wantOnePerDevice(t, "apply with a nudge", e.sessionsOpened())
	// The test's own read-back sends no nudge.
	for _, d := range e.sim.Devices() {
		d.StallFirstRequestAfterHello(false)
	}
	for _, d := range e.tg.devices {
		if st := deviceState(t, e.tg, e.repo, d); st != "new" {
			t.Errorf("%s is %s after apply", d.name, st)
		}
	}
}

func TestNegativeNudgeRefused(t *testing.T) {
	e := newPlanFileEnv(t)
	if code, _, errs := e.run(t, e.state, "plan", e.repo, "--nudge-after-hello", "-1ms"); code != 1 {
		t.Errorf("plan --nudge-after-hello -1ms: exit %d, want 1\n%s", code, errs)
	}
}
