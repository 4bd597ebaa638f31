package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sessionsOpened returns how many sessions each simulated device saw, and
// sets the counters back to zero.
func (e *planFileEnv) sessionsOpened() map[string]int {
	got := map[string]int{}
	for _, d := range e.sim.Devices() {
		got[d.Name] = d.SessionsOpened()
		d.ResetCounters()
	}
	return got
}

func wantOnePerDevice(t *testing.T, what string, got map[string]int) {
	t.Helper()
	for name, n := range got {
		if n != 1 {
			t.Errorf("%s: %s opened %d sessions, want 1 (plan and apply share one)", what, name, n)
		}
	}
}

// netrecon apply plans each device and applies the plan on the session the
// plan read it with: N devices, N sessions.
func TestApplyOpensOneSessionPerDevice(t *testing.T) {
	e := newPlanFileEnv(t)
	if code, out, errs := e.run(t, e.state, "apply", e.repo, "--auto-approve"); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errs)
	}
	if e.edits() == 0 {
		t.Fatal("the apply changed nothing: nothing shows the session carried on")
	}
	wantOnePerDevice(t, "apply DIR", e.sessionsOpened())
	for _, d := range e.tg.devices {
		if st := deviceState(t, e.tg, e.repo, d); st != "new" {
			t.Errorf("%s is %s after apply", d.name, st)
		}
	}
}

// Applying a saved plan reads every device again before it applies: on the
// session it then applies with.
func TestApplyPlanFileOpensOneSessionPerDevice(t *testing.T) {
	e := newPlanFileEnv(t)
	f := e.planOut(t, e.state)
	e.sessionsOpened()
	if code, out, errs := e.applyFile(t, e.state, f); code != 0 {
		t.Fatalf("apply FILE: exit %d\n%s%s", code, out, errs)
	}
	wantOnePerDevice(t, "apply FILE", e.sessionsOpened())
}

// Ctrl-C in the middle of an apply rolls the change set back and closes
// every session: none is left open on a device.
func TestApplyInterruptedClosesSessions(t *testing.T) {
	e := newPlanFileEnv(t)
	for _, d := range e.sim.Devices() {
		d.SetLatency(150 * time.Millisecond) // time to interrupt it
	}
	var stdout, stderr bytes.Buffer
	a := &app{stdout: &stdout, stderr: &stderr, stdin: strings.NewReader("")}
	root := newRootCmd(a)
	root.SetArgs([]string{"apply", e.repo, "--auto-approve", "--state", e.state, "--known-hosts", e.tg.knownHosts})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(context.Background()) }()
	deadline := time.Now().Add(30 * time.Second)
	for e.sim.Device("pe1").RPCCount("lock") == 0 {
		select {
		case err := <-done:
			t.Fatalf("apply ended before it locked: %v\n%s%s", err, stdout.String(), stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("apply did not lock within 30 s")
		}
		<-time.After(5 * time.Millisecond) // poll interval
	}
	// Ctrl-C. The apply's handler catches it; without one the test binary
	// dies, which fails the test as loudly.
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("an interrupted apply succeeded\n%s", stdout.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("apply did not end within 60 s of the interrupt")
	}
	for _, d := range e.sim.Devices() {
		for end := time.Now().Add(10 * time.Second); d.Sessions() > 0; {
			if time.Now().After(end) {
				t.Fatalf("%s still has %d sessions open after the interrupted apply", d.Name, d.Sessions())
			}
			<-time.After(5 * time.Millisecond) // poll interval
		}
		if d.ConfirmPending() {
			t.Errorf("%s: a confirmed commit is still pending: the interrupt did not roll back", d.Name)
		}
	}
	for _, d := range e.tg.devices {
		if st := deviceState(t, e.tg, e.repo, d); st != "old" {
			t.Errorf("%s is %s after the interrupted apply, want old (rolled back)", d.name, st)
		}
	}
}
