package daemon

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/schema"
)

// editOnLock is a session that lets a test change the device by hand right
// before apply's lock: the one moment between plan and apply that no real
// server produces on demand.
type editOnLock struct {
	reconcile.Device
	edit func()
}

func (e editOnLock) Lock(ctx context.Context, target string) error {
	e.edit()
	return e.Device.Lock(ctx, target)
}

func TestDeviceChangedBetweenPlanAndApplyIsReplannedNotFailed(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	var armed atomic.Bool
	var once sync.Once
	d := l.start(Options{Dialer: func(in *schema.Intent, c Credentials) reconcile.Dialer {
		inner := l.dialer(in, c)
		return reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
			s, err := inner.Dial(ctx, dev)
			if err != nil || dev.Name != "pe1-tyo" {
				return s, err
			}
			return editOnLock{s, func() {
				if armed.Load() {
					once.Do(func() { handEdit(t, l, "pe1-tyo") })
				}
			}}, nil
		})
	}})
	ctx := context.Background()
	if p := d.SyncOnce(ctx, "test"); len(p.Applied) != 3 {
		t.Fatalf("first pass: %+v", p)
	}
	l.commit("acme", map[string]string{acme: strings.Replace(l.read(acme), "Tokyo HQ", "Tokyo HQ 2", 1)})
	armed.Store(true)
	p := d.SyncOnce(ctx, "test")
	ds := d.devices["pe1-tyo"]
	if len(p.Applied) != 0 || DeviceState(ds.State) != StateBackoff || ds.Failures != 0 || !strings.Contains(ds.LastError, "changed since the plan") {
		t.Fatalf("stale plan: pass %+v, device %+v", p, ds)
	}
	if p := d.SyncOnce(ctx, "test"); !slices.Equal(p.Applied, []string{"pe1-tyo"}) {
		t.Fatalf("re-plan: %+v", p)
	}
	l.assertConverged()
}
