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
	// Verified, when set, keeps each device's last in-sync plan and what it
	// was computed from, so that a device whose record and reply did not
	// change is not decoded, parsed and diffed again (see Verified). Rev
	// names the intent revision Desired was rendered from; Verified is
	// used only with a Rev.
	Verified *Verified
	Rev      string
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
	// The records of all the devices in one query: one read of the
	// journal per pass, not one per device.
	var stored map[string]journal.StoredRecord
	var storedErr error
	if o.Journal != nil {
		stored, storedErr = o.Journal.StoredOwnerships(ctx, names)
	}
	verified := o.Verified
	if o.Rev == "" {
		verified = nil
	}
	pool.Pool{Limit: o.Concurrency}.Run(ctx, len(names), func(ctx context.Context, _, i int) {
		dev := in.Device(names[i])
		var d *plan.Device
		err := storedErr
		if err == nil {
			d, err = planDevice(ctx, dev, o.Desired[dev.Name], o.Dialer, stored[dev.Name], verified, o.Rev)
		}
		if err != nil {
			verified.Forget(dev.Name)
			d = &plan.Device{Name: dev.Name, Platform: dev.Platform, Err: err}
		}
		p.Devices[i] = d
	}, func(i int, err error) {
		dev := in.Device(names[i])
		verified.Forget(dev.Name)
		p.Devices[i] = &plan.Device{Name: dev.Name, Platform: dev.Platform, Err: err}
	})
	return p, nil
}

// planDevice plans one device from its stored ownership record and a read of
// its managed subtrees. With v, a device verified in sync under the same
// revision, desired tree and record is read again and, when its reply is the
// same byte for byte, its verified plan is the answer (Verified).
func planDevice(ctx context.Context, dev *schema.Device, desired *configtree.Tree, dialer reconcile.Dialer, sr journal.StoredRecord, v *Verified, rev string) (*plan.Device, error) {
	known, hit := v.lookup(dev.Name, rev, desired, sr.Digest)
	var rec ownership.Record
	var filter *configtree.Tree
	decoded := false
	decode := func() error {
		r, err := sr.Decode()
		if err != nil {
			return fmt.Errorf("%s: %w", dev.Name, err)
		}
		rec, decoded = r, true
		return nil
	}
	if hit {
		filter = known.filter
	} else {
		if err := decode(); err != nil {
			return nil, err
		}
		f, err := rec.Filter(desired)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dev.Name, err)
		}
		filter = f
	}
	live := configtree.New()
	var reply reconcile.Digest
	if filter.Len() > 0 {
		var err error
		live, reply, err = readRunning(ctx, dialer, dev, filter, known.reply)
		if err != nil {
			return nil, err
		}
		if live == nil {
			// The same reply as the verified plan's: the same plan.
			return known.plan(), nil
		}
	}
	if !decoded {
		if err := decode(); err != nil {
			return nil, err
		}
	}
	d := diffLive(dev, live, desired, rec)
	d.Fingerprint = live.Fingerprint()
	v.store(dev.Name, verifiedEntry{rev: rev, desired: desired, record: sr.Digest, reply: reply, filter: filter}, d)
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

// readRunning reads the managed part of running on a session of its own,
// with the reply's digest when the session gives one. A reply whose digest
// is known (not zero) is not parsed: the tree is nil.
func readRunning(ctx context.Context, dialer reconcile.Dialer, dev *schema.Device, filter *configtree.Tree, known reconcile.Digest) (_ *configtree.Tree, _ reconcile.Digest, err error) {
	s, err := dialer.Dial(ctx, dev)
	if err != nil {
		return nil, reconcile.Digest{}, reconcile.DeviceErr(dev.Name, "dial", err)
	}
	defer func() {
		if cerr := s.Close(context.WithoutCancel(ctx)); cerr != nil && err == nil && !errors.Is(cerr, reconcile.ErrSessionLost) {
			err = reconcile.DeviceErr(dev.Name, "close", cerr)
		}
	}()
	var live *configtree.Tree
	var sum reconcile.Digest
	if r, ok := s.(reconcile.DigestReader); ok {
		live, sum, err = r.GetConfigDigest(ctx, reconcile.Running, filter, known)
	} else {
		live, err = s.GetConfig(ctx, reconcile.Running, filter)
	}
	if err != nil {
		return nil, reconcile.Digest{}, reconcile.DeviceErr(dev.Name, "get-config running", err)
	}
	if live == nil && (known == (reconcile.Digest{}) || sum != known) {
		return nil, reconcile.Digest{}, reconcile.DeviceErr(dev.Name, "get-config running", errors.New("no configuration in a reply that is not the known one"))
	}
	return live, sum, nil
}
