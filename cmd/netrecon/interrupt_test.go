package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/drivers/netsim"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/render"
)

// interruptSim is two simulated PEs and an intent repo for them, for the
// tests that interrupt `netrecon apply` with real signals.
type interruptSim struct {
	sim   *netsim.Sim
	tg    crashTarget
	repo  string
	state string
}

func newInterruptSim(t *testing.T) *interruptSim {
	t.Helper()
	keys := func(p string) configtree.Keys { return render.Keys(p, nil) }
	sim, err := netsim.Start(t.Context(), netsim.Options{
		Devices:  []netsim.DeviceSpec{{Name: "pe1", Platform: "ietf"}, {Name: "pe2", Platform: "ietf"}},
		Username: "netrecon", Password: "s3cret", Keys: keys,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, sim.KnownHosts(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NETRECON_CRASH_PASSWORD", "s3cret")
	tg := crashTarget{user: "netrecon", creds: "      passwordEnv: NETRECON_CRASH_PASSWORD\n", knownHosts: kh, keys: keys}
	for _, d := range sim.Devices() {
		tg.devices = append(tg.devices, crashDevice{d.Name, d.Address, d.Port})
	}
	tg.dial = func(t *testing.T, d crashDevice) *netconf.Session {
		s, err := netconf.Dial(context.Background(), netconf.Target{Device: d.name, Address: d.address, Port: d.port, Username: "netrecon", Auth: netconf.PasswordAuth("s3cret"), KnownHosts: kh}, netconf.WithKeys(keys("ietf")))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return &interruptSim{sim: sim, tg: tg, repo: crashRepo(t, tg, 42), state: t.TempDir()}
}

// applyChild is `netrecon apply` running in its own process, its standard
// error read line by line as it comes.
type applyChild struct {
	cmd    *exec.Cmd
	stdout strings.Builder
	mu     sync.Mutex
	stderr []string
	more   chan struct{} // a line arrived
	exited chan error
}

func startApply(t *testing.T, exe string, is *interruptSim, confirmTimeout string) *applyChild {
	t.Helper()
	c := &applyChild{more: make(chan struct{}, 1), exited: make(chan error, 1)}
	c.cmd = exec.Command(exe, "apply", is.repo, "--auto-approve", "--state", is.state, "--known-hosts", is.tg.knownHosts,
		"--confirm-timeout", confirmTimeout, "--rpc-timeout", "2m")
	c.cmd.Stdout = &c.stdout
	errPipe, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			c.mu.Lock()
			c.stderr = append(c.stderr, sc.Text())
			c.mu.Unlock()
			select {
			case c.more <- struct{}{}:
			default:
			}
		}
		io.Copy(io.Discard, errPipe)
	}()
	go func() {
		<-read // Wait must follow the last read of the pipe
		c.exited <- c.cmd.Wait()
	}()
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
		}
	})
	return c
}

func (c *applyChild) errText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.stderr, "\n")
}

// waitFor waits until every one of wants is in the child's standard error.
func (c *applyChild) waitFor(t *testing.T, wants ...string) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		text := c.errText()
		missing := ""
		for _, w := range wants {
			if !strings.Contains(text, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		select {
		case <-c.more:
		case err := <-c.exited:
			t.Fatalf("apply exited (%v) before saying %q:\n%s\n%s", err, missing, c.stdout.String(), text)
		case <-deadline:
			t.Fatalf("apply did not say %q within 60 s:\n%s", missing, text)
		}
	}
}

func (c *applyChild) signal(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
}

// wait returns the child's exit status once it ends.
func (c *applyChild) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case err := <-c.exited:
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ee):
			return ee.ExitCode()
		}
		t.Fatal(err)
	case <-time.After(within):
		t.Fatalf("apply did not end within %s of the interrupt:\n%s", within, c.errText())
	}
	return -1
}

