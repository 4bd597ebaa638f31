package plan

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/netrecon/netrecon/configtree"
)

// Mode says what the plan compared the intent with.
type Mode string

const (
	// Offline compares two revisions of the intent; no device is read.
	Offline Mode = "offline"
	// Live compares the intent with the devices' running configuration.
	Live Mode = "live"
)

// Plan is the set of changes that brings devices to the intent.
type Plan struct {
	Mode Mode
	Base Source // Offline: the revision compared with; Live: empty
	Head Source // the intent revision the plan brings devices to
	// Devices are the devices the plan looked at, sorted by name; devices
	// without changes are kept so a reader sees what was considered.
	Devices []*Device
	// At is the moment the desired state is for, when the intent schedules
	// services (metadata.activate/deactivate); zero: the intent as written.
	At time.Time
	// Boundaries are what the head does later by itself (offline plans):
	// at each moment a scheduled service starts or stops, the changes from
	// the state before it. Sorted, soonest first.
	Boundaries []Boundary
	// Held are the services left out because they wait for manual steps
	// (reconcile/schedule.StepGate): planned as absent until each of their
	// steps is marked done. Sorted by service.
	Held []HeldService
}

// HeldService is a service its open manual steps keep from being
// configured.
type HeldService struct {
	Service string
	Steps   []string // sorted
}

// HeldServices lists held (service → its holding steps) sorted by service.
func HeldServices(held map[string][]string) []HeldService {
	out := make([]HeldService, 0, len(held))
	for s, steps := range held {
		out = append(out, HeldService{Service: s, Steps: slices.Sorted(slices.Values(steps))})
	}
	slices.SortFunc(out, func(a, b HeldService) int { return strings.Compare(a.Service, b.Service) })
	return out
}

// Boundary is the change a scheduled service's start or stop brings.
type Boundary struct {
	At         time.Time // in the zone the intent wrote it in
	Activate   []string  // services that start, sorted
	Deactivate []string  // services that stop, sorted
	Devices    []*Device // the devices those services render on, sorted
}

// Source names a revision of the intent repo.
type Source struct {
	Rev    string   // as the user gave it ("main", "HEAD~1"); "" for the work tree
	Commit string   // full commit ID; "" for the work tree
	Dirty  []string // work tree only: intent files that differ from HEAD
}

func (s Source) String() string {
	switch {
	case s.Commit == "":
		return "work tree"
	case s.Rev != "" && !strings.HasPrefix(s.Commit, s.Rev):
		return fmt.Sprintf("%s (%s)", s.Rev, short(s.Commit))
	}
	return short(s.Commit)
}

// Device is the plan of one device.
type Device struct {
	Name     string
	Platform string
	Changes  []Change
	// Err is set when the device could not be planned (unreachable, bad
	// credentials, a reply that does not parse); it then has no changes.
	Err error
	// Fingerprint identifies the managed live configuration the plan was
	// computed against (Live only), so apply can refuse a stale plan.
	Fingerprint string
	// Adopted are nodes the intent renders that the device already held and
	// that netrecon did not create (Live only): applying shares them with
	// the device, and removing the service later keeps them. They change
	// nothing on the device.
	Adopted []configtree.Held
	// Kept are pre-existing nodes the intent no longer renders (Live only):
	// they stay on the device, since netrecon did not create them.
	Kept []configtree.Held
	// Claimed are nodes a service starts rendering that other services
	// render already (Held.Holders): they now go only with the last of them.
	// They change nothing on the device.
	Claimed []configtree.Held
}

// Change is one step of a device's plan, with the reason a reviewer reads.
type Change struct {
	configtree.Change
	Reason string
}

// Summary counts a plan's changes.
type Summary struct {
	Devices int // devices with at least one change
	Failed  int // devices that could not be planned
	Create  int
	Update  int
	Delete  int
	// Adopted and Kept count pre-existing nodes the plan shares with the
	// devices or leaves on them; they change nothing on a device.
	Adopted int
	Kept    int
}

// HasChanges reports whether applying the plan would change any device.
func (s Summary) HasChanges() bool { return s.Create+s.Update+s.Delete > 0 }

// Summary counts the plan's changes.
func (p *Plan) Summary() Summary {
	var s Summary
	for _, d := range p.Devices {
		if d.Err != nil {
			s.Failed++
			continue
		}
		if len(d.Changes) > 0 {
			s.Devices++
		}
		s.Adopted += len(d.Adopted)
		s.Kept += len(d.Kept)
		for _, c := range d.Changes {
			switch c.Action {
			case configtree.Create:
				s.Create++
			case configtree.Update:
				s.Update++
			case configtree.Delete:
				s.Delete++
			}
		}
	}
	return s
}

// Device returns the plan of the named device, or nil.
func (p *Plan) Device(name string) *Device {
	i, ok := slices.BinarySearchFunc(p.Devices, name, func(d *Device, n string) int { return strings.Compare(d.Name, n) })
	if !ok {
		return nil
	}
	return p.Devices[i]
}

// Services returns the services a device's changes belong to, sorted.
func (d *Device) Services() []string {
	var out []string
	for _, c := range d.Changes {
		out = append(out, c.Owners...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// DiffDevice plans one device: the changes that turn from into to. from's
// owners decide what may be deleted (see configtree.Diff); reason explains each
// change in the plan's mode.
func DiffDevice(name, platform string, from, to *configtree.Tree, mode Mode) *Device {
	if from == nil {
		from = configtree.New()
	}
	if to == nil {
		to = configtree.New()
	}
	d := &Device{Name: name, Platform: platform}
	for _, c := range configtree.Diff(from, to) {
		d.Changes = append(d.Changes, Change{Change: c, Reason: reason(c, mode)})
	}
	if mode == Offline {
		// Between revisions from is the base's desired tree, whose owners
		// are the services that rendered each node. (Live, from's owners
		// are what netrecon created: the planner asks the ownership record.)
		d.Claimed = configtree.Claimed(from, to)
	}
	return d
}

func reason(c configtree.Change, mode Mode) string {
	who := strings.Join(c.Owners, ", ")
	switch {
	case mode == Live && c.Action == configtree.Create:
		return "missing on the device; rendered by " + who
	case mode == Live && c.Action == configtree.Update:
		return "live value differs from the intent of " + who
	case mode == Live && c.Action == configtree.Delete:
		return "owned by netrecon and no longer rendered (was " + who + ")"
	case c.Action == configtree.Create:
		return "rendered by " + who
	case c.Action == configtree.Update:
		return "changed by " + who
	default:
		return "no longer rendered by " + who
	}
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
