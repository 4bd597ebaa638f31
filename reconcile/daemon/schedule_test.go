package daemon

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/drivers/netsim"
	"github.com/netrecon/netrecon/reconcile/guard"
)

// scheduledService is an attachment circuit on pe1-tyo whose description
// marks it on the device; activate and deactivate are YAML values ("" omits).
func scheduledService(activate, deactivate string) string {
	s := "apiVersion: netrecon.io/v1\nkind: attachment-circuit\nmetadata:\n  name: acme-sched\n  customer: acme\n"
	if activate != "" {
		s += "  activate: " + activate + "\n"
	}
	if deactivate != "" {
		s += "  deactivate: " + deactivate + "\n"
	}
	return s + "spec:\n  device: pe1-tyo\n  interface: ge-0/0/9\n  vlan: 777\n  description: SCHED-777\n  ipv4: 100.64.77.1/30\n"
}

const schedFile = "services/acme/acme-sched.yaml"

func simDevice(t *testing.T, l *lab, name string) *netsim.Device {
	t.Helper()
	for _, d := range l.sim.Devices() {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no simulated device %s", name)
	return nil
}

func hasSched(d *netsim.Device) bool { return strings.Contains(d.Running().String(), "SCHED-777") }

// watch polls the device until its config's presence of the service is
// want, failing if that happens before not, or not by deadline; it returns
// when it saw the change.
func watch(t *testing.T, dev *netsim.Device, want bool, notBefore, deadline time.Time) time.Time {
	t.Helper()
	for {
		now := time.Now()
		if hasSched(dev) == want {
			if now.Before(notBefore) {
				t.Fatalf("the service became %v on the device at %s, %s before its boundary", want, now.Format(time.RFC3339Nano), notBefore.Sub(now))
			}
			return now
		}
		if now.After(deadline) {
			t.Fatalf("the service still not %v on the device %s after its boundary", want, now.Sub(notBefore))
		}
		time.Sleep(5 * time.Millisecond) // a polling interval, not a wait for an event
	}
}

// A service merged with activate 3 s ahead is applied within one second of
// it and not before, by the daemon's own timer (the poll interval is an
// hour); its deactivate removes it the same way.
func TestScheduledServiceAppliesAtItsBoundaries(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	d := l.start(Options{})
	runDaemon(t, d)
	if p := waitPass(t, d, d.Trigger(ReasonAPI)); p.Error != "" || len(p.Failed) != 0 {
		t.Fatalf("first pass: %+v", p)
	}
	dev := simDevice(t, l, "pe1-tyo")
	tokyo := time.FixedZone("", 9*3600)
	// Whole seconds: the RFC 3339 form is written to the second.
	activate := time.Now().Add(4 * time.Second).Truncate(time.Second).In(tokyo)
	deactivate := activate.Add(2 * time.Second)
	l.commit("a scheduled circuit", map[string]string{schedFile: scheduledService(activate.Format(time.RFC3339), deactivate.Format(time.RFC3339))})
	if p := waitPass(t, d, d.Trigger(ReasonWebhook)); p.Error != "" || len(p.Failed) != 0 {
		t.Fatalf("merge pass: %+v", p)
	}
	if time.Now().Before(activate) && hasSched(dev) {
		t.Fatal("the merge pass applied the service before its activate")
	}
	st := d.Status()
	if len(st.Upcoming) != 2 || !st.Upcoming[0].At.Equal(activate) || st.Upcoming[0].Action != api.ScheduleActivate || st.Upcoming[1].Action != api.ScheduleDeactivate {
		t.Errorf("status upcoming = %+v, want activate at %s then deactivate", st.Upcoming, activate)
	}
	seen := watch(t, dev, true, activate, activate.Add(time.Second))
	t.Logf("applied %s after activate", seen.Sub(activate))
	gone := watch(t, dev, false, deactivate, deactivate.Add(time.Second))
	t.Logf("removed %s after deactivate", gone.Sub(deactivate))
	if st := d.Status(); len(st.Upcoming) != 0 {
		t.Errorf("status upcoming after both boundaries = %+v, want none", st.Upcoming)
	}
}

// A boundary inside a freeze window waits for the window's end; the freeze
// wins over the schedule.
func TestBoundaryInFreezeAppliesWhenItEnds(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	now := time.Date(2026, 12, 23, 12, 0, 0, 0, time.UTC)
	clock := newTestClock(now)
	l.cfg.Guards.FreezeWindows = []guard.WindowSpec{{Name: "xmas", Start: "2026-12-24T00:00:00Z", End: "2026-12-27T00:00:00Z"}}
	d := l.start(Options{Now: clock.Now})
	if p := d.SyncOnce(context.Background(), "test"); len(p.Failed) != 0 || len(p.Applied) == 0 {
		t.Fatalf("first pass, before the freeze: %+v", p)
	}
	l.commit("a circuit for christmas day", map[string]string{schedFile: scheduledService(`"2026-12-25 09:00 Asia/Tokyo"`, "")})
	dev := simDevice(t, l, "pe1-tyo")
	if p := d.SyncOnce(context.Background(), "test"); len(p.Failed) != 0 || hasSched(dev) {
		t.Fatalf("before activate: %+v, on the device: %v", p, hasSched(dev))
	}
	activate := time.Date(2026, 12, 25, 0, 0, 0, 0, time.UTC)
	if w, ok := d.boundaryWait(); !ok || w < activate.Sub(now) || w > activate.Sub(now)+time.Second {
		t.Errorf("boundary wait = %s (%v), want about %s", w, ok, activate.Sub(now))
	}
	clock.Set(activate.Add(time.Minute))
	p := d.SyncOnce(context.Background(), "test")
	if hasSched(dev) || len(p.Applied) != 0 || len(p.Deferred) == 0 {
		t.Fatalf("activate inside the freeze: applied %v, deferred %v, on the device %v; want deferred", p.Applied, p.Deferred, hasSched(dev))
	}
	clock.Set(time.Date(2026, 12, 27, 0, 0, 1, 0, time.UTC))
	if p := d.SyncOnce(context.Background(), "test"); !hasSched(dev) || len(p.Failed) != 0 {
		t.Fatalf("after the freeze: %+v, on the device %v", p, hasSched(dev))
	}
}

// testClock is a clock a test sets while the daemon's goroutines (the
// session pool's upkeep) read it.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock(t time.Time) *testClock { return &testClock{t: t} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}
