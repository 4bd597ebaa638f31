package daemon

import (
	"fmt"
	"strconv"
	"time"

	"github.com/netrecon/netrecon/reconcile/journal"
)

// DeviceState is where a device stands after the last pass that looked at it.
type DeviceState string

const (
	// StateInSync: the device's managed configuration equals the intent.
	StateInSync DeviceState = "in-sync"
	// StateApplied: the last pass changed the device to the intent.
	StateApplied DeviceState = "applied"
	// StateDrift: managed nodes differ by a hand edit and the policy is report.
	StateDrift DeviceState = "drift"
	// StateDeferred: a guard held the change back; retried next pass.
	StateDeferred DeviceState = "deferred"
	// StateFailing: the last attempt failed; retried after a back-off.
	StateFailing DeviceState = "failing"
	// StateBackoff: skipped this pass, waiting for its back-off to end.
	StateBackoff DeviceState = "backoff"
	// StateUnknown: not looked at yet.
	StateUnknown DeviceState = "unknown"
)

// DeviceStatus is one device in the status API, mapped from the device's
// journal.DeviceState (what the daemon keeps between passes) by toDeviceStatus.
type DeviceStatus struct {
	Name  string      `json:"name"`
	State DeviceState `json:"state"`
	// Commit is the intent commit last applied to or checked against the device.
	Commit string `json:"commit,omitempty"`
	// Failures counts consecutive failed attempts; 0 after a success.
	Failures  int       `json:"failures,omitempty"`
	LastError string    `json:"lastError,omitempty"`
	NextRetry time.Time `json:"nextRetry,omitzero"`
	// Deferred says which guard held the device back, and why.
	Deferred *Deferral `json:"deferred,omitempty"`
	// DriftNodes counts managed nodes changed by hand (seen in the last pass).
	DriftNodes int       `json:"driftNodes,omitempty"`
	Services   []string  `json:"services,omitempty"`
	Changed    time.Time `json:"changed,omitzero"` // when State last changed
}

// Deferral is a guard's reason to hold a device back.
type Deferral struct {
	Device     string    `json:"device"`
	Guard      string    `json:"guard"`
	Reason     string    `json:"reason"`
	RetryAfter time.Time `json:"retryAfter,omitzero"`
}

// ServiceStatus is a service instance in the status API: in sync when every
// device it renders to is.
type ServiceStatus struct {
	Name    string      `json:"name"`
	State   DeviceState `json:"state"`
	Devices []string    `json:"devices"`
}

// PassReason says what started a pass.
type PassReason string

const (
	ReasonStart   PassReason = "start"   // Run's first pass
	ReasonTick    PassReason = "tick"    // the poll interval
	ReasonRetry   PassReason = "retry"   // a device's back-off or a guard's retry time ended
	ReasonWebhook PassReason = "webhook" // a push to the branch
	ReasonAPI     PassReason = "api"     // POST /api/v1/runs
	ReasonOnce    PassReason = "once"    // serve --once
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

// PassStatus summarises one reconcile pass; the journal keeps it as a
// journal.Pass.
type PassStatus struct {
	ID       string     `json:"id"`
	Reason   PassReason `json:"reason"`
	Started  time.Time  `json:"started"`
	Finished time.Time  `json:"finished,omitzero"`
	Head     string     `json:"head,omitempty"`   // the branch head fetched
	Commit   string     `json:"commit,omitempty"` // the commit reconciled to
	// RunIDs are the journal runs the pass's applies recorded.
	RunIDs  []string `json:"runIds,omitempty"`
	Applied []string `json:"applied,omitempty"`
	Failed  []string `json:"failed,omitempty"`
	Drift   []string `json:"drift,omitempty"`  // drift reported, left in place
	Healed  []string `json:"healed,omitempty"` // drift healed
	Error   string   `json:"error,omitempty"`
}

// Status is GET /api/v1/status: version 1 of the daemon's status document.
type Status struct {
	Version  int             `json:"version"`
	Branch   string          `json:"branch"`
	Head     string          `json:"head,omitempty"`   // last fetched
	Commit   string          `json:"commit,omitempty"` // reconciled to (last good)
	Ready    bool            `json:"ready"`
	LastSync time.Time       `json:"lastSync,omitzero"`
	LastPass *PassStatus     `json:"lastPass,omitempty"`
	Devices  []DeviceStatus  `json:"devices"`
	Services []ServiceStatus `json:"services"`
	Alarms   []Alarm         `json:"alarms"`
	Deferred []Deferral      `json:"deferred"`
	// Sessions is each device's pooled session (docs/daemon.md).
	Sessions []SessionStatus `json:"sessions"`
}

// rank orders states from best to worst, for a service's summary state.
func (s DeviceState) rank() int {
	switch s {
	case StateInSync, StateApplied:
		return 0
	case StateUnknown:
		return 1
	case StateDeferred:
		return 2
	case StateDrift:
		return 3
	case StateBackoff:
		return 4
	case StateFailing:
		return 5
	}
	return 1
}

// toDeviceStatus is the API's view of a device's state.
func toDeviceStatus(s journal.DeviceState, services []string) DeviceStatus {
	return DeviceStatus{Name: s.Device, State: DeviceState(s.State), Commit: s.Commit, Failures: s.Failures,
		LastError: s.LastError, NextRetry: s.NextRetry, Deferred: deferralOf(s), DriftNodes: s.DriftNodes,
		Services: services, Changed: s.Changed}
}

func deferralOf(s journal.DeviceState) *Deferral {
	if s.DeferGuard == "" {
		return nil
	}
	return &Deferral{Device: s.Device, Guard: s.DeferGuard, Reason: s.DeferReason, RetryAfter: s.DeferUntil}
}

func alarmOf(a journal.Alarm) Alarm {
	return Alarm{Kind: AlarmKind(a.Kind), Device: a.Device, Commit: a.Commit, Message: a.Message, Failures: a.Failures, Since: a.Since}
}

func passStatus(p journal.Pass) PassStatus {
	ps := PassStatus{ID: p.ID, Reason: PassReason(p.Reason), Started: p.Started, Finished: p.Finished, Head: p.Head,
		Commit: p.Commit, Applied: p.Applied, Failed: p.Failed, Drift: p.Drift, Healed: p.Healed, Error: p.Error}
	for _, id := range p.RunIDs {
		ps.RunIDs = append(ps.RunIDs, fmt.Sprint(id))
	}
	return ps
}

func journalPass(p PassStatus) journal.Pass {
	jp := journal.Pass{ID: p.ID, Reason: string(p.Reason), Started: p.Started, Finished: p.Finished, Head: p.Head,
		Commit: p.Commit, Applied: p.Applied, Failed: p.Failed, Drift: p.Drift, Healed: p.Healed, Error: p.Error}
	for _, s := range p.RunIDs {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil {
			jp.RunIDs = append(jp.RunIDs, journal.RunID(id))
		}
	}
	return jp
}
