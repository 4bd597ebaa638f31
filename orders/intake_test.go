package orders

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/reconcile/journal"
)

func TestOrderBecomesOnePullRequestWhoseFileValidates(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, true)
	st, created, err := f.intake.Submit(ctx, order(t, validOrder))
	if err != nil || !created {
		t.Fatalf("Submit: %+v created=%v err=%v", st, created, err)
	}
	if st.State != StatePROpen || st.Branch != "order/SO-2026-0200" || st.Path != "services/acme/acme-tokyo-annex.yaml" || st.PRURL == "" || len(st.Commit) != 40 {
		t.Fatalf("status %+v", st)
	}
	pulls := f.api.Pulls()
	if len(pulls) != 1 || pulls[0].Head.Ref != st.Branch || pulls[0].Base.Ref != "main" || pulls[0].HTMLURL != st.PRURL ||
		!strings.Contains(pulls[0].Title, "SO-2026-0200") || !strings.Contains(pulls[0].Body, "SO-2026-0200") {
		t.Fatalf("pull requests %+v", pulls)
	}
	// The branch holds the file, and the repo at the branch validates.
	dir := f.remote.checkout("order/SO-2026-0200")
	in, diags := loadTree(t, dir)
	if diags.HasErrors() {
		t.Fatalf("the order's branch does not validate:\n%v", diags)
	}
	var svc bool
	for _, s := range in.Services {
		if s.Name == "acme-tokyo-annex" {
			svc = s.Spec["vlan"] == int64(200) && s.Customer == "acme" && s.Labels["order"] == "SO-2026-0200" && s.Labels["product"] == "l3vpn"
		}
	}
	if !svc {
		t.Error("the branch's intent lacks the ordered service as ordered")
	}
	b, err := os.ReadFile(filepath.Join(dir, st.Path))
	if err != nil {
		t.Fatal(err)
	}
	want := `# Order SO-2026-0200, received 2026-12-02T14:00:00Z through netrecon's order API.
# Written by netrecon; it is applied once this change is reviewed and merged.
apiVersion: netrecon.io/v1
kind: attachment-circuit
metadata:
  name: acme-tokyo-annex
  customer: acme
  labels:
    order: SO-2026-0200
    product: l3vpn
spec:
  device: pe1-tyo
  interface: ge-0/0/2
  vlan: 200
  description: ACME Corp — Tokyo annex
  vrf: ACME
  ipv4: 100.64.9.1/30
`
	if string(b) != want {
		t.Errorf("file:\n%s\nwant:\n%s", b, want)
	}

	// The same order again: the same status, no second pull request or branch.
	again, created, err := f.intake.Submit(ctx, order(t, validOrder))
	if err != nil || created || again != st {
		t.Fatalf("second Submit: %+v created=%v err=%v; want %+v", again, created, err, st)
	}
	if n := len(f.api.Pulls()); n != 1 {
		t.Errorf("%d pull requests after the same order twice; want 1", n)
	}
	// The same id with another body is a conflict.
	other := order(t, strings.Replace(validOrder, `"vlan": 200`, `"vlan": 201`, 1))
	if _, _, err := f.intake.Submit(ctx, other); !errors.As(err, new(*ConflictError)) {
		t.Errorf("same id, other body: %v; want a ConflictError", err)
	}
	if got, err := f.intake.Get(ctx, "SO-2026-0200"); err != nil || got != st {
		t.Errorf("Get: %+v, %v", got, err)
	}
}

func TestBadOrderListsEveryErrorAndWritesNothing(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, true)
	cases := map[string]struct {
		body string
		want []string // "field: part of the message"
	}{
		"schema": {
			`{"order_id": "SO-9", "service_type": "attachment-circuit", "name": "acme-bad", "customer": "acme",
			  "fields": {"device": "pe1-tyo", "vlan": 5000, "ipv4": "100.64.9.5/30", "colour": "red"}}`,
			[]string{"fields.vlan: invalid value 5000", "fields.interface:", "fields.colour:"},
		},
		"cross-document": {
			`{"order_id": "SO-10", "service_type": "attachment-circuit", "name": "acme-clash", "customer": "acme",
			  "fields": {"device": "pe9-nowhere", "interface": "ge-0/0/1", "vlan": 143, "ipv4": "100.64.9.9/30"}}`,
			[]string{"fields.device: "},
		},
		"envelope": {
			`{"order_id": "bad id!", "service_type": "", "name": "Acme_Bad", "customer": "", "fields": null}`,
			[]string{"order_id:", "service_type: required", "name:", "customer: required", "fields: required"},
		},
		"exists": {
			strings.Replace(strings.Replace(validOrder, "acme-tokyo-annex", "acme-tokyo-hq", 1), "SO-2026-0200", "SO-11", 1),
			[]string{"name: services/acme/acme-tokyo-hq.yaml already exists"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := f.intake.Submit(ctx, order(t, c.body))
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("err %v; want an InvalidError", err)
			}
			var got []string
			for _, p := range inv.Problems {
				got = append(got, p.String())
			}
			for _, w := range c.want {
				if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, w) }) {
					t.Errorf("no problem %q in:\n%s", w, strings.Join(got, "\n"))
				}
			}
			for _, g := range got {
				if strings.HasPrefix(g, "spec.") || strings.HasPrefix(g, "metadata.") {
					t.Errorf("problem %q is in the file's terms, not the order's", g)
				}
			}
			id := order(t, c.body).ID
			if _, err := f.journal.Order(ctx, id); !errors.Is(err, journal.ErrNotFound) {
				t.Errorf("journal holds the bad order %s: %v", id, err)
			}
		})
	}
	if b := f.remote.branches(); b != "main" {
		t.Errorf("branches after bad orders: %q; want main alone", b)
	}
	if n := len(f.api.Pulls()); n != 0 {
		t.Errorf("%d pull requests after bad orders", n)
	}
}

