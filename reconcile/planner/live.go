package planner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/pool"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/ownership"
	"github.com/netrecon/netrecon/reconcile/plan"
	"github.com/netrecon/netrecon/schema"
)

// DefaultConcurrency is how many devices Live reads at once unless told.
const DefaultConcurrency = 10

// LiveOptions say what a live plan compares and how it reads the devices.
type LiveOptions struct {
	Intent  *schema.Intent              // required: the inventory
	Desired map[string]*configtree.Tree // the desired tree per device (render.Build)
	Dialer  reconcile.Dialer            // required
	// Journal says what netrecon owns on each device; nil: nothing.
	Journal *journal.Journal
	// Devices names the devices to plan; nil means every device with
	// desired configuration or a journal record.
	Devices []string
	// Concurrency bounds the sessions open at once (<= 0: DefaultConcurrency).
	Concurrency int
}

// Live plans devices against their running configuration: per device, the
// managed subtrees (ownership.Record.Filter: desired, and what the journal's
// record says netrecon created or may restore) are read, the nodes netrecon
// created are marked as owned — only those may be deleted; configuration
// that was there before netrecon, or that humans added, is never planned
// away — and the live tree is diffed with the desired one (see diffLive).
// Each device's Fingerprint records the live state, so apply can refuse a
// stale plan.
//
// An unreachable device gets Device.Err and the others are still planned;
// the error is for bad options only.
func Live(ctx context.Context, o LiveOptions) (*plan.Plan, error) {
	in := o.Intent
	if in == nil || o.Dialer == nil {
		return nil, errors.New("plan live: intent and dialer are required")
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	names := o.Devices
	if names == nil {
		for _, d := range in.Devices {
			if o.Desired[d.Name] != nil {
				names = append(names, d.Name)
				continue
			}
			r, err := record(ctx, o.Journal, d.Name)
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
	pool.Pool{Limit: o.Concurrency}.Run(ctx, len(names), func(ctx context.Context, _, i int) {
		dev := in.Device(names[i])
		d, err := planDevice(ctx, dev, o.Desired[dev.Name], o.Dialer, o.Journal)
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
	filter, err := rec.Filter(desired)
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

// record returns what the journal says netrecon holds on device (the zero
// Record without a journal).
func record(ctx context.Context, j *journal.Journal, device string) (ownership.Record, error) {
	if j == nil {
		return ownership.Record{}, nil
	}
	r, _, err := j.Ownership(ctx, device)
	if err != nil {
		return ownership.Record{}, fmt.Errorf("%s: journal: ownership: %w", device, err)
	}
	return r, nil
}

// readRunning reads the managed part of running on a session of its own.
func readRunning(ctx context.Context, dialer reconcile.Dialer, dev *schema.Device, filter *configtree.Tree) (_ *configtree.Tree, err error) {
	s, err := dialer.Dial(ctx, dev)
	if err != nil {
		return nil, reconcile.DeviceErr(dev.Name, "dial", err)
	}
	defer func() {
		if cerr := s.Close(context.WithoutCancel(ctx)); cerr != nil && err == nil && !errors.Is(cerr, reconcile.ErrSessionLost) {
			err = reconcile.DeviceErr(dev.Name, "close", cerr)
		}
	}()
	live, err := s.GetConfig(ctx, reconcile.Running, filter)
	if err != nil {
		return nil, reconcile.DeviceErr(dev.Name, "get-config running", err)
	}
	return live, nil
}
