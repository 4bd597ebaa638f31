package journal

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestDeviceStatesPerDevice(t *testing.T) { eachBackend(t, testDeviceStatesPerDevice) }

func testDeviceStatesPerDevice(t *testing.T, be backend) {
	ctx := context.Background()
	j, path := be.open(t)
	at := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	a := DeviceState{Device: "pe1", State: "failing", Commit: "c1", Failures: 2, LastError: "lock held",
		NextRetry: at.Add(time.Minute), Changed: at, DriftNodes: 3}
	b := DeviceState{Device: "pe2", State: "deferred", Commit: "c1", DeferGuard: "operator-sessions",
		DeferReason: "alice is logged in", DeferUntil: at.Add(time.Hour)}
	if err := j.SetDeviceStates(ctx, []DeviceState{a, b}); err != nil {
		t.Fatal(err)
	}
	// A second writer (another replica) updates only its own device.
	other, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	b2 := DeviceState{Device: "pe2", State: "in-sync", Commit: "c2", Changed: at}
	if err := other.SetDeviceStates(ctx, []DeviceState{b2}); err != nil {
		t.Fatal(err)
	}
	got, err := j.DeviceStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []DeviceState{a, b2}; !reflect.DeepEqual(got, want) {
		t.Fatalf("device states:\n got %+v\nwant %+v", got, want)
	}
	if err := j.RemoveDeviceStates(ctx, []string{"pe1"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := j.DeviceStates(ctx); len(got) != 1 || got[0].Device != "pe2" {
		t.Errorf("after remove: %+v", got)
	}
}

func TestAlarmsActiveAndPast(t *testing.T) { eachBackend(t, testAlarmsActiveAndPast) }

func testAlarmsActiveAndPast(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t, WithClock(newClock().now))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	failing := Alarm{Kind: "device-failing", Device: "pe1", Commit: "c1", Message: "lock", Failures: 2, Since: t0, Raised: t0}
	fetch := Alarm{Kind: "fetch-failing", Message: "no route", Failures: 3, Since: t0, Raised: t0}
	for _, a := range []Alarm{failing, fetch} {
		if _, err := j.RaiseAlarm(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	// Raised again: the one active alarm is updated, its Since kept.
	again := failing
	again.Failures, again.Commit, again.Since, again.Raised = 3, "c2", t0.Add(time.Hour), t0.Add(time.Hour)
	if _, err := j.RaiseAlarm(ctx, again); err != nil {
		t.Fatal(err)
	}
	active, err := j.Alarms(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	again.Since, again.ID, fetch.ID = t0, 1, 2
	if want := []Alarm{again, fetch}; !reflect.DeepEqual(active, want) {
		t.Fatalf("active:\n got %+v\nwant %+v", active, want)
	}
	if err := j.ClearAlarm(ctx, "device-failing", "pe1"); err != nil {
		t.Fatal(err)
	}
	if err := j.ClearAlarm(ctx, "device-failing", "pe1"); err != nil {
		t.Fatal(err) // nothing active: not an error
	}
	// The same condition again is a new alarm; the cleared one stays as history.
	if _, err := j.RaiseAlarm(ctx, failing); err != nil {
		t.Fatal(err)
	}
	all, err := j.Alarms(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].Cleared.IsZero() || !all[1].Cleared.IsZero() || all[1].Commit != "c1" || all[2].Kind != "fetch-failing" {
		t.Errorf("history: %+v", all)
	}
	if active, _ := j.Alarms(ctx, false); len(active) != 2 {
		t.Errorf("active after clear and raise: %+v", active)
	}
}

func TestPassesSavedAndBounded(t *testing.T) { eachBackend(t, testPassesSavedAndBounded) }

func testPassesSavedAndBounded(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := Pass{ID: "p-1", Reason: "tick", Started: t0}
	if err := j.SavePass(ctx, p); err != nil {
		t.Fatal(err)
	}
	if got, err := j.Pass(ctx, "p-1"); err != nil || !got.Finished.IsZero() || got.Reason != "tick" {
		t.Fatalf("running pass: %+v %v", got, err)
	}
	p.Finished, p.Head, p.Commit, p.Error = t0.Add(time.Second), "h", "c", "apply: boom"
	p.RunIDs = []RunID{4, 7}
	p.Applied, p.Healed, p.Failed, p.Drift = []string{"pe1", "pe2"}, []string{"pe2"}, []string{"pe3"}, []string{"pe4"}
	if err := j.SavePass(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := j.Pass(ctx, "p-1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, p) {
		t.Fatalf("pass:\n got %+v\nwant %+v", *got, p)
	}
	if _, err := j.Pass(ctx, "p-none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing pass: %v, want ErrNotFound", err)
	}
	for i := 2; i <= KeepPasses+5; i++ {
		if err := j.SavePass(ctx, Pass{ID: fmt.Sprintf("p-%d", i), Reason: "tick", Started: t0.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	ps, err := j.Passes(ctx, 2)
	if err != nil || len(ps) != 2 || ps[0].ID != fmt.Sprintf("p-%d", KeepPasses+5) {
		t.Fatalf("newest passes: %+v %v", ps, err)
	}
	if _, err := j.Pass(ctx, "p-5"); !errors.Is(err, ErrNotFound) {
		t.Errorf("pass 5 of %d kept: %v", KeepPasses+5, err)
	}
	if _, err := j.Pass(ctx, "p-6"); err != nil {
		t.Errorf("pass 6 of %d forgotten: %v", KeepPasses+5, err)
	}
}

func TestAlarmRaisedAgainIsNoNews(t *testing.T) { eachBackend(t, testAlarmRaisedAgainIsNoNews) }

func testAlarmRaisedAgainIsNoNews(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := Alarm{Kind: "drift", Device: "pe1", Message: "3 nodes", Since: t0, Raised: t0}
	if _, err := j.RaiseAlarm(ctx, a); err != nil {
		t.Fatal(err)
	}
	a.Raised, a.Message = time.Time{}, "4 nodes"
	if _, err := j.RaiseAlarm(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := j.Alarms(ctx, false)
	if err != nil || len(got) != 1 || !got[0].Raised.Equal(t0) || got[0].Message != "4 nodes" {
		t.Fatalf("alarms: %+v %v", got, err)
	}
}
