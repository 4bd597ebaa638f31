package journal

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestDeviceNodesReplacedPerDevice(t *testing.T) { eachBackend(t, testDeviceNodesReplacedPerDevice) }

func testDeviceNodesReplacedPerDevice(t *testing.T, be backend) {
	ctx := context.Background()
	j, path := be.open(t)
	drift := Node{Kind: NodeDrift, Action: "update", Path: "/interfaces/interface[name=ge-0/0/1.101]/description",
		Owners: []string{"acme-tokyo-hq"}, Live: "changed by hand", Desired: "ACME", Leaf: true}
	pending := Node{Kind: NodePending, Action: "create", Path: "/interfaces/interface[name=ge-0/0/2]", Owners: []string{"a", "b"}}
	a := DeviceState{Device: "pe1", State: "drift", DriftNodes: 1, Nodes: []Node{drift}}
	b := DeviceState{Device: "pe2", State: "deferred", Nodes: []Node{pending}}
	if err := j.SetDeviceStates(ctx, []DeviceState{a, b}); err != nil {
		t.Fatal(err)
	}
	// Healed: its list goes; the other device's stays.
	a2 := DeviceState{Device: "pe1", State: "applied"}
	if err := j.SetDeviceStates(ctx, []DeviceState{a2}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	got, err := j.DeviceStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []DeviceState{a2, b}; !reflect.DeepEqual(got, want) {
		t.Fatalf("states:\n got %+v\nwant %+v", got, want)
	}
}

func TestDeviceNodesBounded(t *testing.T) { eachBackend(t, testDeviceNodesBounded) }

func testDeviceNodesBounded(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t)
	s := DeviceState{Device: "pe1", State: "deferred", DriftNodes: MaxNodes + 10}
	for range MaxNodes + 10 {
		s.Nodes = append(s.Nodes, Node{Kind: NodePending, Action: "create", Path: "/x", Owners: []string{}})
	}
	if err := j.SetDeviceStates(ctx, []DeviceState{s}); err != nil {
		t.Fatal(err)
	}
	got, err := j.DeviceStates(ctx)
	if err != nil || len(got) != 1 || len(got[0].Nodes) != MaxNodes {
		t.Fatalf("nodes kept: %d, %v; want %d", len(got[0].Nodes), err, MaxNodes)
	}
}

func TestControlsAndHealSettledOnce(t *testing.T) { eachBackend(t, testControlsAndHealSettledOnce) }

