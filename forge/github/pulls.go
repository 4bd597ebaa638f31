package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// PullRequest is the part of a pull request netrecon reads.
type PullRequest struct {
	Number int    `json:"number"`
	URL    string `json:"html_url"`
	State  string `json:"state"` // open or closed
	// MergedAt is set once the pull request was merged; a closed pull
	// request without it was closed unmerged.
	MergedAt string `json:"merged_at"`
	Draft    bool   `json:"draft"`
}

// NewPullRequest is what [Client.EnsurePullRequest] opens.
type NewPullRequest struct {
	Head  string // the branch of repo holding the change
	Base  string // the branch it is to be merged into
	Title string
	Body  string
}

// EnsurePullRequest makes sure repo ("owner/name") has a pull request from
// pr.Head into pr.Base: the one already there (open, closed or merged) is
// returned as it is, else a new one is opened. created says which. Looking
// first is what makes a retried order open one pull request, not two: a
// POST that failed on the wire may have opened it.
// https://docs.github.com/en/rest/pulls/pulls#create-a-pull-request
func (c *Client) EnsurePullRequest(ctx context.Context, repo string, pr NewPullRequest) (_ PullRequest, created bool, err error) {
	if !validRepo(repo) {
		return PullRequest{}, false, fmt.Errorf("github: repository %q: want owner/name: %w", repo, ErrInvalidArgument)
	}
	for _, b := range []string{pr.Head, pr.Base} {
		if !validBranch(b) {
			return PullRequest{}, false, fmt.Errorf("github: branch %q: not a branch name: %w", b, ErrInvalidArgument)
		}
	}
	if pr.Title == "" {
		return PullRequest{}, false, fmt.Errorf("github: pull request from %s: empty title: %w", pr.Head, ErrInvalidArgument)
	}
	if found, ok, err := c.findPullRequest(ctx, repo, pr.Head, pr.Base, "all"); err != nil || ok {
		return found, false, err
	}
	op := fmt.Sprintf("open pull request %s → %s in %s", pr.Head, pr.Base, repo)
	resp, err := c.do(ctx, request{
		op: op, method: http.MethodPost, url: c.endpoint(fmt.Sprintf("repos/%s/pulls", repo)),
		body: map[string]string{"title": pr.Title, "head": pr.Head, "base": pr.Base, "body": pr.Body}, repo: repo,
	})
	if err != nil {
		// A POST that failed with 5xx or on the wire may have opened it.
		if ambiguous(err) && ctx.Err() == nil {
			if found, ok, ferr := c.findPullRequest(ctx, repo, pr.Head, pr.Base, "all"); ferr == nil && ok {
				return found, false, nil
			}
		}
		return PullRequest{}, false, err
	}
	var out PullRequest
	if err := json.Unmarshal(resp.body, &out); err != nil {
		return PullRequest{}, false, fmt.Errorf("github: %s: reading the answer: %w", op, err)
	}
	return out, true, nil
}

// OpenPullRequest opens a pull request of repo ("owner/name") from the
// branch head into base, or returns the one already OPEN from head: unlike
// EnsurePullRequest (an order's branch is its own), a branch that is reused
// (irr sync's, day after day) must get a new pull request once its last one
// was merged or closed. draft opens it as a draft, which GitHub cannot merge
// until a person marks it ready: how netrecon holds a change it must not
// merge by itself.
func (c *Client) OpenPullRequest(ctx context.Context, repo, head, base, title, body string, draft bool) (PullRequest, error) {
	if !validRepo(repo) {
		return PullRequest{}, fmt.Errorf("github: repository %q: want owner/name: %w", repo, ErrInvalidArgument)
	}
	for _, b := range []string{head, base} {
		if !validBranch(b) {
			return PullRequest{}, fmt.Errorf("github: branch %q: not a branch name: %w", b, ErrInvalidArgument)
		}
	}
	op := fmt.Sprintf("open pull request %s → %s in %s", head, base, repo)
	resp, err := c.do(ctx, request{
		op: op, method: http.MethodPost, url: c.endpoint(fmt.Sprintf("repos/%s/pulls", repo)),
		body: map[string]any{"title": title, "head": head, "base": base, "body": body, "draft": draft}, repo: repo,
	})
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnprocessableEntity || err != nil && ambiguous(err) && ctx.Err() == nil {
		// GitHub answers 422 when one is open already (its words are in
		// an errors list the client does not keep); a POST that failed on
		// the wire may have opened it. Either way: the open one, if any.
		if found, ok, ferr := c.findPullRequest(ctx, repo, head, base, "open"); ferr == nil && ok {
			return found, nil
		}
		return PullRequest{}, err
	}
	if err != nil {
		return PullRequest{}, err
	}
	var out PullRequest
	if err := json.Unmarshal(resp.body, &out); err != nil {
		return PullRequest{}, fmt.Errorf("github: %s: reading the answer: %w", op, err)
	}
	return out, nil
}

// findPullRequest returns the newest pull request of repo from head into
// base in state (open, closed or all).
// https://docs.github.com/en/rest/pulls/pulls#list-pull-requests
func (c *Client) findPullRequest(ctx context.Context, repo, head, base, state string) (PullRequest, bool, error) {
	u := c.endpoint(fmt.Sprintf("repos/%s/pulls", repo))
	q := u.Query()
	owner, _, _ := strings.Cut(repo, "/")
	q.Set("head", owner+":"+head)
	q.Set("base", base)
	q.Set("state", state)
	q.Set("per_page", "100")
	u.RawQuery = q.Encode()
	op := fmt.Sprintf("list pull requests from %s in %s", head, repo)
	resp, err := c.do(ctx, request{op: op, method: http.MethodGet, url: u, idempotent: true, repo: repo})
	if err != nil {
		return PullRequest{}, false, err
	}
	var prs []PullRequest
	if err := json.Unmarshal(resp.body, &prs); err != nil {
		return PullRequest{}, false, fmt.Errorf("github: %s: reading the answer: %w", op, err)
	}
	if len(prs) == 0 {
		return PullRequest{}, false, nil
	}
	// GitHub lists the newest first.
	return prs[0], true, nil
}

// validBranch is the part of git-check-ref-format(1) that keeps a branch
// name from reading as something else in a URL or a query.
func validBranch(b string) bool {
	if b == "" || strings.HasPrefix(b, "-") || strings.HasPrefix(b, "/") || strings.HasSuffix(b, "/") ||
		strings.HasSuffix(b, ".lock") || strings.Contains(b, "..") || strings.Contains(b, "//") || strings.Contains(b, "@{") {
		return false
	}
	for _, r := range b {
		if r <= ' ' || r == 0x7f || strings.ContainsRune("~^:?*[\\", r) {
			return false
		}
	}
	return true
}
