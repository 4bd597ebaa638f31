package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/lab/labtest"
	"github.com/netrecon/netrecon/render"
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
	// The interrupt handler and the progress reporter both write stderr, as
	// they do a terminal: a buffer that takes one write at a time.
	var stdout, stderr lockedBuffer
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

// On the lab's yuma123 netconfd: netrecon apply opens one session per
// device. netconfd numbers its sessions in order, so a probe session before
// and one after the apply tell how many the apply opened.
func TestLabApplyOpensOneSessionPerDevice(t *testing.T) {
	lab := labtest.Load(t)
	devs := lab.Devices()
	devs = devs[:min(3, len(devs))]
	tg := crashTarget{user: lab.Username(), creds: "      keyFile: " + lab.KeyFile() + "\n", knownHosts: lab.KnownHosts(), keys: func(p string) configtree.Keys { return render.Keys(p, nil) }}
	for _, d := range devs {
		tg.devices = append(tg.devices, crashDevice{d.Name, d.Address, d.Port})
	}
	auth, err := netconf.KeyFileAuth(lab.KeyFile())
	if err != nil {
		t.Fatal(err)
	}
	tg.dial = func(t *testing.T, d crashDevice) *netconf.Session {
		s, err := netconf.Dial(context.Background(), netconf.Target{Device: d.name, Address: d.address, Port: d.port, Username: lab.Username(), Auth: auth, KnownHosts: lab.KnownHosts()},
			netconf.WithKeys(render.Keys("ietf", nil)), netconf.WithSettleAfterHello(100*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	probe := func(d crashDevice) int {
		s := tg.dial(t, d)
		defer s.Close(context.Background())
		id, err := strconv.Atoi(s.SessionID())
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	// Other packages' tests share the lab and open sessions of their own,
	// which only ever add to a count; so an apply is tried up to three
	// times, each with services of its own, and each device must have shown
	// exactly one session at least once. Two sessions per run (a plan's and
	// an apply's) can never look like one.
	seenOne := map[string]bool{}
	counts := map[string][]int{}
	for try := 0; try < 3 && len(seenOne) < len(tg.devices); try++ {
		repo := crashRepo(t, tg, 3100+rand.IntN(800))
		state := t.TempDir()
		args := []string{"--auto-approve", "--state", state, "--known-hosts", lab.KnownHosts(), "--settle-after-hello", "100ms"}
		t.Cleanup(func() {
			// Remove what the test created: the services go, the next apply
			// deletes what netrecon created.
			os.RemoveAll(filepath.Join(repo, "services"))
			if code, out, errs := netrecon(t, append([]string{"apply", repo}, args...)...); code != 0 {
				t.Errorf("clean-up apply: exit %d\n%s%s", code, out, errs)
			}
		})
		before := map[string]int{}
		for _, d := range tg.devices {
			before[d.name] = probe(d)
		}
		if code, out, errs := netrecon(t, append([]string{"apply", repo}, args...)...); code != 0 {
			t.Fatalf("apply: exit %d\n%s%s", code, out, errs)
		}
		for _, d := range tg.devices {
			n := probe(d) - before[d.name] - 1
			counts[d.name] = append(counts[d.name], n)
			if n == 1 {
				seenOne[d.name] = true
			}
			if st := deviceState(t, tg, repo, d); st != "new" {
				t.Errorf("%s is %s after the apply", d.name, st)
			}
		}
	}
	for _, d := range tg.devices {
		if !seenOne[d.name] {
			t.Errorf("%s: the applies opened %v sessions, want 1 (plan and apply share it)", d.name, counts[d.name])
		}
	}
}

// lockedBuffer is a bytes.Buffer safe for writers in several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
