package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/netrecon/netrecon/backoff"
)

// MaxCommentLength is GitHub's limit on a comment body, in characters.
const MaxCommentLength = 65536

// commentBudget is what netrecon lets a body grow to: under the limit with a
// margin, counted in UTF-16 code units, which are never fewer than characters
// however GitHub counts them.
const commentBudget = MaxCommentLength - 536

// maxPages bounds pagination: 100 pages of 100 comments.
const maxPages = 100

var repoPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)

func validRepo(repo string) bool {
	owner, name, _ := strings.Cut(repo, "/")
	return repoPattern.MatchString(repo) && owner != "." && owner != ".." && name != "." && name != ".."
}

// comment is the part of an issue comment netrecon reads.
type comment struct {
	ID      int64  `json:"id"`
	HTMLURL string `json:"html_url"`
	Body    string `json:"body"`
}

// UpsertComment makes the pull request pr of repo ("owner/name") carry body in
// exactly one comment: the first comment containing marker is edited, or a
// new one is created when none does. It returns the comment's web URL and
// whether it was created.
//
// marker must be an HTML comment (hidden when GitHub renders the body); body
// gets it prepended when it lacks it, and is cut to fit GitHub's limit with a
// note saying so. Two jobs upserting the same pull request at the same time
// can still both create: serialise them (a workflow concurrency group).
func (c *Client) UpsertComment(ctx context.Context, repo string, pr int, marker, body string) (url string, created bool, err error) {
	if !validRepo(repo) {
		return "", false, fmt.Errorf("github: repository %q: want owner/name: %w", repo, ErrInvalidArgument)
	}
	if pr <= 0 {
		return "", false, fmt.Errorf("github: pull request number %d: want a positive number: %w", pr, ErrInvalidArgument)
	}
	if !strings.HasPrefix(marker, "<!--") || !strings.HasSuffix(marker, "-->") || len(marker) < 8 {
		return "", false, fmt.Errorf("github: marker %q: want a hidden HTML comment such as <!-- netrecon-plan -->: %w", marker, ErrInvalidArgument)
	}
	body = fitBody(body, marker)
	for attempt := 1; ; attempt++ {
		found, err := c.findComment(ctx, repo, pr, marker)
		if err != nil {
			return "", false, err
		}
		if found != nil {
			if found.Body == body {
				c.log.Debug("github: comment already up to date", "repo", repo, "pr", pr, "comment", found.ID)
				return found.HTMLURL, false, nil
			}
			u, err := c.updateComment(ctx, repo, pr, found.ID, body)
			return u, false, err
		}
		u, err := c.createComment(ctx, repo, pr, body)
		if err == nil {
			return u, true, nil
		}
		// A POST that failed with 5xx or on the wire may still have created
		// the comment: look again before posting again, or the pull request
		// collects duplicates.
		if ctx.Err() != nil || !ambiguous(err) || attempt >= c.retry.MaxAttempts {
			return "", false, err
		}
		wait := backoff.Policy{Base: c.retry.BaseDelay, Max: c.retry.MaxDelay}.Jittered(attempt)
		c.log.Warn("github: create failed; looking for the comment again", "repo", repo, "pr", pr,
			"attempt", attempt, "wait", wait, "error", err.Error())
		if err := c.sleep(ctx, wait); err != nil {
			return "", false, fmt.Errorf("github: create comment on %s#%d: %w", repo, pr, err)
		}
	}
}

func ambiguous(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode >= 500
	}
	var tErr *TransportError
	return errors.As(err, &tErr)
}

// findComment walks the pull request's comments, oldest first, 100 a page,
// and returns the first that contains marker, or nil.
// https://docs.github.com/en/rest/issues/comments#list-issue-comments
func (c *Client) findComment(ctx context.Context, repo string, pr int, marker string) (*comment, error) {
	next := c.endpoint(fmt.Sprintf("repos/%s/issues/%d/comments", repo, pr))
	q := next.Query()
	q.Set("per_page", "100")
	next.RawQuery = q.Encode()
	seen := map[string]bool{}
	for page := 1; next != nil; page++ {
		if page > maxPages {
			return nil, fmt.Errorf("github: list comments of %s#%d: more than %d pages", repo, pr, maxPages)
		}
		if seen[next.String()] {
			return nil, fmt.Errorf("github: list comments of %s#%d: pagination loops back to page %s", repo, pr, next.RawQuery)
		}
		seen[next.String()] = true
		resp, err := c.do(ctx, request{
			op:     fmt.Sprintf("list comments of %s#%d", repo, pr),
			method: http.MethodGet, url: next, idempotent: true, repo: repo, pr: pr,
		})
		if err != nil {
			return nil, err
		}
		var comments []comment
		if err := json.Unmarshal(resp.body, &comments); err != nil {
			return nil, fmt.Errorf("github: list comments of %s#%d: page %d: %w", repo, pr, page, err)
		}
		for i := range comments {
			if strings.Contains(comments[i].Body, marker) {
				return &comments[i], nil
			}
		}
		if next, err = c.nextPage(resp.header.Get("Link")); err != nil {
			return nil, fmt.Errorf("github: list comments of %s#%d: %w", repo, pr, err)
		}
	}
	return nil, nil
}

