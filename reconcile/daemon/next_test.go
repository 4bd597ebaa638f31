package daemon

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/netrecon/netrecon/reconcile/journal"
)

// TestNext is the table of a device's state changes: what a pass concluded
// (result) moves the device from one state to the next, with the alarms to
// raise and clear.
func TestNext(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	before := now.Add(-time.Hour)
	ru := rules{afterFailures: 2, backoff: func(n int) time.Duration { return time.Duration(n) * time.Minute }}
	lockErr := errors.New("lock held by session 7")
	failing1 := journal.DeviceState{Device: "pe1", State: "failing", Commit: "c0", Failures: 1, LastError: "x", NextRetry: before, Changed: before}
	clearAll := []AlarmKind{AlarmDeviceFailing, AlarmDrift, AlarmDeviceMixed}
	descr := journal.Node{Kind: journal.NodeDrift, Action: "update", Path: "/interfaces/interface[name=ge-0/0/1.101]/description",
		Owners: []string{"acme-tokyo-hq"}, Live: "by hand", Desired: "ACME", Leaf: true}
	pendingNode := journal.Node{Kind: journal.NodePending, Action: "create", Path: "/interfaces/interface[name=ge-0/0/2]", Owners: []string{"globex-osaka"}}
	for _, tc := range []struct {
		name string
		st   journal.DeviceState
		r    devResult
		want transition
	}{{
		name: "unknown to in-sync",
		st:   journal.DeviceState{Device: "pe1", State: "unknown", Changed: before},
		r:    devResult{state: StateInSync, commit: "c1"},
		want: transition{state: journal.DeviceState{Device: "pe1", State: "in-sync", Commit: "c1", Changed: now}, clear: clearAll},
	}, {
		name: "in-sync stays, Changed kept",
		st:   journal.DeviceState{Device: "pe1", State: "in-sync", Commit: "c1", Changed: before},
		r:    devResult{state: StateInSync, commit: "c1"},
		want: transition{state: journal.DeviceState{Device: "pe1", State: "in-sync", Commit: "c1", Changed: before}, clear: clearAll},
	}, {
		name: "failing recovers by an apply: count, error and retry reset",
		st:   failing1,
		r:    devResult{state: StateApplied, commit: "c1", driftNodes: 2},
		want: transition{state: journal.DeviceState{Device: "pe1", State: "applied", Commit: "c1", Changed: now}, clear: clearAll},
	}, {
		name: "first failure: back-off, no alarm yet",
		st:   journal.DeviceState{Device: "pe1", State: "in-sync", Commit: "c0", Changed: before},
		r:    devResult{state: StateFailing, err: lockErr, commit: "c1"},
		want: transition{state: journal.DeviceState{Device: "pe1", State: "failing", Commit: "c0", Failures: 1,
			LastError: lockErr.Error(), NextRetry: now.Add(time.Minute), Changed: now}},
	}, {
		name: "second failure: longer back-off and the alarm",
		st:   failing1,
		r:    devResult{state: StateFailing, err: lockErr, commit: "c1"},
		want: transition{state: journal.DeviceState{Device: "pe1", State: "failing", Commit: "c0", Failures: 2,
			LastError: lockErr.Error(), NextRetry: now.Add(2 * time.Minute), Changed: before},
			raise: []Alarm{{Kind: AlarmDeviceFailing, Device: "pe1", Commit: "c1", Failures: 2, Message: lockErr.Error()}}},
	}, {
		name: "mixed: alarmed at the first failure",
		st:   journal.DeviceState{Device: "pe1", State: "applied", Changed: before},
		r:    devResult{state: StateFailing, err: lockErr, mixed: true, commit: "c1"},
		want: transition{state: journal.DeviceState{Device: "pe1", State: "failing", Failures: 1,
			LastError: lockErr.Error(), NextRetry: now.Add(time.Minute), Changed: now},
			raise: []Alarm{{Kind: AlarmDeviceMixed, Device: "pe1", Commit: "c1", Failures: 1, Message: lockErr.Error()}}},
	}, {
		name: "stale plan: backoff to re-plan at once, no failure counted",
		st:   journal.DeviceState{Device: "pe1", State: "in-sync", Commit: "c0", Changed: before},
		r:    devResult{state: StateBackoff, replan: true, err: errors.New("changed since the plan"), commit: "c1"},
		want: transition{state: journal.DeviceState{Device: "pe1", State: "backoff", Commit: "c0",
			LastError: "changed since the plan", NextRetry: now, Changed: now}},
	}, {
		name: "waiting out a back-off: failures and retry time kept",
		st:   failing1,
		r:    devResult{state: StateBackoff, commit: "c1"},
		want: transition{state: journal.DeviceState{Device: "pe1", State: "backoff", Commit: "c0", Failures: 1,
			LastError: "x", NextRetry: before, Changed: now}},
	}, {
		name: "deferred by a guard",
		st:   journal.DeviceState{Device: "pe1", State: "in-sync", Changed: before},
		r: devResult{state: StateDeferred, commit: "c1",
			deferred: &Deferral{Device: "pe1", Guard: "operator-sessions", Reason: "alice", RetryAfter: now.Add(time.Minute)}},
		want: transition{state: journal.DeviceState{Device: "pe1", State: "deferred", Changed: now,
			DeferGuard: "operator-sessions", DeferReason: "alice", DeferUntil: now.Add(time.Minute)}},
	}, {
		name: "deferral ends when the device is looked at again",
		st:   journal.DeviceState{Device: "pe1", State: "deferred", DeferGuard: "freeze", DeferReason: "r", Changed: before},
		r:    devResult{state: StateApplied, commit: "c1"},
		want: transition{state: journal.DeviceState{Device: "pe1", State: "applied", Commit: "c1", Changed: now}, clear: clearAll},
	}, {
		name: "drift reported: the alarm names the paths, their owners and the values",
		st:   journal.DeviceState{Device: "pe1", State: "in-sync", Commit: "c1", Changed: before},
		r:    devResult{state: StateDrift, changes: 1, driftNodes: 1, commit: "c1", nodes: []journal.Node{descr}},
		want: transition{state: journal.DeviceState{Device: "pe1", State: "drift", Commit: "c1", DriftNodes: 1, Changed: now, Nodes: []journal.Node{descr}},
			raise: []Alarm{{Kind: AlarmDrift, Device: "pe1", Commit: "c1",
				Message: `pe1: 1 managed node changed by hand: update /interfaces/interface[name=ge-0/0/1.101]/description (acme-tokyo-hq) is "by hand", intent "ACME"; drift policy is report, so it was left in place`}}},
	}, {
		name: "waiting out a back-off: what it differed by still stands",
		st:   journal.DeviceState{Device: "pe1", State: "failing", Failures: 1, NextRetry: before, Changed: before, Nodes: []journal.Node{pendingNode}},
		r:    devResult{state: StateBackoff, commit: "c1"},
		want: transition{state: journal.DeviceState{Device: "pe1", State: "backoff", Failures: 1, NextRetry: before, Changed: now, Nodes: []journal.Node{pendingNode}}},
	}, {
		name: "failing: the changes held back are kept as pending nodes",
		st:   journal.DeviceState{Device: "pe1", State: "in-sync", Changed: before},
		r:    devResult{state: StateFailing, err: lockErr, commit: "c1", nodes: []journal.Node{pendingNode}},
		want: transition{state: journal.DeviceState{Device: "pe1", State: "failing", Failures: 1, LastError: lockErr.Error(),
			NextRetry: now.Add(time.Minute), Changed: now, Nodes: []journal.Node{pendingNode}}},
	}, {
		name: "not looked at (keep): nothing changes",
		st:   failing1,
		r:    devResult{state: StateFailing, keep: true},
		want: transition{state: failing1},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := ru.next(tc.st, tc.r, now)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("next:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestNotDue is the table of which devices a pass plans.
func TestNotDue(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	later, earlier := now.Add(time.Minute), now.Add(-time.Minute)
	for _, tc := range []struct {
		name   string
		st     journal.DeviceState
		scope  passScope
		want   devResult
		notDue bool
	}{
		{"unknown is due", journal.DeviceState{State: "unknown"}, scopeAll, devResult{}, false},
		{"failing in its back-off", journal.DeviceState{State: "failing", NextRetry: later}, scopeAll, devResult{state: StateBackoff}, true},
		{"backoff in its back-off", journal.DeviceState{State: "backoff", NextRetry: later}, scopeWaiting, devResult{state: StateBackoff}, true},
		{"failing, back-off over", journal.DeviceState{State: "failing", NextRetry: earlier}, scopeWaiting, devResult{}, false},
		{"deferred until later", journal.DeviceState{Device: "pe1", State: "deferred", DeferGuard: "freeze", DeferReason: "r", DeferUntil: later}, scopeAll,
			devResult{state: StateDeferred, deferred: &Deferral{Device: "pe1", Guard: "freeze", Reason: "r", RetryAfter: later}}, true},
		{"deferred, retry time over", journal.DeviceState{State: "deferred", DeferGuard: "freeze", DeferUntil: earlier}, scopeWaiting, devResult{}, false},
		{"in sync at this commit, retry pass: kept", journal.DeviceState{State: "in-sync", Commit: "c1"}, scopeWaiting, devResult{state: StateInSync, keep: true}, true},
		{"in sync at this commit, full pass: due", journal.DeviceState{State: "in-sync", Commit: "c1"}, scopeAll, devResult{}, false},
		{"in sync at another commit, retry pass: due", journal.DeviceState{State: "in-sync", Commit: "c0"}, scopeWaiting, devResult{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := notDue(tc.st, tc.scope, "c1", now)
			if ok != tc.notDue || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("notDue = %+v, %v; want %+v, %v", got, ok, tc.want, tc.notDue)
			}
		})
	}
}
