package daemon

import (
	"context"
	"slices"
	"testing"
)

// A warm daemon's no-op pass answers in-sync devices from their verified
// plans (planner.Verified); one leaf changed by hand on a device between two
// such passes, with the commit, the record and every other device the same,
// is still drift in the very next pass, and the device is not taken as
// verified until it is in sync again.
func TestNoopPassSeesDriftTheSamePass(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.cfg.Drift.Devices = map[string]DriftPolicy{"pe2-osa": Report}
	d := l.start(Options{})
	ctx := context.Background()
	if p := d.SyncOnce(ctx, "test"); len(p.Applied) != 3 {
		t.Fatalf("first pass: %+v", p)
	}
	// The second pass verifies the records the first wrote; the third is
	// answered from the verified plans.
	for i := range 2 {
		if p := d.SyncOnce(ctx, "test"); len(p.Applied)+len(p.Drift)+len(p.Failed) != 0 {
			t.Fatalf("no-op pass %d: %+v", i+2, p)
		}
	}
	if n := d.verified.Len(); n != 3 {
		t.Fatalf("%d devices verified in sync after two no-op passes, want 3", n)
	}
	handEdit(t, l, "pe2-osa")
	p := d.SyncOnce(ctx, "test")
	if !slices.Equal(p.Drift, []string{"pe2-osa"}) || len(p.Applied) != 0 {
		t.Fatalf("pass after a hand edit: drift %v applied %v failed %v; want drift on pe2-osa", p.Drift, p.Applied, p.Failed)
	}
	if n := d.verified.Len(); n != 2 {
		t.Errorf("%d devices verified in sync with pe2-osa drifted, want 2", n)
	}
	if p := d.SyncOnce(ctx, "test"); !slices.Equal(p.Drift, []string{"pe2-osa"}) {
		t.Errorf("reported drift is no longer seen: %+v", p)
	}
}
