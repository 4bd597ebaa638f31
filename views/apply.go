package views

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// ApplyResult is what an apply did, as views words it; cmd fills it from
// apply.Result, so that views needs no engine.
type ApplyResult struct {
	Outcome   string // the journal's: applied, no-changes, deferred, partial, rolled-back, mixed, failed
	Elapsed   time.Duration
	Stopped   bool // an operator stopped it before the confirm step
	Abandoned bool // stopped at once: the run is left for recovery
	Devices   []ApplyDevice
}

// ApplyDevice is one device of an ApplyResult.
type ApplyDevice struct {
	Name      string
	Phase     string // the last phase: confirmed, cancelled, undone, skipped, failed, mixed, rollback-failed, ...
	Changes   int    // the plan's changes for the device
	Committed bool   // the device answered ok to the commit (it may be rolled back since)
	AtFault   bool   // it failed by itself, not merely with its change set
	Deferred  string // why a guard held the device back, if one did
}

// ApplySummary says in one line what an apply did, and only what it did:
// changes that were never committed are not "rolled back", and a device on
// neither side is never folded into "rolled back". It starts in lower case
// and has no final period (the journal keeps it; cmd capitalises).
func ApplySummary(r ApplyResult) string {
	var (
		applied, back, unsent tally
		mixed, unknown        []string
		failed                []string
	)
	for _, d := range r.Devices {
		switch {
		case d.Phase == "confirmed":
			applied.add(d)
		case d.Phase == "mixed":
			mixed = append(mixed, d.Name)
		case d.Phase == "rollback-failed":
			unknown = append(unknown, d.Name)
		case d.Committed:
			back.add(d)
		default:
			unsent.add(d)
		}
		if d.AtFault && d.Phase != "confirmed" {
			failed = append(failed, d.Name)
		}
	}
	took := Duration(r.Elapsed)
	var b strings.Builder
	switch {
	case r.Abandoned:
		fmt.Fprintf(&b, "stopped at once after %s: the run is left unfinished for recovery", took)
		if open := slices.Concat(back.names, unknown); len(open) > 0 {
			fmt.Fprintf(&b, "; unconfirmed commits on %s roll back at their confirm-timeout", strings.Join(open, ", "))
		}
	case r.Outcome == "no-changes":
		return "no changes"
	case r.Outcome == "deferred":
		var held []string
		for _, d := range r.Devices {
			if d.Deferred != "" {
				held = append(held, d.Name+" ("+d.Deferred+")")
			}
		}
		return "deferred, nothing changed: held back by a guard: " + strings.Join(held, "; ")
	case r.Outcome == "applied":
		fmt.Fprintf(&b, "applied %s in %s", applied, took)
	case r.Outcome == "partial":
		fmt.Fprintf(&b, "applied %s of %s in %s", applied, Count(len(r.Devices), "device"), took)
		if back.devices()+unsent.devices() > 0 {
			b.WriteString("; " + backAndUnsent(back, unsent))
		}
	case r.Outcome == "mixed":
		// Never "rolled back" for a device that was not: name them first.
		fmt.Fprintf(&b, "mixed after %s: %s on neither the old nor the new configuration (check by hand); back on the old: %s",
			took, strings.Join(mixed, ", "), orNone(slices.Concat(back.names, unsent.names)))
	case r.Outcome == "rolled-back":
		lead := "rolled back"
		if back.devices() == 0 {
			lead = "nothing applied"
		}
		if r.Stopped {
			lead = "stopped before the confirm step"
		}
		fmt.Fprintf(&b, "%s in %s: %s", lead, took, backAndUnsent(back, unsent))
	default:
		fmt.Fprintf(&b, "%s after %s", r.Outcome, took)
		if applied.devices() > 0 {
			fmt.Fprintf(&b, "; applied %s", applied)
		}
		if back.devices()+unsent.devices() > 0 {
			b.WriteString("; " + backAndUnsent(back, unsent))
		}
	}
	if r.Abandoned {
		unknown = nil // named above, as left to their confirm-timeout
	}
	if r.Stopped && r.Outcome != "rolled-back" && !r.Abandoned {
		// Device by device, a stop ends those not yet confirmed.
		return "stopped: " + b.String() + tail(unknown, failed)
	}
	return b.String() + tail(unknown, failed)
}

// tail names the devices in an unknown state and those that failed.
func tail(unknown, failed []string) string {
	var b strings.Builder
	if len(unknown) > 0 {
		fmt.Fprintf(&b, "; state unknown (check by hand): %s", strings.Join(unknown, ", "))
	}
	if len(failed) > 0 {
		fmt.Fprintf(&b, "; failed: %s", strings.Join(failed, ", "))
	}
	return b.String()
}

// tally counts the changes and devices of one kind of ending.
type tally struct {
	changes int
	names   []string
}

func (t *tally) add(d ApplyDevice) {
	t.changes += d.Changes
	t.names = append(t.names, d.Name)
}

func (t tally) devices() int { return len(t.names) }

// String is "12 changes on 3 devices".
func (t tally) String() string {
	return Count(t.changes, "change") + " on " + Count(t.devices(), "device")
}

func backAndUnsent(back, unsent tally) string {
	var parts []string
	if back.devices() > 0 {
		parts = append(parts, back.String()+" committed and rolled back")
	}
	if unsent.devices() > 0 {
		parts = append(parts, unsent.String()+" not committed")
	}
	return strings.Join(parts, ", ")
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