func (is *interruptSim) run(t *testing.T, id journal.RunID) *journal.Run {
	t.Helper()
	j, err := journal.Open(t.Context(), journalPath(is.state))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	r, err := j.Run(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// stageDone is the point where pe1 has committed (and verified) and pe2's
// commit is out but unanswered: before the confirm step, with a confirmed
// commit pending on both devices.
func stageDone(t *testing.T, is *interruptSim, c *applyChild) {
	c.waitFor(t, "device=pe1 phase=checked", "device=pe2 phase=committed")
	// The phase is reported before the commit is sent: wait for it to land.
	deadline := time.Now().Add(10 * time.Second)
	for _, d := range is.sim.Devices() {
		for !d.ConfirmPending() {
			if time.Now().After(deadline) {
				t.Fatalf("%s has no pending confirmed commit: the test would prove nothing", d.Name)
			}
			<-time.After(10 * time.Millisecond) // poll interval
		}
	}
}

// A first Ctrl-C before the confirm step rolls every device back, says so,
// and the journal's run ends settled.
func TestApplyInterruptRollsBack(t *testing.T) {
	exe := crashBinary(t)
	is := newInterruptSim(t)
	// pe2 carries out its commit but never answers it: the apply waits there.
	is.sim.Device("pe2").SwallowReplyAt("commit", 1)
	c := startApply(t, exe, is, "2m")
	stageDone(t, is, c)
	c.signal(t)
	code := c.wait(t, 30*time.Second)
	out, errs := c.stdout.String(), c.errText()
	if code != 130 {
		t.Errorf("exit %d, want 130 (stopped by an interrupt)", code)
	}
	if !strings.Contains(errs, "Interrupted: stopping. Before the confirm step, every device of the change set is rolled back") {
		t.Errorf("the interrupt was not explained:\n%s", errs)
	}
	if !strings.Contains(out, "Stopped before the confirm step in ") || !strings.Contains(out, "committed and rolled back") {
		t.Errorf("summary does not say the stop and the rollback:\n%s", out)
	}
	for _, d := range is.tg.devices {
		if st := deviceState(t, is.tg, is.repo, d); st != "old" {
			t.Errorf("%s is %s after the stop, want its old configuration", d.name, st)
		}
		if is.sim.Device(d.name).ConfirmPending() {
			t.Errorf("%s: a confirmed commit is still pending", d.name)
		}
	}
	r := is.run(t, 1)
	if r.Outcome != journal.RolledBack || !strings.HasPrefix(r.Summary, "stopped before the confirm step") {
		t.Errorf("journal: run 1 %s %q, want rolled-back and the stop in its summary", r.Outcome, r.Summary)
	}
	for _, d := range r.Devices {
		if d.Phase != journal.Cancelled {
			t.Errorf("journal: %s ended %s, want cancelled (not failed: the operator stopped it)", d.Device, d.Phase)
		}
	}
	noDoubledNames(t, out+errs)
	t.Logf("apply said:\n%s\n%s", out, errs)
}

// A second Ctrl-C stops at once: the devices are left to their
// confirm-timeout, it says so, and the next apply settles the run.
func TestApplySecondInterruptLeavesRunForRecovery(t *testing.T) {
	exe := crashBinary(t)
	is := newInterruptSim(t)
	is.sim.Device("pe2").SwallowReplyAt("commit", 1)
	const confirmTimeout = 8 * time.Second
	c := startApply(t, exe, is, confirmTimeout.String())
	stageDone(t, is, c)
	// pe1 answers slowly now: its rollback is still under way when the
	// second interrupt comes.
	pe1 := is.sim.Device("pe1")
	pe1.SetLatency(time.Minute)
	c.signal(t)
	c.waitFor(t, "Interrupted: stopping.")
	c.signal(t)
	code := c.wait(t, 20*time.Second)
	pe1.SetLatency(0)
	out, errs := c.stdout.String(), c.errText()
	t.Logf("apply said:\n%s\n%s", out, errs)
	if code != 130 {
		t.Errorf("exit %d, want 130", code)
	}
	if !strings.Contains(errs, "Interrupted again: stopping at once. A device with an unconfirmed commit rolls back by itself at its confirm-timeout ("+confirmTimeout.String()+")") {
		t.Errorf("the second interrupt was not explained:\n%s", errs)
	}
	if !strings.Contains(out, "Stopped at once after ") || !strings.Contains(out, "Run 1 is unfinished in the journal") {
		t.Errorf("output does not say the run is left for recovery:\n%s", out)
	}
	if !pe1.ConfirmPending() {
		t.Error("pe1 has no pending commit: the second interrupt did not stop its rollback")
	}
	if r := is.run(t, 1); r.Outcome != journal.Running {
		t.Errorf("journal: run 1 %s, want still running (left for recovery)", r.Outcome)
	}
	// The device keeps its promise: the confirm-timeout rolls it back.
	deadline := time.Now().Add(confirmTimeout + 20*time.Second)
	for pe1.ConfirmPending() {
		if time.Now().After(deadline) {
			t.Fatal("pe1's confirmed commit did not roll back at its confirm-timeout")
		}
		<-time.After(50 * time.Millisecond) // poll interval
	}
	code, stdout, stderr := netrecon(t, "apply", is.repo, "--state", is.state, "--known-hosts", is.tg.knownHosts)
	if !strings.Contains(stderr, "recovered run 1") {
		t.Fatalf("the next apply did not settle run 1 (exit %d):\n%s%s", code, stdout, stderr)
	}
	if r := is.run(t, 1); r.Outcome == journal.Running {
		t.Errorf("journal: run 1 still running after recovery")
	}
	for _, d := range is.tg.devices {
		if st := deviceState(t, is.tg, is.repo, d); st != "old" {
			t.Errorf("%s is %s after recovery, want its old configuration", d.name, st)
		}
	}
	t.Logf("recovery said:\n%s", stderr)
}
