package github

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeAPI behaves like the part of the GitHub REST API netrecon uses: issue
// comments of one pull request, listed with per_page/page and Link headers,
// created with POST and edited with PATCH, behind a bearer token.
type fakeAPI struct {
	t     *testing.T
	srv   *httptest.Server
	token string
	repo  string // owner/name
	pr    int
	// hook, when set, sees each request first; returning true means it
	// answered and the normal handling is skipped.
	hook func(w http.ResponseWriter, r *http.Request, n int) bool

	mu       sync.Mutex
	comments []comment
	nextID   int64
	requests []string // "METHOD path?query"
}

func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, token: "ghs_s3cr3tT0kenValue1234567890", repo: "example-isp/intent", pr: 7, nextID: 1000}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// seed adds n comments; the one at index markerAt (if ≥ 0) carries body.
func (f *fakeAPI) seed(n, markerAt int, body string) {
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

func (f *fakeAPI) addLocked(body string) comment {
	f.nextID++
	c := comment{ID: f.nextID, Body: body, HTMLURL: fmt.Sprintf("https://github.example/%s/pull/%d#issuecomment-%d", f.repo, f.pr, f.nextID)}
	f.comments = append(f.comments, c)
	return c
}

func (f *fakeAPI) snapshot() (comments []comment, requests []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]comment(nil), f.comments...), append([]string(nil), f.requests...)
}

func (f *fakeAPI) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		f.t.Errorf("fake API: encode: %v", err)
	}
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
	n := len(f.requests)
	f.mu.Unlock()
	if f.hook != nil && f.hook(w, r, n) {
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		f.writeJSON(w, 401, map[string]string{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
		return
	}
	if r.Header.Get("User-Agent") == "" || r.Header.Get("X-GitHub-Api-Version") == "" {
		f.writeJSON(w, 400, map[string]string{"message": "missing User-Agent or API version"})
		return
	}
	listPath := fmt.Sprintf("/repos/%s/issues/%d/comments", f.repo, f.pr)
	editPrefix := fmt.Sprintf("/repos/%s/issues/comments/", f.repo)
	switch {
	case r.URL.Path == listPath && r.Method == http.MethodGet:
		f.list(w, r)
	case r.URL.Path == listPath && r.Method == http.MethodPost:
		var in struct{ Body string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Body == "" {
			f.writeJSON(w, 422, map[string]string{"message": "Validation Failed"})
			return
		}
		if utf16Len(in.Body) > MaxCommentLength {
			f.writeJSON(w, 422, map[string]string{"message": "Body is too long (maximum is 65536 characters)"})
			return
		}
		f.mu.Lock()
		c := f.addLocked(in.Body)
		f.mu.Unlock()
		f.writeJSON(w, 201, c)
	case strings.HasPrefix(r.URL.Path, editPrefix) && r.Method == http.MethodPatch:
		id, err := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, editPrefix), 10, 64)
		var in struct{ Body string }
		if err != nil || json.NewDecoder(r.Body).Decode(&in) != nil {
			f.writeJSON(w, 422, map[string]string{"message": "Validation Failed"})
			return
		}
		if utf16Len(in.Body) > MaxCommentLength {
			f.writeJSON(w, 422, map[string]string{"message": "Body is too long (maximum is 65536 characters)"})
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		for i := range f.comments {
			if f.comments[i].ID == id {
				f.comments[i].Body = in.Body
				f.writeJSON(w, 200, f.comments[i])
				return
			}
		}
		f.writeJSON(w, 404, map[string]string{"message": "Not Found"})
	default:
		f.writeJSON(w, 404, map[string]string{"message": "Not Found"})
	}
}

func (f *fakeAPI) list(w http.ResponseWriter, r *http.Request) {
	perPage, page := 30, 1
	if v, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && v > 0 {
		perPage = min(v, 100)
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && v > 0 {
		page = v
	}
	f.mu.Lock()
	all := append([]comment(nil), f.comments...)
	f.mu.Unlock()
	last := max((len(all)+perPage-1)/perPage, 1)
	from, to := min((page-1)*perPage, len(all)), min(page*perPage, len(all))
	link := func(p int, rel string) string {
		return fmt.Sprintf(`<%s%s?per_page=%d&page=%d>; rel="%s"`, f.srv.URL, r.URL.Path, perPage, p, rel)
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
	f.writeJSON(w, 200, all[from:to])
}
