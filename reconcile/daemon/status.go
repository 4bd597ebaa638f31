package daemon

import (
	"strconv"
	"time"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/reconcile/journal"
)

// DeviceState is where a device stands after the last pass that looked at
// it, as the journal keeps it. The API adds two states of its own, computed
// when it answers: pending (in sync with an older commit than the target)
// and paused (an operator's).
type DeviceState string

const (
	// StateInSync: the device's managed configuration equals the intent.
	StateInSync DeviceState = api.StateInSync
	// StateApplied: the last pass changed the device to the intent.
	StateApplied DeviceState = api.StateApplied
	// StateDrift: managed nodes differ by a hand edit and the policy is report.
	StateDrift DeviceState = api.StateDrift
	// StateDeferred: a guard held the change back; retried next pass.
	StateDeferred DeviceState = api.StateDeferred
	// StateFailing: the last attempt failed; retried after a back-off.
	StateFailing DeviceState = api.StateFailing
	// StateBackoff: skipped this pass, waiting for its back-off to end.
	StateBackoff DeviceState = api.StateBackoff
	// StateUnknown: not looked at yet.
	StateUnknown DeviceState = api.StateUnknown
)

// Deferral is a guard's reason to hold a device back.
type Deferral struct {
	Device     string
	Guard      string
	Reason     string
	RetryAfter time.Time // zero: the next pass
}

// PassReason says what started a pass.
type PassReason string

const (
	ReasonStart   PassReason = "start"   // Run's first pass
	ReasonTick    PassReason = "tick"    // the poll interval
	ReasonRetry   PassReason = "retry"   // a device's back-off or a guard's retry time ended
	ReasonWebhook PassReason = "webhook" // a push to the branch
	ReasonAPI     PassReason = "api"     // POST /api/v1/runs
	ReasonAction  PassReason = "action"  // an operator action (heal, resume, accept-history)
	ReasonOnce    PassReason = "once"    // serve --once
	// ReasonSchedule: a scheduled service's activate or deactivate came.
	ReasonSchedule PassReason = "schedule"
)

// passScope says which devices a pass plans.
type passScope int

const (
	// scopeAll plans every device not waiting out a back-off or a guard.
	scopeAll passScope = iota
	// scopeWaiting plans only the devices whose wait ended: the others were
	// compared with this commit at the last pass and wait for the poll
	// interval (or a trigger). A pass woken for a back-off has this scope.
	scopeWaiting
)

// PassOutcome is how a pass ended, worst first: the pass itself failed, a
// device failed, a guard deferred a device, drift was reported, or every
// device it looked at is in sync.
type PassOutcome string

const (
	PassRunning  PassOutcome = "running"
	PassError    PassOutcome = "error"
	PassFailed   PassOutcome = "failed"
	PassDeferred PassOutcome = "deferred"
	PassDrift    PassOutcome = "drift"
	PassOK       PassOutcome = "ok"
)

// PassStatus is one reconcile pass as the daemon keeps it; the journal keeps
// it as a journal.Pass, the API shows it as an api.Pass.
type PassStatus struct {
	ID       string
	Reason   PassReason
	Started  time.Time
	Finished time.Time
	Head     string // the branch head fetched
	Commit   string // the commit reconciled to
	// RunIDs are the journal runs the pass's applies recorded.
	RunIDs   []string
	Applied  []string
	Failed   []string
	Drift    []string // drift reported, left in place
	Healed   []string // drift healed
	Deferred []string // held back by a guard
	Error    string
}

// Outcome is how the pass ended.
func (p *PassStatus) Outcome() PassOutcome {
	switch {
	case p.Finished.IsZero():
		return PassRunning
	case p.Error != "":
		return PassError
	case len(p.Failed) > 0:
		return PassFailed
	case len(p.Deferred) > 0:
		return PassDeferred
	case len(p.Drift) > 0:
		return PassDrift
	}
	return PassOK
}

// rank orders states from best to worst, for a service's summary state.
func rank(s string) int {
	for i, st := range api.States {
		if st == s {
			return i
		}
	}
	return len(api.States)
}

func deferralOf(s journal.DeviceState) *Deferral {
	if s.DeferGuard == "" {
		return nil
	}
	return &Deferral{Device: s.Device, Guard: s.DeferGuard, Reason: s.DeferReason, RetryAfter: s.DeferUntil}
}

func alarmOf(a journal.Alarm) Alarm {
	return Alarm{ID: a.ID, Kind: AlarmKind(a.Kind), Device: a.Device, Commit: a.Commit, Message: a.Message, Failures: a.Failures,
		Since: a.Since, AckBy: a.AckBy, AckReason: a.AckReason, AckAt: a.AckAt}
}

func passStatus(p journal.Pass) PassStatus {
	ps := PassStatus{ID: p.ID, Reason: PassReason(p.Reason), Started: p.Started, Finished: p.Finished, Head: p.Head,
		Commit: p.Commit, Applied: p.Applied, Failed: p.Failed, Drift: p.Drift, Healed: p.Healed, Deferred: p.Deferred, Error: p.Error}
	for _, id := range p.RunIDs {
		ps.RunIDs = append(ps.RunIDs, strconv.FormatInt(int64(id), 10))
	}
	return ps
}

func journalPass(p PassStatus) journal.Pass {
	jp := journal.Pass{ID: p.ID, Reason: string(p.Reason), Started: p.Started, Finished: p.Finished, Head: p.Head,
		Commit: p.Commit, Applied: p.Applied, Failed: p.Failed, Drift: p.Drift, Healed: p.Healed, Deferred: p.Deferred, Error: p.Error}
	for _, s := range p.RunIDs {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil {
			jp.RunIDs = append(jp.RunIDs, journal.RunID(id))
		}
	}
	return jp
}
