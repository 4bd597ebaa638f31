package daemon

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/bench/intentgen"
	"github.com/netrecon/netrecon/reconcile/guard"
)

// TestSoak runs the daemon over 200 simulated devices and 2,000 services
// while commits land and faults come and go: held locks, rejected commits,
// dropped connections, operators logged in, slow devices and hand edits.
// At the end every device equals the intent, no device is half-applied, the
// journal has no unfinished run, the goroutines are back to the baseline, and
// every fault class produced its alarm, deferral or heal.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak test: about a minute")
	}
	baseline := runtime.NumGoroutine()
	start := time.Now()
	cfg := intentgen.Config{Services: 2000, Devices: 200, Seed: 1}
	if raceEnabled {
		cfg = intentgen.Config{Services: 400, Devices: 40, Seed: 1}
	}
	files := intentgen.Files(cfg)
	l := newLab(t, files)
	rcv := newReceiver(t)
	rcv.ch = make(chan Notification, 10000)
	l.cfg.Notify.URL = rcv.srv.URL
	l.cfg.Concurrency = 20
	l.cfg.PollInterval = Duration(time.Second)
	l.cfg.Retry = RetryConfig{Base: Duration(10 * time.Millisecond), Max: Duration(100 * time.Millisecond)}
	l.cfg.Guards.OperatorSessions = &OperatorSessionsConfig{Allow: []string{"netrecon"}}
	d := l.start(Options{})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	// On a failure, stop the loop before the cleanups close the daemon.
	t.Cleanup(func() {
		stop()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
		}
	})

	// The first pass (Run starts one) brings all 200 devices to the intent.
	first := waitFinished(t, d, func(p *PassStatus) bool { return p.Reason == "start" })
	t.Logf("first pass: %d devices applied, %d failed in %s", len(first.Applied), len(first.Failed), first.Finished.Sub(first.Started).Round(time.Millisecond))
	// The machine's load sets how long a pass takes, so no wall deadline
	// here is fixed: a pass may take many times the slowest one measured
	// (the first, which applies every device, to begin with), and what the
	// test checks is bounded in passes, which load does not change.
	slowest := first.Finished.Sub(first.Started)
	pass := func() *PassStatus {
		t.Helper()
		p := waitPassWithin(t, d, d.Trigger("soak"), max(30*time.Second, 10*slowest))
		slowest = max(slowest, p.Finished.Sub(p.Started))
		return p
	}
	// The alarm needs AfterFailures failed passes; the back-off (100 ms at
	// most) ends long before the next triggered pass. Far more passes than
	// that without the alarm is a broken alarm, not a slow machine.
	const maxPasses = 20

	var circuits []string
	for name, data := range files {
		if strings.HasPrefix(name, "services/") && strings.Contains(string(data), "kind: attachment-circuit") {
			circuits = append(circuits, name)
		}
	}
	sort.Strings(circuits)
	rng := rand.New(rand.NewPCG(1, 2))
	devices := l.sim.Devices()
	pick := func(n int) []string {
		var out []string
		for _, i := range rng.Perm(len(devices))[:n] {
			out = append(out, devices[i].Name)
		}
		return out
	}

	seen := map[string][]string{} // fault class → devices where it showed
	show := func(class, dev string) {
		if !slices.Contains(seen[class], dev) {
			seen[class] = append(seen[class], dev)
		}
	}
	var faults []fault
	passes := 0
	for round := range 5 {
		roundStart := time.Now()
		_, before := l.desired()
		// A commit changes 25 circuits somewhere in the network.
		changes := map[string]string{}
		for _, i := range rng.Perm(len(circuits))[:25] {
			changes[circuits[i]] = strings.Replace(l.read(circuits[i]), "description: ", fmt.Sprintf("description: r%d ", round), 1)
		}
		l.commit(fmt.Sprintf("round %d", round), changes)

		// Faults on devices that will have changes (a hand edit makes sure).
		// Failures are kept for two passes, so they reach the alarm threshold.
		_, desired := l.desired()
		// The drift device is one the commit does not concern: on the others
		// a hand edit is overtaken by the intent change, which is no drift.
		var devs []string
		for _, name := range pick(len(devices)) {
			unchanged := before[name] != nil && before[name].Equal(desired[name])
			if (len(devs) == 4) == unchanged {
				devs = append(devs, name)
			}
			if len(devs) == 6 {
				break
			}
		}
		faults = []fault{{"lock", devs[0]}, {"reject", devs[1]}, {"drop", devs[2]}, {"operator", devs[3]}, {"drift", devs[4]}, {"slow", devs[5]}}
		for _, f := range faults {
			dev := l.sim.Device(f.dev)
			handEditOf(t, l, f.dev, desired)
			switch f.class {
			case "lock":
				dev.HoldLock("candidate")
			case "reject":
				dev.RejectCommit("commit check failed: soak")
			case "drop":
				dev.DropConnectionAt("commit", 1)
			case "operator":
				dev.AddOperatorSession("alice")
			case "slow":
				dev.SetLatency(20 * time.Millisecond)
			}
		}
		// Passes until the failing devices have failed often enough for
		// their alarm (a device backing off is skipped by a pass that comes
		// sooner than its back-off ends).
		for i := 0; ; i++ {
			pass()
			passes++
			st := d.Status()
			// The loop's own passes (every second) count too.
			var ps []PassStatus
			for _, p := range finishedPasses(t, d) {
				if p.Started.After(roundStart) {
					ps = append(ps, p)
				}
			}
			in := func(dev string, list func(PassStatus) []string) bool {
				return slices.ContainsFunc(ps, func(p PassStatus) bool { return slices.Contains(list(p), dev) })
			}
			for _, f := range faults {
				ds := deviceStatus(st, f.dev)
				switch {
				case f.class == "lock" && ds.State == api.StateFailing && strings.Contains(ds.LastError, "lock"):
					show("lock", f.dev)
				case f.class == "reject" && ds.State == api.StateFailing && strings.Contains(ds.LastError, "commit check failed"):
					show("reject", f.dev)
				case f.class == "drop" && in(f.dev, func(p PassStatus) []string { return p.Failed }):
					show("drop", f.dev)
				case f.class == "operator" && ds.Deferral != nil && ds.Deferral.Guard == guard.NameOperatorSessions:
					show("operator", f.dev)
				case f.class == "drift" && in(f.dev, func(p PassStatus) []string { return p.Healed }):
					show("drift", f.dev)
				case f.class == "slow" && in(f.dev, func(p PassStatus) []string { return p.Applied }):
					show("slow", f.dev)
				}
			}
			// The drop fires once; arm it again for the next pass.
			for _, f := range faults {
				if f.class == "drop" {
					l.sim.Device(f.dev).DropConnectionAt("commit", 1)
				}
			}
			alarmed := true
			for _, f := range faults {
				if (f.class == "lock" || f.class == "reject") && !hasAlarm(st, AlarmDeviceFailing, f.dev) {
					alarmed = false
				}
			}
			if i >= 1 && alarmed {
				break
			}
			if i+1 >= maxPasses {
				t.Errorf("round %d: no alarm for the lock or reject fault within %d passes: %+v", round, maxPasses, st.Alarms)
				break
			}
		}
		clearFaults(l, faults)
	}

	// Faults gone: passes until everything is in sync and no alarm is left.
	for i := 1; ; i++ {
		p := pass()
		passes++
		st := d.Status()
		if len(p.Failed) == 0 && len(st.Alarms) == 0 && len(deferredOf(st)) == 0 && allInSync(st) {
			break
		}
		if i >= maxPasses {
			t.Fatalf("not converged %d passes after the faults cleared: pass %+v alarms %+v", maxPasses, p, st.Alarms)
		}
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(max(30*time.Second, 10*slowest)): // Run ends its pass in flight first
		t.Fatalf("Run did not stop within %s", max(30*time.Second, 10*slowest))
	}

	l.assertConverged()
	for _, dev := range l.sim.Devices() {
		if dev.ConfirmPending() {
			t.Errorf("%s: a confirmed commit is pending", dev.Name)
		}
	}
	if runs, err := d.Journal().Unfinished(context.Background()); err != nil || len(runs) != 0 {
		t.Errorf("unfinished runs: %v %v", len(runs), err)
	}
	for _, class := range []string{"lock", "reject", "drop", "operator", "drift", "slow"} {
		if len(seen[class]) == 0 {
			t.Errorf("fault class %s never showed in status", class)
		}
	}
	raised := map[string]int{}
	for range len(rcv.ch) {
		n := <-rcv.ch
		raised[n.Event+" "+string(n.Alarm.Kind)]++
	}
	t.Logf("%d passes in %s; faults seen %v; notifications %v", passes, time.Since(start).Round(time.Second), seen, raised)
	if raised["raised device-failing"] == 0 || raised["raised device-failing"] != raised["cleared device-failing"] {
		t.Errorf("device-failing alarms raised and cleared do not match: %v", raised)
	}

	d.Close()
	l.sim.Close()
	rcv.srv.Close()
	waitGoroutines(t, baseline)
}

