package daemon

import (
	"context"
	"slices"
	"testing"

	"github.com/netrecon/netrecon/configtree"
)

// A device found in sync holds configuration somebody else put there: the
// daemon records it as shared, never as created, so removing the service
// that renders it deletes nothing. (It used to record the whole desired tree
// as owned, a takeover with no plan line at all.)
func TestInSyncDeviceIsNotTakenOver(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	_, desired := l.desired()
	// Somebody configured pe1-tyo by hand exactly as the intent renders it.
	pe1 := l.sim.Device("pe1-tyo")
	byHand := desired["pe1-tyo"].Clone()
	byHand.SetOwner("")
	pe1.SetRunning(byHand)

	d := l.start(Options{})
	ctx := context.Background()
	p := d.SyncOnce(ctx, "test")
	if slices.Contains(p.Applied, "pe1-tyo") || len(p.Failed) != 0 {
		t.Fatalf("first pass: %+v", p)
	}
	edits := pe1.RPCCount("edit-config")

	// The services on pe1-tyo of one customer go from the intent.
	gone := map[string]string{acme: "", "services/acme/acme-tokyo-hq-routes.yaml": ""}
	l.commit("acme leaves Tokyo", gone)
	p = d.SyncOnce(ctx, "test")
	if len(p.Failed) != 0 {
		t.Fatalf("removal pass: %+v", p)
	}
	if got := pe1.Running(); !got.Equal(byHand) {
		t.Errorf("removal changed configuration netrecon never created:\n%v", configtree.Diff(byHand, got))
	}
	if n := pe1.RPCCount("edit-config"); n != edits {
		t.Errorf("removal sent %d edit-config to a device where netrecon created nothing", n-edits)
	}
}
