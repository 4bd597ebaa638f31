package journal

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestIRRSubmissions(t *testing.T) {
	ctx := context.Background()
	j, err := Open(ctx, filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	next := time.Unix(1700000000, 0).UTC()
	s := IRRSubmission{Database: "RADB", Object: "AS-NETRECON", Commit: "abc", Members: []string{"AS64496", "AS-ACME"}, Drop: []string{"AS64511"},
		Text: "as-set: AS-NETRECON\n", State: IRRFailed, Attempts: 1, NextTry: next, Message: "dial tcp: refused"}
	if err := j.PutIRRSubmission(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.State, s.Attempts, s.NextTry, s.MessageID = IRRSubmitted, 2, time.Time{}, "<1@netrecon>"
	if err := j.PutIRRSubmission(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := j.PutIRRSubmission(ctx, IRRSubmission{Database: "JPIRR", Object: "AS-NETRECON", State: IRRVerified}); err != nil {
		t.Fatal(err)
	}
	all, err := j.IRRSubmissions(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("%v, %v", all, err)
	}
	got, ok, err := j.IRRSubmissionOf(ctx, "RADB", "AS-NETRECON")
	if err != nil || !ok || got.State != IRRSubmitted || got.Attempts != 2 || !got.NextTry.IsZero() || got.MessageID != "<1@netrecon>" ||
		!slices.Equal(got.Members, s.Members) || !slices.Equal(got.Drop, s.Drop) || got.Text != s.Text || got.Updated.IsZero() {
		t.Fatalf("got %+v, %v, %v", got, ok, err)
	}
	if _, ok, _ := j.IRRSubmissionOf(ctx, "NTTCOM", "AS-NETRECON"); ok {
		t.Fatal("found a submission never made")
	}
}