type fault struct{ class, dev string }

func clearFaults(l *lab, faults []fault) {
	for _, f := range faults {
		dev := l.sim.Device(f.dev)
		dev.ReleaseLock()
		dev.ClearRejectCommit()
		dev.DropConnectionAt("commit", 0)
		dev.RemoveOperatorSession("alice")
		dev.SetLatency(0)
	}
}

func deviceStatus(st api.Status, name string) api.Device {
	for _, ds := range st.Devices {
		if ds.Name == name {
			return ds
		}
	}
	return api.Device{}
}

func hasAlarm(st api.Status, kind AlarmKind, dev string) bool {
	for _, a := range st.Alarms {
		if a.Kind == string(kind) && a.Device == dev {
			return true
		}
	}
	return false
}

func allInSync(st api.Status) bool {
	for _, ds := range st.Devices {
		if ds.State != api.StateInSync && ds.State != api.StateApplied {
			return false
		}
	}
	return true
}

// waitFinished polls for a finished pass that matches.
func waitFinished(t *testing.T, d *Daemon, match func(*PassStatus) bool) *PassStatus {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		for _, p := range finishedPasses(t, d) {
			if match(&p) {
				return &p
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no matching pass finished within 5 min")
	return nil
}

// finishedPasses returns the finished passes of the last 64 the journal
// holds, oldest first.
func finishedPasses(t *testing.T, d *Daemon) []PassStatus {
	t.Helper()
	jps, err := d.Journal().Passes(context.Background(), 64)
	if err != nil {
		t.Fatal(err)
	}
	var ps []PassStatus
	for _, jp := range slices.Backward(jps) {
		if !jp.Finished.IsZero() {
			ps = append(ps, passStatus(jp))
		}
	}
	return ps
}

// waitGoroutines polls until the goroutine count is back to baseline (a few
// of the runtime's and the test framework's may come and go).
func waitGoroutines(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= baseline+2 {
			t.Logf("goroutines: %d (baseline %d)", n, baseline)
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d, baseline %d:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