func testControlsAndHealSettledOnce(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := Control{Device: "pe1", PausedBy: "alice", PausedReason: "RMA", PausedAt: t0, HealBy: "bob", HealReason: "ticket 7", HealAt: t0}
	if err := j.SetControl(ctx, c); err != nil {
		t.Fatal(err)
	}
	// The heal asked for at t0 is done, but bob asked again since: it stays.
	again := c
	again.HealAt = t0.Add(time.Minute)
	if err := j.SetControl(ctx, again); err != nil {
		t.Fatal(err)
	}
	if err := j.HealDone(ctx, "pe1", t0); err != nil {
		t.Fatal(err)
	}
	if got, _ := j.Controls(ctx); len(got) != 1 || !reflect.DeepEqual(got[0], again) {
		t.Fatalf("controls after a stale settle: %+v", got)
	}
	if err := j.HealDone(ctx, "pe1", again.HealAt); err != nil {
		t.Fatal(err)
	}
	got, _ := j.Controls(ctx)
	if len(got) != 1 || got[0].Heal() || !got[0].Paused() {
		t.Fatalf("controls after the heal: %+v", got)
	}
	if err := j.SetControl(ctx, Control{Device: "pe1"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := j.Controls(ctx); len(got) != 0 {
		t.Fatalf("resumed device still has controls: %+v", got)
	}
}

func TestActionsPaged(t *testing.T) { eachBackend(t, testActionsPaged) }

func testActionsPaged(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t, WithClock(newClock().now))
	for _, a := range []string{"pause", "resume", "heal"} {
		if _, err := j.RecordAction(ctx, Action{Action: a, Target: "pe1", Who: "alice", Token: "ops", Reason: "why " + a}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := j.Actions(ctx, 0, 2)
	if err != nil || len(page) != 2 || page[0].Action != "heal" || page[1].Action != "resume" || page[0].Who != "alice" || page[0].At.IsZero() {
		t.Fatalf("first page: %+v %v", page, err)
	}
	rest, err := j.Actions(ctx, page[1].ID, 2)
	if err != nil || len(rest) != 1 || rest[0].Action != "pause" || rest[0].Reason != "why pause" {
		t.Fatalf("second page: %+v %v", rest, err)
	}
}

func TestAlarmAcknowledged(t *testing.T) { eachBackend(t, testAlarmAcknowledged) }

func testAlarmAcknowledged(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t, WithClock(newClock().now))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := j.RaiseAlarm(ctx, Alarm{Kind: "drift", Device: "pe1", Message: "m", Since: t0}); err != nil {
		t.Fatal(err)
	}
	active, _ := j.Alarms(ctx, false)
	if err := j.AcknowledgeAlarm(ctx, active[0].ID, "alice", "looking at it"); err != nil {
		t.Fatal(err)
	}
	// Raised again in the next pass: the acknowledgement stays.
	if _, err := j.RaiseAlarm(ctx, Alarm{Kind: "drift", Device: "pe1", Message: "m2", Since: t0}); err != nil {
		t.Fatal(err)
	}
	active, _ = j.Alarms(ctx, false)
	if len(active) != 1 || active[0].AckBy != "alice" || active[0].AckReason != "looking at it" || active[0].AckAt.IsZero() {
		t.Fatalf("acknowledged alarm: %+v", active)
	}
	if err := j.ClearAlarm(ctx, "drift", "pe1"); err != nil {
		t.Fatal(err)
	}
	if err := j.AcknowledgeAlarm(ctx, active[0].ID, "alice", "again"); !errors.Is(err, ErrNotFound) {
		t.Errorf("acknowledging a cleared alarm: %v, want ErrNotFound", err)
	}
	past, err := j.PastAlarms(ctx, 0, 10)
	if err != nil || len(past) != 1 || past[0].Cleared.IsZero() || past[0].AckBy != "alice" {
		t.Fatalf("past alarms: %+v %v", past, err)
	}
}

func TestRunsPagedAndPassesPaged(t *testing.T) { eachBackend(t, testRunsPagedAndPassesPaged) }

func testRunsPagedAndPassesPaged(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t)
	var ids []RunID
	for range 5 {
		ids = append(ids, mustBegin(t, j, Run{IntentCommit: "c", StartedBy: "t"}, "pe1", "pe2"))
	}
	page, err := j.RunsBefore(ctx, ids[3], 2)
	if err != nil || len(page) != 2 || page[0].ID != ids[2] || page[1].ID != ids[1] {
		t.Fatalf("page before %d: %+v %v", ids[3], page, err)
	}
	for _, r := range page {
		if len(r.Devices) != 2 {
			t.Errorf("run %d: devices %+v", r.ID, r.Devices)
		}
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, id := range []string{"p-a", "p-b", "p-c"} {
		if err := j.SavePass(ctx, Pass{ID: id, Reason: "tick", Started: t0.Add(time.Duration(i) * time.Second), Deferred: []string{"pe1"}}); err != nil {
			t.Fatal(err)
		}
	}
	ps, err := j.PassesBefore(ctx, "p-c", 5)
	if err != nil || len(ps) != 2 || ps[0].ID != "p-b" || ps[1].ID != "p-a" || len(ps[0].Deferred) != 1 {
		t.Fatalf("passes before p-c: %+v %v", ps, err)
	}
}
