package apply

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netrecon/netrecon/drivers/netsim"
	"github.com/netrecon/netrecon/reconcile/journal"
)

// hook is a Reporter that calls fn on every event, after recording it.
type hook struct {
	recorder
	fn func(Event)
}

func (h *hook) Event(e Event) {
	h.recorder.Event(e)
	h.fn(e)
}

// whenPending calls fn once d holds a pending confirmed commit: the commit
// is reported before it is sent.
func whenPending(t *testing.T, d *netsim.Device, fn func()) {
	go func() {
		deadline := time.Now().Add(10 * time.Second)
		for !d.ConfirmPending() && time.Now().Before(deadline) {
			<-time.After(5 * time.Millisecond) // poll interval
		}
		fn()
	}()
}

// A stop before the confirm step rolls the whole change set back, devices
// that committed included, and reads as a stop, not as a failure.
func TestStopBeforeConfirmRollsBackAll(t *testing.T) {
	env := newSim(t, 3)
	desired := desiredFor(t, env, "stop")
	p := planLive(t, env, desired, nil)
	before := running(env)
	last := env.sim.Device("pe003")
	last.SwallowReplyAt("commit", 1) // pe003 commits but never says so
	stop, stopNow := context.WithCancel(t.Context())
	defer stopNow()
	// Stop once pe001 and pe002 verified their commits and pe003's is out.
	seen := map[string]bool{}
	var once sync.Once
	rep := &hook{fn: func(e Event) {
		// Apply serialises Reporter calls: seen needs no lock.
		seen[e.Device+" "+e.Phase] = true
		if seen["pe001 checked"] && seen["pe002 checked"] && seen["pe003 committed"] {
			once.Do(func() { whenPending(t, last, stopNow) })
		}
	}}
	j := openJournal(t)
	res, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: env.dialer, Journal: j, Reporter: rep, Stop: stop})
	if err == nil || res == nil {
		t.Fatalf("apply: %v", err)
	}
	if !res.Stopped || res.Outcome != journal.RolledBack || res.Abandoned {
		t.Fatalf("stopped %v, abandoned %v, outcome %s", res.Stopped, res.Abandoned, res.Outcome)
	}
	for _, d := range res.Devices {
		if !errors.As(d.Err, new(*StoppedError)) || !innocent(d.Err) {
			t.Errorf("%s: error %v, want *StoppedError", d.Name, d.Err)
		}
		if want := d.Name != "pe003"; d.Committed != want {
			t.Errorf("%s: committed %v, want %v", d.Name, d.Committed, want)
		}
	}
	sameConfig(t, env, before, "after the stop")
	for _, d := range env.sim.Devices() {
		if d.ConfirmPending() {
			t.Errorf("%s: a confirmed commit is still pending", d.Name)
		}
	}
	run, err := j.Run(t.Context(), res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range run.Devices {
		if d.Phase != journal.Cancelled {
			t.Errorf("journal: %s ended %s, want cancelled", d.Device, d.Phase)
		}
	}
	noSessions(t, env)
}

// A stop while a lock is waited for ends the wait at once: nothing was
// committed, and nothing claims it was.
func TestStopDuringLockWait(t *testing.T) {
	env := newSim(t, 2)
	desired := desiredFor(t, env, "stop")
	p := planLive(t, env, desired, nil)
	held := env.sim.Device("pe002")
	if err := held.HoldLock(netsim.Candidate); err != nil {
		t.Fatal(err)
	}
	defer held.ReleaseLock()
	stop, stopNow := context.WithCancel(t.Context())
	defer stopNow()
	rep := &hook{fn: func(e Event) {
		if e.Phase == "lock-wait" {
			stopNow()
		}
	}}
	start := time.Now()
	res, _ := Apply(t.Context(), p, desired, env.inv, Options{Dialer: env.dialer, Journal: openJournal(t), Reporter: rep, Stop: stop, LockWait: time.Minute})
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the stop took %s: the lock wait was not cut short", took)
	}
	if !res.Stopped || res.Outcome != journal.RolledBack {
		t.Fatalf("stopped %v, outcome %s", res.Stopped, res.Outcome)
	}
	for _, d := range res.Devices {
		if d.Committed {
			t.Errorf("%s: says committed", d.Name)
		}
	}
	for _, d := range env.sim.Devices() {
		if d.RPCCount("commit") != 0 {
			t.Errorf("%s: a commit was sent", d.Name)
		}
	}
}

