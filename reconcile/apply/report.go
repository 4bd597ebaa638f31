package apply

import (
	"log/slog"
	"time"
)

// Event is one step of an apply, for progress displays.
//
// A device's event comes as it takes the phase, journaled already. A batch
// event (Device "", Phase BatchPrefix + the batch's name, Detail the number
// of devices) comes just before one journal transaction for many devices:
// "journal:locked", "journal:edited", "journal:committed" (with the
// pre-images), "journal:verified", "journal:confirmed", "journal:outcome"
// (failed devices after phase 2, or failed and mixed ones after a
// rollback), "journal:owned" (the ownership records after the confirming
// commits), "journal:rollback" (the rollback steps, before any is sent). At
// a batch event every device has finished the step before it and none has
// been journaled for the batch: the crash tests strike there.
type Event struct {
	Device  string
	Phase   string // "dial", "lock-wait", "locked", "edited", "committed", "checked" (read back equal), "verified", "confirmed", "cancelled", "undone", "failed", "skipped", "mixed", "done", "rollback-failed", or a batch
	Elapsed time.Duration
	Detail  string
	// Retry is, for lock-wait, the pause before the next attempt; HeldBy
	// the holder of the lock, as the device named it.
	Retry  time.Duration
	HeldBy string
}

// BatchPrefix begins the Phase of a batch event.
const BatchPrefix = "journal:"

// Reporter receives progress events. Apply serialises its calls.
type Reporter interface {
	Event(Event)
}

// LogReporter reports events as slog lines; a nil Logger discards.
type LogReporter struct {
	Logger *slog.Logger
}

// Event implements Reporter.
func (r LogReporter) Event(e Event) {
	if r.Logger == nil {
		return
	}
	// Durations in seconds, as every netrecon log line has them.
	r.Logger.Info("apply", "device", e.Device, "phase", e.Phase, "elapsed_seconds", e.Elapsed.Seconds(), "detail", e.Detail)
}
