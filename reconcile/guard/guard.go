package guard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/schema"
)

// Guard is one check made right before a device is changed, on the open
// session d that the change will use.
//
// Check returns nil when the change may go ahead, a *DeferredError when it
// must wait, or another error (a done ctx, a misuse such as a nil device),
// which must stop the change as well.
type Guard interface {
	Check(ctx context.Context, dev *schema.Device, d reconcile.Monitor) error
}

// Func adapts a function to Guard.
type Func func(ctx context.Context, dev *schema.Device, d reconcile.Monitor) error

// Check implements Guard.
func (f Func) Check(ctx context.Context, dev *schema.Device, d reconcile.Monitor) error {
	return f(ctx, dev, d)
}

// The guards' names, as DeferredError.Guard reports them (and status pages,
// metrics labels and logs show them).
const (
	NameMaintenance      = "maintenance"
	NameFreezeWindow     = "freeze-window"
	NameOperatorSessions = "operator-sessions"
	NameSNMPUsers        = "snmp-users"
)

// DeferredError is a device a guard held back: nothing was changed, try again
// later.
type DeferredError struct {
	Guard  string // which guard, e.g. NameFreezeWindow
	Device string
	Reason string // for people: "operator alice logged in (session 7 from 10.0.0.5)"
	// RetryAfter is when trying again makes sense (the end of a freeze
	// window, the next SNMP reading); zero when the guard cannot know (an
	// operator's session ends when they log out): use the caller's back-off.
	RetryAfter time.Duration
	// Err is why the guard could not tell, when it failed closed (an SNMP
	// agent that did not answer); nil for an ordinary deferral.
	Err error
}

func (e *DeferredError) Error() string {
	s := fmt.Sprintf("%s: deferred by guard %s: %s", e.Device, e.Guard, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry in %s)", e.RetryAfter.Round(time.Second))
	}
	return s
}

// Unwrap returns the cause of a guard that failed closed.
func (e *DeferredError) Unwrap() error { return e.Err }

// IsDeferred reports whether err holds a *DeferredError, and returns it.
func IsDeferred(err error) (*DeferredError, bool) {
	var d *DeferredError
	ok := errors.As(err, &d)
	return d, ok
}

// All runs guards in order and returns the first non-nil result: the first
// deferral wins and the guards after it are not run. That is on purpose:
// ordering the local checks (Maintenance, FreezeWindows) first means a device
// already held back for a cheap reason is not also asked over the network, and
// the reason reported is a stable one. A nil guard is an error, never skipped:
// a guard missing by mistake must not mean "go ahead".
func All(guards ...Guard) Guard {
	gs := slices.Clone(guards)
	return Func(func(ctx context.Context, dev *schema.Device, d reconcile.Monitor) error {
		for i, g := range gs {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("%s: guards: %w", deviceName(dev), context.Cause(ctx))
			}
			if g == nil {
				return fmt.Errorf("%s: guard %d of %d is nil", deviceName(dev), i+1, len(gs))
			}
			if err := g.Check(ctx, dev, d); err != nil {
				return err
			}
		}
		return nil
	})
}

// Maintenance defers a device the inventory marks maintenance: true.
func Maintenance() Guard {
	return Func(func(_ context.Context, dev *schema.Device, _ reconcile.Monitor) error {
		if dev == nil {
			return errNoDevice(NameMaintenance)
		}
		if dev.Maintenance {
			return &DeferredError{Guard: NameMaintenance, Device: dev.Name, Reason: "device in maintenance (inventory)"}
		}
		return nil
	})
}

func deviceName(dev *schema.Device) string {
	if dev == nil {
		return "(no device)"
	}
	return dev.Name
}

func errNoDevice(guard string) error {
	return fmt.Errorf("guard %s: no device given", guard)
}
