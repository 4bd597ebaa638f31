package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/pool"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/ownership"
	"github.com/netrecon/netrecon/reconcile/plan"
	"github.com/netrecon/netrecon/schema"
)

// PlanLive plans devices against their running configuration: per device,
// the managed subtrees (desired, and what the journal's ownership record
// says netrecon created or may restore) are read, the nodes netrecon created
// are marked as owned — only those may be deleted; configuration that was
// there before netrecon, or that humans added, is never planned away — and
// the live tree is diffed with the desired one (see diffLive). Each device's
// Fingerprint records the live state, so Apply can refuse a stale plan.
//
// devices names the devices to plan; nil means every device with desired
// configuration or a journal record. j may be nil (nothing owned).
// Devices are read with at most concurrency sessions at once (<= 0: the
// default of Apply). An unreachable device gets Device.Err and the others
// are still planned; the error is for bad arguments only.
func PlanLive(ctx context.Context, in *schema.Intent, desired map[string]*configtree.Tree, dialer reconcile.Dialer, j *journal.Journal, devices []string, concurrency int) (*plan.Plan, error) {
	if in == nil || dialer == nil {
		return nil, errors.New("plan live: intent and dialer are required")
	}
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	names := devices
	if names == nil {
		for _, d := range in.Devices {
			if desired[d.Name] != nil {
				names = append(names, d.Name)
				continue
			}
			r, err := record(ctx, j, d.Name)
			if err != nil {
				return nil, fmt.Errorf("plan live: %w", err)
			}
			if !r.IsZero() {
				names = append(names, d.Name)
			}
		}
	}
	names = slices.Clone(names)
	slices.Sort(names)
	names = slices.Compact(names)
	var unknown []error
	for _, n := range names {
		if in.Device(n) == nil {
			unknown = append(unknown, fmt.Errorf("plan live: device %q is not in the inventory", n))
		}
	}
	if err := errors.Join(unknown...); err != nil {
		return nil, err
	}
	p := &plan.Plan{Mode: plan.Live, Devices: make([]*plan.Device, len(names))}
	pool.Pool{Limit: concurrency}.Run(ctx, len(names), func(ctx context.Context, _, i int) {
		dev := in.Device(names[i])
		d, err := planDevice(ctx, dev, desired[dev.Name], dialer, j)
		if err != nil {
			d = &plan.Device{Name: dev.Name, Platform: dev.Platform, Err: err}
		}
		p.Devices[i] = d
	}, func(i int, err error) {
		dev := in.Device(names[i])
		p.Devices[i] = &plan.Device{Name: dev.Name, Platform: dev.Platform, Err: err}
	})
	return p, nil
}

func planDevice(ctx context.Context, dev *schema.Device, desired *configtree.Tree, dialer reconcile.Dialer, j *journal.Journal) (*plan.Device, error) {
	rec, err := record(ctx, j, dev.Name)
	if err != nil {
		return nil, err
	}
	filter, err := managedFilter(desired, rec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dev.Name, err)
	}
	live := configtree.New()
	if filter.Len() > 0 {
		live, err = readRunning(ctx, dialer, dev, filter)
		if err != nil {
			return nil, err
		}
	}
	d := diffLive(dev, live, desired, rec)
	d.Fingerprint = live.Fingerprint()
	return d, nil
}

// diffLive plans one device from its live configuration and the journal's
// ownership record: only what netrecon created may be deleted, pre-existing
// leaves it changed go back to their old values when no longer rendered, and
// pre-existing nodes the intent starts to render are listed as adopted.
func diffLive(dev *schema.Device, live, desired *configtree.Tree, rec ownership.Record) *plan.Device {
	if desired == nil {
		desired = configtree.New()
	}
	d := plan.DiffDevice(dev.Name, dev.Platform, rec.Mark(live), rec.Target(desired, live), plan.Live)
	for i := range d.Changes {
		c := &d.Changes[i]
		if c.Action != configtree.Update || rec.IsCreated(c.Path) {
			continue
		}
		who := strings.Join(c.Owners, ", ")
		switch {
		case rec.IsRestore(c.Path, desired):
			c.Reason = "no longer rendered (was " + who + "): restores the value it had before netrecon"
		case rec.Restore != nil && rec.Restore.Find(c.Path) != nil:
			c.Reason = "live value differs from the intent of " + who + " (pre-existing; its old value is restored on removal)"
		default:
			c.Reason = "pre-existing value taken over by " + who + "; restored on removal"
		}
	}
	d.Adopted = rec.Adopted(desired, live)
	d.Kept = rec.Kept(desired)
	d.Claimed = rec.Claimed(desired)
	return d
}

// readRunning reads the managed part of running on a session of its own.
func readRunning(ctx context.Context, dialer reconcile.Dialer, dev *schema.Device, filter *configtree.Tree) (_ *configtree.Tree, err error) {
	s, err := dialer.Dial(ctx, dev)
	if err != nil {
		return nil, fmt.Errorf("%s: dial: %w", dev.Name, err)
	}
	defer func() {
		if cerr := s.Close(context.WithoutCancel(ctx)); cerr != nil && err == nil && !errors.Is(cerr, netconf.ErrClosed) {
			err = fmt.Errorf("%s: close: %w", dev.Name, cerr)
		}
	}()
	live, err := s.GetConfig(ctx, netconf.Running, filter)
	if err != nil {
		return nil, fmt.Errorf("%s: get-config running: %w", dev.Name, err)
	}
	return live, nil
}
