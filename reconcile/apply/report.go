package apply

import (
	"log/slog"
	"time"
)

// Event is one step of an apply, for progress displays.
type Event struct {
	Device  string
	Phase   string // "dial", "lock-wait", "locked", "edited", "committed", "checked" (read back equal), "verified", "confirmed", "cancelled", "undone", "failed", "skipped", "mixed", "done", "rollback-failed"
	Elapsed time.Duration
	Detail  string
	// Retry is, for lock-wait, the pause before the next attempt; HeldBy
	// the holder of the lock, as the device named it.
	Retry  time.Duration
	HeldBy string
}

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