// nextPage returns the rel="next" target of a Link header ([RFC 8288]), or
// nil on the last page. The target must be on the API's own scheme and host:
// following a link elsewhere would hand the token to another server.
//
// [RFC 8288]: https://www.rfc-editor.org/rfc/rfc8288
func (c *Client) nextPage(link string) (*url.URL, error) {
	raw, ok := linkNext(link)
	if !ok {
		return nil, nil
	}
	u, err := c.base.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("next page link: %w", err)
	}
	if u.Scheme != c.base.Scheme || u.Host != c.base.Host {
		return nil, fmt.Errorf("next page link points to %s://%s, not the API at %s://%s; refusing to send the token there",
			u.Scheme, u.Host, c.base.Scheme, c.base.Host)
	}
	return u, nil
}

// linkNext finds the URL with rel="next" in a Link header value such as
// `<https://api.github.com/...&page=2>; rel="next", <...>; rel="last"`.
func linkNext(header string) (string, bool) {
	for header != "" {
		start := strings.IndexByte(header, '<')
		if start < 0 {
			return "", false
		}
		end := strings.IndexByte(header[start:], '>')
		if end < 0 {
			return "", false
		}
		target := header[start+1 : start+end]
		rest := header[start+end+1:]
		params := rest
		if i := strings.IndexByte(rest, '<'); i >= 0 {
			params = rest[:i]
		}
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(strings.TrimRight(strings.TrimSpace(p), ",")), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
				continue
			}
			for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(v), `"`)) {
				if strings.EqualFold(rel, "next") {
					return target, true
				}
			}
		}
		header = rest
	}
	return "", false
}

// https://docs.github.com/en/rest/issues/comments#update-an-issue-comment
func (c *Client) updateComment(ctx context.Context, repo string, pr int, id int64, body string) (string, error) {
	op := fmt.Sprintf("update comment %d on %s#%d", id, repo, pr)
	resp, err := c.do(ctx, request{
		op: op, method: http.MethodPatch, url: c.endpoint(fmt.Sprintf("repos/%s/issues/comments/%d", repo, id)),
		body: map[string]string{"body": body}, idempotent: true, repo: repo, pr: pr,
	})
	if err != nil {
		return "", err
	}
	return commentURL(op, resp)
}

// https://docs.github.com/en/rest/issues/comments#create-an-issue-comment
func (c *Client) createComment(ctx context.Context, repo string, pr int, body string) (string, error) {
	op := fmt.Sprintf("create comment on %s#%d", repo, pr)
	resp, err := c.do(ctx, request{
		op: op, method: http.MethodPost, url: c.endpoint(fmt.Sprintf("repos/%s/issues/%d/comments", repo, pr)),
		body: map[string]string{"body": body}, repo: repo, pr: pr,
	})
	if err != nil {
		return "", err
	}
	return commentURL(op, resp)
}

func commentURL(op string, resp *response) (string, error) {
	var cm comment
	if err := json.Unmarshal(resp.body, &cm); err != nil {
		return "", fmt.Errorf("github: %s: reading the answer: %w", op, err)
	}
	return cm.HTMLURL, nil
}

// endpoint joins an API path to the base URL, keeping a GitHub Enterprise
// prefix such as /api/v3. Path parts were checked by the caller.
func (c *Client) endpoint(path string) *url.URL {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + "/" + path
	u.RawPath = ""
	return &u
}

// fitBody makes body a valid plan comment: marker first if it is missing,
// and cut under GitHub's limit with a visible note. The cut falls at a line
// end when it can, never inside a character, and closes an open code fence
// and open <details> so the rest of the comment still renders.
func fitBody(body, marker string) string {
	if !strings.Contains(body, marker) {
		body = marker + "\n" + body
	}
	total := utf16Len(body)
	if total <= commentBudget {
		return body
	}
	note := func(kept int) string {
		return fmt.Sprintf("\n\n---\n:warning: **This comment is truncated**: %s of %s characters shown (GitHub's limit is %s). "+
			"The full plan is in the workflow run's artifact and job summary.\n",
			thousands(kept), thousands(total), thousands(MaxCommentLength))
	}
	// Reserve room for the note and any closers, then keep the longest prefix.
	reserve := utf16Len(note(total)) + utf16Len(marker) + utf16Len("\n```\n") + 20*utf16Len("</details>\n") + 64
	budget := commentBudget - reserve
	cut, n := 0, 0
	for i, r := range body {
		w := utf16.RuneLen(r)
		if w < 0 {
			w = 1
		}
		if n+w > budget {
			break
		}
		n += w
		cut = i + utf8.RuneLen(r)
	}
	kept := body[:cut]
	if nl := strings.LastIndexByte(kept, '\n'); nl > len(kept)/2 {
		kept = kept[:nl]
	}
	if !strings.HasPrefix(kept, marker) && !strings.Contains(kept, marker) {
		kept = marker + "\n" + kept // cannot happen when the marker leads, kept for safety
	}
	var closers strings.Builder
	if strings.Count("\n"+kept, "\n```")%2 == 1 {
		closers.WriteString("\n```")
	}
	open := strings.Count(kept, "<details") - strings.Count(kept, "</details>")
	for i := 0; i < open && i < 20; i++ {
		closers.WriteString("\n</details>")
	}
	return kept + closers.String() + note(utf16Len(kept))
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		w := utf16.RuneLen(r)
		if w < 0 {
			w = 1
		}
		n += w
	}
	return n
}

// thousands formats 65536 as "65,536".
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
