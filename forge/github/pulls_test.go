package github

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/forge/github/githubtest"
)

func TestEnsurePullRequestOpensOnce(t *testing.T) {
	f := githubtest.New(t)
	f.HasBranch = func(b string) bool { return b == "order/SO-1" }
	c, _, _ := newTestClient(t, f)
	want := NewPullRequest{Head: "order/SO-1", Base: "main", Title: "Order SO-1", Body: "body"}
	pr, created, err := c.EnsurePullRequest(context.Background(), f.Repo, want)
	if err != nil || !created || pr.Number == 0 || pr.URL == "" {
		t.Fatalf("first: %+v created=%v err=%v", pr, created, err)
	}
	again, created, err := c.EnsurePullRequest(context.Background(), f.Repo, want)
	if err != nil || created || again != pr {
		t.Fatalf("second: %+v created=%v err=%v; want the first %+v", again, created, err, pr)
	}
	if n := len(f.Pulls()); n != 1 {
		t.Fatalf("%d pull requests; want 1", n)
	}
	if got := f.Pulls()[0]; got.Title != want.Title || got.Head.Ref != want.Head || got.Base.Ref != "main" {
		t.Errorf("opened %+v", got)
	}
}

func TestEnsurePullRequestRefusals(t *testing.T) {
	f := githubtest.New(t)
	f.HasBranch = func(string) bool { return false }
	c, _, _ := newTestClient(t, f)
	_, _, err := c.EnsurePullRequest(context.Background(), f.Repo, NewPullRequest{Head: "order/x", Base: "main", Title: "t"})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 422 {
		t.Fatalf("missing branch: %v; want a 422 APIError", err)
	}
	_, before := f.Snapshot()
	for _, bad := range []NewPullRequest{{Head: "-x", Base: "main", Title: "t"}, {Head: "a..b", Base: "main", Title: "t"}, {Head: "a", Base: "main"}} {
		if _, _, err := c.EnsurePullRequest(context.Background(), f.Repo, bad); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%+v: %v; want ErrInvalidArgument", bad, err)
		}
	}
	_, reqs := f.Snapshot()
	for _, r := range reqs[len(before):] {
		if strings.HasPrefix(r, http.MethodPost) {
			t.Errorf("a refused argument reached the API: %s", r)
		}
	}
}