func TestOrderOnAPlainGitRemoteIsAPushedBranch(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, false)
	st, _, err := f.intake.Submit(ctx, order(t, validOrder))
	if err != nil || st.State != StatePROpen || st.PRURL != "" {
		t.Fatalf("Submit: %+v, %v", st, err)
	}
	if tip := git(t, f.remote.bare, "rev-parse", "refs/heads/"+st.Branch); tip != st.Commit {
		t.Fatalf("branch at %s; want %s", tip, st.Commit)
	}
	if _, diags := loadTree(t, f.remote.checkout(st.Branch)); diags.HasErrors() {
		t.Fatalf("the branch does not validate:\n%v", diags)
	}
	if _, _, err := f.intake.Submit(ctx, order(t, validOrder)); err != nil {
		t.Fatal(err)
	}
	if b := f.remote.branches(); b != "main\norder/SO-2026-0200" {
		t.Errorf("branches %q", b)
	}
}

func TestOrderRetriedAfterTheForgeFailedFinishes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, true)
	down := true
	f.api.Hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if down {
			f.api.WriteJSON(w, 503, map[string]string{"message": "unavailable"})
		}
		return down
	}
	st, _, err := f.intake.Submit(ctx, order(t, validOrder))
	if err == nil {
		t.Fatal("no error with GitHub down")
	}
	if got, _ := f.intake.Get(ctx, "SO-2026-0200"); got.State != StateProposing || got.Detail == "" || !f.remote.hasBranch(st.Branch) {
		t.Fatalf("after a failure: %+v, branch pushed %v", got, f.remote.hasBranch(st.Branch))
	}
	down = false
	st2, _, err := f.intake.Submit(ctx, order(t, validOrder))
	if err != nil || st2.State != StatePROpen || st2.Commit != st.Commit || st2.PRURL == "" {
		t.Fatalf("retry: %+v, %v (first commit %s)", st2, err, st.Commit)
	}
	if n := len(f.api.Pulls()); n != 1 {
		t.Errorf("%d pull requests", n)
	}
}

func TestFollowMergedThenApplied(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, true)
	st, _, err := f.intake.Submit(ctx, order(t, validOrder))
	if err != nil {
		t.Fatal(err)
	}
	before, _ := f.mirror.Head()
	if err := f.intake.Follow(ctx, Progress{Head: before, Commit: before, Applied: before}); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.intake.Get(ctx, st.ID); got.State != StatePROpen {
		t.Fatalf("before the merge: %s", got.State)
	}
	merge := f.remote.merge(st.Branch)
	head, err := f.mirror.Fetch(ctx)
	if err != nil || head != merge {
		t.Fatalf("fetch: %s, %v; want %s", head, err, merge)
	}
	if err := f.intake.Follow(ctx, Progress{Head: head, Commit: head, Applied: before,
		Failed: map[string]string{"acme-tokyo-annex": "pe1-tyo: edit-config: in-use"}}); err != nil {
		t.Fatal(err)
	}
	got, _ := f.intake.Get(ctx, st.ID)
	if got.State != StateFailed || got.MergeCommit != merge || got.Detail != "pe1-tyo: edit-config: in-use" {
		t.Fatalf("after a failed pass: %+v", got)
	}
	// Another device keeps the whole network back (Applied stays before),
	// but the service's own devices are in sync with the merge: applied.
	if err := f.intake.Follow(ctx, Progress{Head: head, Commit: head, Applied: before, InSync: map[string]bool{"acme-tokyo-annex": true}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.intake.Get(ctx, st.ID); got.State != StateApplied || got.Applied.IsZero() || got.Detail != "" {
		t.Fatalf("after an applying pass: %+v", got)
	}

	// A second order, applied when every device reaches its merge.
	second := strings.NewReplacer("SO-2026-0200", "SO-2026-0201", "acme-tokyo-annex", "acme-tokyo-annex-2", `"vlan": 200`, `"vlan": 210`,
		"100.64.9.1/30", "100.64.9.5/30").Replace(validOrder)
	st2, _, err := f.intake.Submit(ctx, order(t, second))
	if err != nil {
		t.Fatal(err)
	}
	f.remote.merge(st2.Branch)
	head2, err := f.mirror.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.intake.Follow(ctx, Progress{Head: head2, Commit: head2, Applied: head}); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.intake.Get(ctx, st2.ID); got.State != StateMerged {
		t.Fatalf("second order before every device reached it: %+v", got)
	}
	if err := f.intake.Follow(ctx, Progress{Head: head2, Commit: head2, Applied: head2}); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.intake.Get(ctx, st2.ID); got.State != StateApplied {
		t.Fatalf("second order after every device reached it: %+v", got)
	}
}
