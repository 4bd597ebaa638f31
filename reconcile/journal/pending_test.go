package journal

import (
	"context"
	"errors"
	"testing"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/ownership"
)

// TestPreImage: a device's pre-image, written with its pending record, round-trips, keys and identities with
// it, per (run, device); a finished run takes no more.
func TestPreImage(t *testing.T) { eachBackend(t, testPreImage) }

func testPreImage(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t)
	id := mustBegin(t, j, Run{IntentCommit: "c1"}, "pe1", "pe2")
	if _, ok, err := j.PreImage(ctx, id, "pe1"); ok || err != nil {
		t.Fatalf("before any write: ok %v, err %v", ok, err)
	}
	before := desiredTree(t)
	before.SetOwner("")
	if err := j.SetPending(ctx, id, "pe1", ownership.Record{}, before); err != nil {
		t.Fatal(err)
	}
	if err := j.SetPending(ctx, id, "pe2", ownership.Record{}, configtree.New()); err != nil {
		t.Fatal(err)
	}
	got, ok, err := j.PreImage(ctx, id, "pe1")
	if err != nil || !ok || !got.Equal(before) {
		t.Fatalf("pe1: ok %v, err %v, tree\n%s\nwant\n%s", ok, err, got, before)
	}
	if got.Fingerprint() != before.Fingerprint() {
		t.Error("fingerprint changed through the journal: keys or identities lost")
	}
	if got, ok, err := j.PreImage(ctx, id, "pe2"); err != nil || !ok || got.Len() != 0 {
		t.Errorf("pe2: ok %v, err %v, %d nodes, want an empty tree", ok, err, got.Len())
	}
	if err := j.FinishRun(ctx, id, Applied, ""); err != nil {
		t.Fatal(err)
	}
	if err := j.SetPending(ctx, id, "pe1", ownership.Record{}, before); !errors.Is(err, ErrFinished) {
		t.Errorf("finished run: %v, want ErrFinished", err)
	}
}
