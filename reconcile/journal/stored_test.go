package journal

import (
	"context"
	"testing"

	"github.com/netrecon/netrecon/reconcile/ownership"
)

func TestStoredOwnerships(t *testing.T) { eachBackend(t, testStoredOwnerships) }

// StoredOwnerships reads the devices asked for in one query; each record
// decodes to what Ownership returns, and its digest changes with the record
// and only with it (not with the commit it was recorded for).
func testStoredOwnerships(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t)
	tree := desiredTree(t)
	if err := j.SetOwnerships(ctx, []Owned{
		{Device: "pe1", Record: ownership.Record{Created: tree, Desired: "a"}},
		{Device: "pe2", Record: ownership.Record{Shared: tree, Desired: "b"}},
		{Device: "pe3", Record: ownership.Record{Shared: tree, Desired: "c"}},
	}, "c1"); err != nil {
		t.Fatal(err)
	}
	got, err := j.StoredOwnerships(ctx, []string{"pe1", "pe2", "pe9"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("stored records of %d devices, want pe1 and pe2: %v", len(got), got)
	}
	for _, dev := range []string{"pe1", "pe2"} {
		s := got[dev]
		r, err := s.Decode()
		want, commit, werr := j.Ownership(ctx, dev)
		if err != nil || werr != nil || !r.Equal(want) || s.Commit != commit || s.Device != dev {
			t.Errorf("%s: stored %+v decodes to %+v (%v), Ownership %+v %q (%v)", dev, s, r, err, want, commit, werr)
		}
	}
	if r, err := got["pe9"].Decode(); err != nil || !r.IsZero() {
		t.Errorf("a device without a record: %+v, %v", r, err)
	}
	if got["pe1"].Digest == got["pe2"].Digest {
		t.Error("two records, one digest")
	}
	// The same record under another commit: the same digest. Another
	// record: another digest.
	if err := j.SetOwnerships(ctx, []Owned{
		{Device: "pe1", Record: ownership.Record{Created: tree, Desired: "a"}},
		{Device: "pe2", Record: ownership.Record{Shared: tree, Desired: "b2"}},
	}, "c2"); err != nil {
		t.Fatal(err)
	}
	again, err := j.StoredOwnerships(ctx, []string{"pe1", "pe2"})
	if err != nil {
		t.Fatal(err)
	}
	if again["pe1"].Digest != got["pe1"].Digest || again["pe1"].Commit != "c2" {
		t.Errorf("pe1 rewritten unchanged under c2: digest changed %v, commit %q", again["pe1"].Digest != got["pe1"].Digest, again["pe1"].Commit)
	}
	if again["pe2"].Digest == got["pe2"].Digest {
		t.Error("pe2's record changed, its digest did not")
	}
}
