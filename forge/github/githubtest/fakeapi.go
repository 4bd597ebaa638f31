package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf16"
)

// MaxCommentLength is GitHub's limit on a comment's body, in UTF-16 code
// units (github.MaxCommentLength; repeated here so that forge/github's own
// tests can import this package).
const MaxCommentLength = 65536

// Comment is an issue comment as the API returns it.
type Comment struct {
	ID      int64  `json:"id"`
	HTMLURL string `json:"html_url"`
	Body    string `json:"body"`
}

// PullRequest is a pull request as the API returns it (the fields netrecon
// reads, and the ones a test checks).
type PullRequest struct {
	Number  int    `json:"number"`
	HTMLURL string `json:"html_url"`
	State   string `json:"state"`
	Title   string `json:"title"`
	Body    string `json:"body"`
	Head    Ref    `json:"head"`
	Base    Ref    `json:"base"`
}

// Ref is a pull request's head or base.
type Ref struct {
	Ref string `json:"ref"`
}

// FakeAPI behaves like the part of the GitHub REST API netrecon uses: issue
// comments of one pull request, listed with per_page/page and Link headers,
// created with POST and edited with PATCH; pull requests opened with POST
// and listed by head branch; all behind a bearer token.
type FakeAPI struct {
	t     *testing.T
	Srv   *httptest.Server
	Token string
	Repo  string // owner/name
	PR    int    // the pull request whose comments are served
	// Hook, when set, sees each request first; returning true means it
	// answered and the normal handling is skipped.
	Hook func(w http.ResponseWriter, r *http.Request, n int) bool
	// HasBranch, when set, says whether a branch exists in the repo's Git
	// remote: as on GitHub, a pull request from a branch that does not
	// exist is refused (422).
	HasBranch func(name string) bool

	mu       sync.Mutex
	comments []Comment
	pulls    []PullRequest
	nextID   int64
	requests []string // "METHOD path?query"
}

// New starts a fake API for t; it stops when t ends.
func New(t *testing.T) *FakeAPI {
	t.Helper()
	f := &FakeAPI{t: t, Token: "ghs_s3cr3tT0kenValue1234567890", Repo: "example-isp/intent", PR: 7, nextID: 1000}
	f.Srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Srv.Close)
	return f
}

// URL is the API's base URL.
func (f *FakeAPI) URL() string { return f.Srv.URL }

// Seed adds n comments; the one at index markerAt (if ≥ 0) carries body.
func (f *FakeAPI) Seed(n, markerAt int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range n {
		b := fmt.Sprintf("comment %d: looks good", i)
		if i == markerAt {
			b = body
		}
		f.addLocked(b)
	}
}

// AddComment adds one comment, as another user would.
func (f *FakeAPI) AddComment(body string) Comment {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addLocked(body)
}

func (f *FakeAPI) addLocked(body string) Comment {
	f.nextID++
	c := Comment{ID: f.nextID, Body: body, HTMLURL: fmt.Sprintf("https://github.example/%s/pull/%d#issuecomment-%d", f.Repo, f.PR, f.nextID)}
	f.comments = append(f.comments, c)
	return c
}

// Snapshot returns the comments and every request seen so far.
func (f *FakeAPI) Snapshot() (comments []Comment, requests []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Comment(nil), f.comments...), append([]string(nil), f.requests...)
}

// Pulls returns the pull requests opened so far.
func (f *FakeAPI) Pulls() []PullRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]PullRequest(nil), f.pulls...)
}

// WriteJSON answers v as JSON with status.
func (f *FakeAPI) WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		f.t.Errorf("fake API: encode: %v", err)
	}
}

