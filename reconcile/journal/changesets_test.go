package journal

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestChangeSets(t *testing.T) { eachBackend(t, testChangeSets) }

// testChangeSets: a change set is published once per commit (the first
// leader's decision stands), carries its writer's token, is refused to a
// replica whose lease is gone, lists as open while coordinated and
// unsettled, and is settled only by a lease that owns all its devices.
func testChangeSets(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t)
	if _, ok, err := j.LatestChangeSet(ctx); ok || err != nil {
		t.Fatalf("latest change set of an empty journal: %v, %v", ok, err)
	}
	lead := mustAcquire(t, j, "lead", time.Minute)
	other := mustAcquire(t, j, "other", 700*time.Millisecond)
	jl, jo := j.Fenced(lead), j.Fenced(other)
	first := ChangeSet{Commit: "c1", Devices: []string{"pe2", "pe1"}, Coordinated: true, Applier: "lead",
		Desired: map[string]string{"pe1": "f1", "pe2": "f2", "pe3": "f3"}}
	got, err := jl.PublishChangeSet(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Devices, []string{"pe1", "pe2"}) || got.Writer != lead.Token || !got.Open() || got.Desired["pe3"] != "f3" {
		t.Errorf("published: %+v", got)
	}
	// A second decision for the same commit does not replace the first.
	again, err := jo.PublishChangeSet(ctx, ChangeSet{Commit: "c1", Devices: []string{"pe3"}, Applier: "other"})
	if err != nil || again.Writer != lead.Token || !slices.Equal(again.Devices, []string{"pe1", "pe2"}) {
		t.Errorf("publish again: %+v, %v: want the first decision", again, err)
	}
	if cs, ok, err := j.ChangeSetOf(ctx, "c1"); !ok || err != nil || !cs.Has("pe2") || cs.Has("pe3") || cs.Desired != nil {
		t.Errorf("change set of c1: %+v, %v, %v", cs, ok, err)
	}
	if _, ok, err := j.ChangeSetOf(ctx, "c0"); ok || err != nil {
		t.Errorf("change set of an unpublished commit: %v, %v", ok, err)
	}
	open, err := j.OpenChangeSets(ctx)
	if err != nil || len(open) != 1 || open[0].Commit != "c1" {
		t.Fatalf("open change sets: %+v, %v", open, err)
	}
	// Settling needs every device of the set.
	if _, err := j.ClaimDevices(ctx, lead, []string{"pe1"}); err != nil {
		t.Fatal(err)
	}
	var fe *FencedError
	if err := jl.SettleChangeSet(ctx, "c1"); !errors.As(err, &fe) || !slices.Equal(fe.Devices, []string{"pe2"}) {
		t.Errorf("settle without pe2: %v, want a *FencedError naming pe2", err)
	}
	if _, err := j.ClaimDevices(ctx, lead, []string{"pe2"}); err != nil {
		t.Fatal(err)
	}
	if err := jl.SettleChangeSet(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if open, err := j.OpenChangeSets(ctx); err != nil || len(open) != 0 {
		t.Errorf("open change sets after settling: %+v, %v", open, err)
	}
	if cs, _, _ := j.ChangeSetOf(ctx, "c1"); cs.Open() || cs.Settled.IsZero() {
		t.Errorf("c1 after settling: %+v", cs)
	}
	waitExpired(t, j, other)
	if _, err := jo.PublishChangeSet(ctx, ChangeSet{Commit: "c2", Applier: "other"}); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("publish by an expired lease: %v, want ErrLeaseLost", err)
	}
	second := ChangeSet{Commit: "c2", Devices: []string{"pe3"}, Applier: "lead", Desired: map[string]string{"pe1": "f1"}}
	if _, err := jl.PublishChangeSet(ctx, second); err != nil {
		t.Fatal(err)
	}
	latest, ok, err := j.LatestChangeSet(ctx)
	if !ok || err != nil || latest.Commit != "c2" || latest.Coordinated || latest.Desired["pe1"] != "f1" {
		t.Errorf("latest: %+v, %v, %v", latest, ok, err)
	}
}
