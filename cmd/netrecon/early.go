package main

import (
	"context"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/session"
	"github.com/netrecon/netrecon/schema"
)

// earlySessions opens a live run's first sessions as soon as the inventory
// is loaded, and lets the services be validated while those sessions settle.
//
// On the lab's 2 cores the SSH set-up of ten sessions takes the whole machine
// for about 160 ms (lab/NOTES.md): validating the services beside it only
// made it longer, by as much as it saved. The pause after each hello
// (--settle-after-hello, 100 ms for yuma123) leaves the CPU idle, though. So
// the load waits until every early session has its hello, or its dial failed,
// or helloWait passed, and validates then.
//
// Before the services are loaded nobody knows which devices the plan reads,
// so it dials the first --concurrency devices of the selection in name order.
// A device the plan then does not read keeps its session, unused, until the
// run ends; an intent that does not load closes them all at once.
type earlySessions struct {
	pool   *session.Pool
	dialer reconcile.Dialer
	// final is the whole intent once it loaded: the sessions read their
	// devices' secret references from it (dialConfig.services).
	final atomic.Pointer[schema.Intent]

	mu      sync.Mutex
	waiting map[string]bool // devices whose hello has not come
	settled chan struct{}   // closed when waiting is empty
}

// helloWait bounds the load's wait for the early sessions' hellos: a device
// that answers slowly delays the validation by at most this.
const helloWait = time.Second

// earlyDevices are the devices earlySessions dials: the first concurrency
// of names, in name order.
func earlyDevices(inv *schema.Intent, names []string, concurrency int) []*schema.Device {
	names = slices.Compact(slices.Sorted(slices.Values(names)))
	var out []*schema.Device
	for _, n := range names {
		if len(out) == concurrency {
			break
		}
		if d := inv.Device(n); d != nil {
			out = append(out, d)
		}
	}
	return out
}

// startEarly dials devs in the background with c, for the dialer of inv's
// devices, and returns once each has its hello or failed, helloWait passed,
// or ctx ended.
func startEarly(ctx context.Context, inv *schema.Intent, devs []*schema.Device, c dialConfig, concurrency int) (*earlySessions, error) {
	pool, err := session.New(session.Options{Concurrency: concurrency})
	if err != nil {
		return nil, err
	}
	// The load goes on with the service types while these sessions dial
	// (it may drop a type the sandbox refuses): they read a copy. An
	// intent whose types change that way does not load, and closes them.
	inv = &schema.Intent{Types: maps.Clone(inv.Types), Devices: inv.Devices}
	e := &earlySessions{pool: pool, waiting: map[string]bool{}, settled: make(chan struct{})}
	for _, d := range devs {
		e.waiting[d.Name] = true
	}
	if len(e.waiting) == 0 {
		close(e.settled)
	}
	c.services = func() *schema.Intent {
		if in := e.final.Load(); in != nil {
			return in
		}
		return inv
	}
	c.onHello = e.arrived
	inner := dialer(inv, c)
	e.dialer = reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
		s, err := inner.Dial(ctx, dev)
		if err != nil {
			e.arrived(dev.Name) // no hello will come
		}
		return s, err
	})
	pool.Prefetch(e.dialer, nil, devs)
	t := time.NewTimer(helloWait)
	defer t.Stop()
	select {
	case <-e.settled:
	case <-t.C:
	case <-ctx.Done():
	}
	return e, nil
}

// arrived notes that device's session has its hello, or will have none.
func (e *earlySessions) arrived(device string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.waiting[device] {
		return
	}
	delete(e.waiting, device)
	if len(e.waiting) == 0 {
		close(e.settled)
	}
}