func (f *FakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
	n := len(f.requests)
	f.mu.Unlock()
	if f.Hook != nil && f.Hook(w, r, n) {
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.Token {
		f.WriteJSON(w, 401, map[string]string{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
		return
	}
	if r.Header.Get("User-Agent") == "" || r.Header.Get("X-GitHub-Api-Version") == "" {
		f.WriteJSON(w, 400, map[string]string{"message": "missing User-Agent or API version"})
		return
	}
	listPath := fmt.Sprintf("/repos/%s/issues/%d/comments", f.Repo, f.PR)
	editPrefix := fmt.Sprintf("/repos/%s/issues/comments/", f.Repo)
	pullsPath := fmt.Sprintf("/repos/%s/pulls", f.Repo)
	switch {
	case r.URL.Path == listPath && r.Method == http.MethodGet:
		f.list(w, r)
	case r.URL.Path == listPath && r.Method == http.MethodPost:
		var in struct{ Body string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Body == "" {
			f.WriteJSON(w, 422, map[string]string{"message": "Validation Failed"})
			return
		}
		if utf16Len(in.Body) > MaxCommentLength {
			f.WriteJSON(w, 422, map[string]string{"message": "Body is too long (maximum is 65536 characters)"})
			return
		}
		f.mu.Lock()
		c := f.addLocked(in.Body)
		f.mu.Unlock()
		f.WriteJSON(w, 201, c)
	case strings.HasPrefix(r.URL.Path, editPrefix) && r.Method == http.MethodPatch:
		id, err := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, editPrefix), 10, 64)
		var in struct{ Body string }
		if err != nil || json.NewDecoder(r.Body).Decode(&in) != nil {
			f.WriteJSON(w, 422, map[string]string{"message": "Validation Failed"})
			return
		}
		if utf16Len(in.Body) > MaxCommentLength {
			f.WriteJSON(w, 422, map[string]string{"message": "Body is too long (maximum is 65536 characters)"})
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		for i := range f.comments {
			if f.comments[i].ID == id {
				f.comments[i].Body = in.Body
				f.WriteJSON(w, 200, f.comments[i])
				return
			}
		}
		f.WriteJSON(w, 404, map[string]string{"message": "Not Found"})
	case r.URL.Path == pullsPath && r.Method == http.MethodPost:
		f.openPull(w, r)
	case r.URL.Path == pullsPath && r.Method == http.MethodGet:
		f.listPulls(w, r)
	default:
		f.WriteJSON(w, 404, map[string]string{"message": "Not Found"})
	}
}

// openPull creates a pull request as GitHub does: title, head and base are
// required, the head branch must exist, and one open pull request per head
// and base is allowed.
func (f *FakeAPI) openPull(w http.ResponseWriter, r *http.Request) {
	var in struct{ Title, Head, Base, Body string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Title == "" || in.Head == "" || in.Base == "" {
		f.WriteJSON(w, 422, map[string]string{"message": "Validation Failed"})
		return
	}
	branch := in.Head
	if owner, b, ok := strings.Cut(in.Head, ":"); ok {
		if owner != strings.Split(f.Repo, "/")[0] {
			f.WriteJSON(w, 422, map[string]string{"message": "Validation Failed: head: invalid"})
			return
		}
		branch = b
	}
	if f.HasBranch != nil && !f.HasBranch(branch) {
		f.WriteJSON(w, 422, map[string]any{"message": "Validation Failed", "errors": []map[string]string{{"resource": "PullRequest", "field": "head", "code": "invalid"}}})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.pulls {
		if p.Head.Ref == branch && p.Base.Ref == in.Base && p.State == "open" {
			f.WriteJSON(w, 422, map[string]any{"message": "Validation Failed", "errors": []map[string]string{{"resource": "PullRequest", "code": "custom", "message": "A pull request already exists for " + in.Head + "."}}})
			return
		}
	}
	p := PullRequest{Number: 100 + len(f.pulls), State: "open", Title: in.Title, Body: in.Body, Head: Ref{branch}, Base: Ref{in.Base}}
	p.HTMLURL = fmt.Sprintf("https://github.example/%s/pull/%d", f.Repo, p.Number)
	f.pulls = append(f.pulls, p)
	f.WriteJSON(w, 201, p)
}

// listPulls lists pull requests, filtered by head ("owner:branch") and
// state (open by default, closed or all), as GET /repos/{repo}/pulls does.
func (f *FakeAPI) listPulls(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	var branch string
	if h := q.Get("head"); h != "" {
		_, branch, _ = strings.Cut(h, ":")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []PullRequest{}
	for _, p := range f.pulls {
		if (branch == "" || p.Head.Ref == branch) && (state == "all" || p.State == state) {
			out = append(out, p)
		}
	}
	f.WriteJSON(w, 200, out)
}

func (f *FakeAPI) list(w http.ResponseWriter, r *http.Request) {
	perPage, page := 30, 1
	if v, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && v > 0 {
		perPage = min(v, 100)
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && v > 0 {
		page = v
	}
	f.mu.Lock()
	all := append([]Comment(nil), f.comments...)
	f.mu.Unlock()
	last := max((len(all)+perPage-1)/perPage, 1)
	from, to := min((page-1)*perPage, len(all)), min(page*perPage, len(all))
	link := func(p int, rel string) string {
		return fmt.Sprintf(`<%s%s?per_page=%d&page=%d>; rel="%s"`, f.Srv.URL, r.URL.Path, perPage, p, rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	f.WriteJSON(w, 200, all[from:to])
}

func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }
