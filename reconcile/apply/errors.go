package apply

import (
	"fmt"
	"strings"
	"time"

	"github.com/netrecon/netrecon/configtree"
)

// StalePlanError is a device whose managed running configuration changed
// since the plan was made: apply executes exactly the plan, so it refuses and
// the caller re-plans (DESIGN invariant 2).
type StalePlanError struct {
	Device    string
	Want, Got string // fingerprints: the plan's, the device's now
}

func (e *StalePlanError) Error() string {
	return fmt.Sprintf("%s: running configuration changed since the plan was made (fingerprint %.12s, plan has %.12s): re-plan", e.Device, e.Got, e.Want)
}

// LockTimeoutError is a lock another session kept past Options.LockWait.
// HeldBy is the holder's session id, when the device said: look it up in the
// device's netconf-state sessions to see who it is.
type LockTimeoutError struct {
	Device string
	Target string // datastore
	HeldBy string // session id
	Holder string // for people: "session 12 (alice from 192.0.2.7, logged in ...)"
	Waited time.Duration
}

func (e *LockTimeoutError) Error() string {
	who := e.Holder
	switch {
	case who != "":
	case e.HeldBy != "":
		who = "session " + e.HeldBy
	default:
		who = "another session"
	}
	return fmt.Sprintf("%s: lock %s: held by %s; gave up after waiting %s", e.Device, e.Target, who, e.Waited.Round(time.Millisecond))
}

// VerifyError is a device whose running configuration, read back after the
// commit, is not what the plan meant: the device answered ok and did something
// else (or nothing). Diff turns what the device holds into what was meant.
type VerifyError struct {
	Device string
	Diff   []configtree.Change
}

func (e *VerifyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: verify: running differs from the planned result after commit (differences: %d", e.Device, len(e.Diff))
	for i, c := range e.Diff {
		if i == 3 {
			b.WriteString(", ...")
			break
		}
		fmt.Fprintf(&b, "; %c %s", c.Action, c.Path)
	}
	b.WriteString("): the device accepted the commit but did not apply it")
	return b.String()
}

// DeferredError is a device a guard did not let netrecon change now
// (operator logged in, freeze window). Nothing was changed; try later.
type DeferredError struct {
	Device string
	Reason string
	Err    error // the guard's error
}

func (e *DeferredError) Error() string {
	return fmt.Sprintf("%s: deferred: %s", e.Device, e.Reason)
}

func (e *DeferredError) Unwrap() error { return e.Err }

// RolledBackError is the error of a device that was rolled back only because
// another device of its atomic change set failed: nothing is wrong with it,
// and a caller (the daemon) retries it without the failing device.
type RolledBackError struct {
	Device string
	Cause  string // the device that failed
}

func (e *RolledBackError) Error() string {
	return fmt.Sprintf("%s: rolled back because %s failed", e.Device, e.Cause)
}

// StoppedError is the error of a device rolled back because the apply was
// stopped (Options.Stop) before the confirm step: nothing is wrong with it.
// Err is what the step in flight answered when it was cut short, if any.
type StoppedError struct {
	Device string
	Err    error
}

func (e *StoppedError) Error() string {
	return fmt.Sprintf("%s: stopped before the confirm step", e.Device)
}

func (e *StoppedError) Unwrap() error { return e.Err }

// MixedError is a device that a rollback could not bring back: after
// cancel-commit (or discard) and an undo from the pre-image, running read back
// is still not what it was before the run (DESIGN invariant 6). Such a device
// runs neither its old nor its new configuration and needs a human. Diff turns
// what the device holds into its pre-image.
type MixedError struct {
	Device string
	Diff   []configtree.Change
	Reason string // why it was rolled back
	Err    error  // what failed on the way (cancel, undo), if anything
}

// mixedNodesShown bounds the nodes an error message lists.
const mixedNodesShown = 10

func (e *MixedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: mixed: running is not its configuration before the run after cancel and undo (differences: %d", e.Device, len(e.Diff))
	for i, c := range e.Diff {
		if i == mixedNodesShown {
			b.WriteString(", ...")
			break
		}
		fmt.Fprintf(&b, "; %c %s", c.Action, c.Path)
	}
	b.WriteString("): check the device by hand")
	if e.Reason != "" {
		b.WriteString("; rolled back because " + e.Reason)
	}
	if e.Err != nil {
		b.WriteString("; " + e.Err.Error())
	}
	return b.String()
}

func (e *MixedError) Unwrap() error { return e.Err }