// Once the confirm step has begun, a stop waits for it: stopping there
// would split the change set.
func TestStopDuringConfirmFinishes(t *testing.T) {
	env := newSim(t, 3)
	desired := desiredFor(t, env, "stop")
	p := planLive(t, env, desired, nil)
	stop, stopNow := context.WithCancel(t.Context())
	defer stopNow()
	rep := &hook{fn: func(e Event) {
		if e.Phase == "verified" {
			stopNow()
		}
	}}
	res, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: env.dialer, Journal: openJournal(t), Reporter: rep, Stop: stop})
	if err != nil || res.Outcome != journal.Applied || res.Stopped {
		t.Fatalf("outcome %s, stopped %v: %v", res.Outcome, res.Stopped, err)
	}
	sameConfig(t, env, desired, "after a stop in the confirm step")
}

// The hard cancel, with Stop set, abandons even the rollback: the devices
// keep their unconfirmed commits for the confirm-timeout, the run stays
// unfinished, and Recover settles it.
func TestHardCancelLeavesRunForRecovery(t *testing.T) {
	env := newSim(t, 2)
	desired := desiredFor(t, env, "hard")
	p := planLive(t, env, desired, nil)
	before := running(env)
	last := env.sim.Device("pe002")
	last.SwallowReplyAt("commit", 1)
	hard, cancel := context.WithCancel(t.Context())
	defer cancel()
	stop, stopNow := context.WithCancel(hard)
	defer stopNow()
	rep := &hook{fn: func(e Event) {
		if e.Device == "pe002" && e.Phase == "committed" {
			whenPending(t, last, cancel) // both at once: no time to roll back
		}
	}}
	j := openJournal(t)
	res, err := Apply(hard, p, desired, env.inv, Options{Dialer: env.dialer, Journal: j, Reporter: rep, Stop: stop, ConfirmTimeout: time.Minute})
	if err == nil || res == nil || !res.Abandoned {
		t.Fatalf("abandoned %v: %v", res != nil && res.Abandoned, err)
	}
	pending := 0
	for _, d := range env.sim.Devices() {
		if d.ConfirmPending() {
			pending++
		}
	}
	if pending == 0 {
		t.Fatal("no device holds an unconfirmed commit: the hard cancel waited for the rollback")
	}
	unfinished, err := j.Unfinished(t.Context())
	if err != nil || len(unfinished) != 1 || unfinished[0].ID != res.RunID {
		t.Fatalf("unfinished runs %v (%v), want run %v", unfinished, err, res.RunID)
	}
	if _, err := Recover(t.Context(), j, env.dialer, env.inv, nil); err != nil {
		t.Fatal(err)
	}
	sameConfig(t, env, before, "after recovery")
	if unfinished, _ := j.Unfinished(t.Context()); len(unfinished) != 0 {
		t.Errorf("run still unfinished after recovery")
	}
}

// A device's error names it once: the driver's errors name it already
// ("pe002: pe002: lock candidate" helped nobody).
func TestDeviceNamedOnce(t *testing.T) {
	env := newSim(t, 2)
	desired := desiredFor(t, env, "once")
	p := planLive(t, env, desired, nil)
	env.sim.Device("pe002").DropConnectionAt("lock", 1)
	res, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: env.dialer, Journal: openJournal(t)})
	if err == nil {
		t.Fatal("apply succeeded although pe002 dropped the connection at lock")
	}
	for _, d := range res.Devices {
		if d.Err != nil && strings.Contains(d.Err.Error(), d.Name+": "+d.Name+": ") {
			t.Errorf("%s named twice: %v", d.Name, d.Err)
		}
	}
	if !strings.HasPrefix(err.Error(), "pe002: lock candidate: ") && !strings.Contains(err.Error(), "\npe002: lock candidate: ") {
		t.Errorf("error %q does not say pe002: lock candidate", err)
	}
}

// Device by device too, a stop that leaves every device back is rolled
// back, not failed: the devices did nothing wrong.
func TestStopNoAtomic(t *testing.T) {
	env := newSim(t, 2)
	desired := desiredFor(t, env, "stop")
	p := planLive(t, env, desired, nil)
	for _, d := range env.sim.Devices() {
		if err := d.HoldLock(netsim.Candidate); err != nil {
			t.Fatal(err)
		}
		defer d.ReleaseLock()
	}
	stop, stopNow := context.WithCancel(t.Context())
	defer stopNow()
	rep := &hook{fn: func(e Event) {
		if e.Phase == "lock-wait" {
			stopNow()
		}
	}}
	res, _ := Apply(t.Context(), p, desired, env.inv, Options{Dialer: env.dialer, Journal: openJournal(t), Reporter: rep, Stop: stop, NoAtomic: true})
	if !res.Stopped || res.Outcome != journal.RolledBack {
		t.Fatalf("stopped %v, outcome %s, devices %+v", res.Stopped, res.Outcome, res.Devices)
	}
}
