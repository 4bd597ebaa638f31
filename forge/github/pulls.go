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
	Number  int    `json:"number"`
	HTMLURL string `json:"html_url"`
	Draft   bool   `json:"draft"`
}

// OpenPullRequest opens a pull request of repo ("owner/name") from the
// branch head into base, or returns the one already open from head (GitHub
// allows one open pull request per head and base, so a sync that runs again
// finds its own). draft opens it as a draft, which GitHub cannot merge until
// a person marks it ready: how netrecon holds a change it must not merge by
// itself.
func (c *Client) OpenPullRequest(ctx context.Context, repo, head, base, title, body string, draft bool) (PullRequest, error) {
	if !validRepo(repo) {
		return PullRequest{}, fmt.Errorf("github: %q is not owner/name", repo)
	}
	op := fmt.Sprintf("open pull request %s → %s on %s", head, base, repo)
	// https://docs.github.com/en/rest/pulls/pulls#create-a-pull-request
	resp, err := c.do(ctx, request{
		op: op, method: http.MethodPost, url: c.endpoint("repos/" + repo + "/pulls"),
		body: map[string]any{"title": title, "head": head, "base": base, "body": body, "draft": draft}, repo: repo,
	})
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnprocessableEntity {
		// GitHub words "already exists" in its errors list, which the
		// client does not keep: look for the open one, and report the 422
		// when there is none (another validation failure).
		if pr, ferr := c.openPullRequest(ctx, repo, head, base); ferr == nil {
			return pr, nil
		}
		return PullRequest{}, err
	}
	if err != nil {
		return PullRequest{}, err
	}
	var pr PullRequest
	if err := json.Unmarshal(resp.body, &pr); err != nil {
		return PullRequest{}, fmt.Errorf("github: %s: reading the answer: %w", op, err)
	}
	return pr, nil
}

// openPullRequest finds the open pull request from head into base.
// https://docs.github.com/en/rest/pulls/pulls#list-pull-requests
func (c *Client) openPullRequest(ctx context.Context, repo, head, base string) (PullRequest, error) {
	owner, _, _ := strings.Cut(repo, "/")
	op := fmt.Sprintf("find the open pull request %s → %s on %s", head, base, repo)
	u := c.endpoint("repos/" + repo + "/pulls")
	q := u.Query()
	q.Set("state", "open")
	q.Set("head", owner+":"+head)
	q.Set("base", base)
	u.RawQuery = q.Encode()
	resp, err := c.do(ctx, request{op: op, method: http.MethodGet, url: u, idempotent: true, repo: repo})
	if err != nil {
		return PullRequest{}, err
	}
	var prs []PullRequest
	if err := json.Unmarshal(resp.body, &prs); err != nil {
		return PullRequest{}, fmt.Errorf("github: %s: reading the answer: %w", op, err)
	}
	if len(prs) == 0 {
		return PullRequest{}, fmt.Errorf("github: %s: none", op)
	}
	return prs[0], nil
}
