package github

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/netrecon/netrecon/forge/github/githubtest"
)

const testMarker = "<!-- netrecon-plan -->"

// recorder stands in for time.Sleep: it notes each wait and returns at once.
type recorder struct {
	mu     sync.Mutex
	sleeps []time.Duration
}

func (r *recorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sleeps = append(r.sleeps, d)
	return ctx.Err()
}

func (r *recorder) got() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.sleeps...)
}

var fixedNow = time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)

func newTestClient(t *testing.T, f *githubtest.FakeAPI, extra ...Option) (*Client, *recorder, *bytes.Buffer) {
	t.Helper()
	rec := &recorder{}
	logs := &bytes.Buffer{}
	opts := append([]Option{
		WithBaseURL(f.Srv.URL),
		WithToken(f.Token),
		WithHTTPClient(f.Srv.Client()),
		WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithSleep(rec.sleep),
		WithClock(func() time.Time { return fixedNow }),
	}, extra...)
	c, err := New(opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, rec, logs
}

func TestUpsertUpdatesMarkedCommentOnPage3(t *testing.T) {
	f := githubtest.New(t)
	f.Seed(250, 230, testMarker+"\nold plan")
	c, rec, _ := newTestClient(t, f)

	url, created, err := c.UpsertComment(context.Background(), f.Repo, f.PR, testMarker, testMarker+"\nnew plan")
	if err != nil {
		t.Fatalf("UpsertComment: %v", err)
	}
	comments, reqs := f.Snapshot()
	if created {
		t.Errorf("created = true, want the marked comment updated")
	}
	if len(comments) != 250 {
		t.Errorf("%d comments, want 250 (no duplicate)", len(comments))
	}
	if comments[230].Body != testMarker+"\nnew plan" {
		t.Errorf("comment 230 = %q, want the new plan", comments[230].Body)
	}
	if url != comments[230].HTMLURL {
		t.Errorf("url = %q, want %q", url, comments[230].HTMLURL)
	}
	want := []string{
		"GET /repos/example-isp/intent/issues/7/comments?per_page=100",
		"GET /repos/example-isp/intent/issues/7/comments?per_page=100&page=2",
		"GET /repos/example-isp/intent/issues/7/comments?per_page=100&page=3",
		fmt.Sprintf("PATCH /repos/example-isp/intent/issues/comments/%d", comments[230].ID),
	}
	if strings.Join(reqs, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(reqs, "\n"), strings.Join(want, "\n"))
	}
	if s := rec.got(); len(s) != 0 {
		t.Errorf("slept %v, want no retries", s)
	}
}

func TestUpsertCreatesOnceThenUpdates(t *testing.T) {
	f := githubtest.New(t)
	f.Seed(3, -1, "")
	c, _, _ := newTestClient(t, f)
	ctx := context.Background()

	_, created, err := c.UpsertComment(ctx, f.Repo, f.PR, testMarker, testMarker+"\nplan 1")
	if err != nil || !created {
		t.Fatalf("first UpsertComment: created=%v err=%v, want created", created, err)
	}
	_, created, err = c.UpsertComment(ctx, f.Repo, f.PR, testMarker, testMarker+"\nplan 2")
	if err != nil || created {
		t.Fatalf("second UpsertComment: created=%v err=%v, want updated", created, err)
	}
	comments, _ := f.Snapshot()
	if len(comments) != 4 || comments[3].Body != testMarker+"\nplan 2" {
		t.Fatalf("comments = %d, last %q; want 4 with plan 2 last", len(comments), comments[len(comments)-1].Body)
	}
	// The same body again is not re-sent: no edit notification, no API call.
	_, _, err = c.UpsertComment(ctx, f.Repo, f.PR, testMarker, testMarker+"\nplan 2")
	if err != nil {
		t.Fatal(err)
	}
	if _, reqs := f.Snapshot(); strings.HasPrefix(reqs[len(reqs)-1], "PATCH") {
		t.Errorf("unchanged body was PATCHed again")
	}
}

func TestUpsertAddsMissingMarker(t *testing.T) {
	f := githubtest.New(t)
	c, _, _ := newTestClient(t, f)
	if _, _, err := c.UpsertComment(context.Background(), f.Repo, f.PR, testMarker, "a plan without marker"); err != nil {
		t.Fatal(err)
	}
	comments, _ := f.Snapshot()
	if !strings.HasPrefix(comments[0].Body, testMarker+"\n") {
		t.Errorf("body %q does not start with the marker", comments[0].Body)
	}
}

func TestRetry500Then200(t *testing.T) {
	f := githubtest.New(t)
	f.Seed(1, 0, testMarker+"\nold")
	f.Hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n == 1 {
			f.WriteJSON(w, 500, map[string]string{"message": "Server Error"})
			return true
		}
		return false
	}
	c, rec, _ := newTestClient(t, f)
	if _, _, err := c.UpsertComment(context.Background(), f.Repo, f.PR, testMarker, testMarker+"\nnew"); err != nil {
		t.Fatalf("UpsertComment: %v", err)
	}
	s := rec.got()
	if len(s) != 1 {
		t.Fatalf("slept %v, want one back-off", s)
	}
	if p := DefaultRetryPolicy(); s[0] < p.BaseDelay/2 || s[0] > p.BaseDelay {
		t.Errorf("first back-off %v, want within [%v, %v]", s[0], p.BaseDelay/2, p.BaseDelay)
	}
	if comments, _ := f.Snapshot(); comments[0].Body != testMarker+"\nnew" {
		t.Errorf("comment not updated after the retry")
	}
}

func TestRetryGivesUpWithCappedBackoff(t *testing.T) {
	f := githubtest.New(t)
	f.Hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		f.WriteJSON(w, 502, map[string]string{"message": "Bad Gateway"})
		return true
	}
	policy := RetryPolicy{MaxAttempts: 6, BaseDelay: time.Second, MaxDelay: 4 * time.Second, MaxWait: time.Minute}
	c, rec, _ := newTestClient(t, f, WithRetry(policy))
	_, _, err := c.UpsertComment(context.Background(), f.Repo, f.PR, testMarker, "x")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 502 {
		t.Fatalf("err = %v, want the 502", err)
	}
	s := rec.got()
	if len(s) != policy.MaxAttempts-1 {
		t.Fatalf("slept %d times, want %d", len(s), policy.MaxAttempts-1)
	}
	for i, d := range s {
		ceiling := min(policy.BaseDelay<<i, policy.MaxDelay)
		if d < ceiling/2 || d > ceiling {
			t.Errorf("back-off %d = %v, want within [%v, %v]", i+1, d, ceiling/2, ceiling)
		}
	}
}

func TestRetry429HonoursRetryAfter(t *testing.T) {
	f := githubtest.New(t)
	var once sync.Once
	f.Hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		handled := false
		if r.Method == http.MethodPost {
			once.Do(func() {
				w.Header().Set("Retry-After", "7")
				f.WriteJSON(w, 429, map[string]string{"message": "You have exceeded a secondary rate limit"})
				handled = true
			})
		}
		return handled
	}
	c, rec, _ := newTestClient(t, f)
	_, created, err := c.UpsertComment(context.Background(), f.Repo, f.PR, testMarker, testMarker+"\nplan")
	if err != nil || !created {
		t.Fatalf("UpsertComment: created=%v err=%v", created, err)
	}
	// A 429 means GitHub did nothing, so the POST itself is retried, after
	// exactly the wait the server asked for.
	if s := rec.got(); len(s) != 1 || s[0] != 7*time.Second {
		t.Errorf("slept %v, want exactly the 7s of Retry-After", s)
	}
	comments, reqs := f.Snapshot()
	if len(comments) != 1 || strings.Count(strings.Join(reqs, "\n"), "POST") != 2 {
		t.Errorf("%d comments, requests:\n%s", len(comments), strings.Join(reqs, "\n"))
	}
}

func TestRateLimit403WaitsForReset(t *testing.T) {
	f := githubtest.New(t)
	f.Hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n == 1 {
			w.Header().Set("X-Ratelimit-Remaining", "0")
			w.Header().Set("X-Ratelimit-Reset", fmt.Sprint(fixedNow.Add(30*time.Second).Unix()))
			f.WriteJSON(w, 403, map[string]string{"message": "API rate limit exceeded"})
			return true
		}
		return false
	}
	c, rec, _ := newTestClient(t, f)
	if _, _, err := c.UpsertComment(context.Background(), f.Repo, f.PR, testMarker, "plan"); err != nil {
		t.Fatalf("UpsertComment: %v", err)
	}
	if s := rec.got(); len(s) != 1 || s[0] != 30*time.Second {
		t.Errorf("slept %v, want 30s until x-ratelimit-reset", s)
	}
}

func TestSecondaryRateLimitWaitsAMinute(t *testing.T) {
	f := githubtest.New(t)
	f.Hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n == 1 {
			f.WriteJSON(w, 403, map[string]string{"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."})
			return true
		}
		return false
	}
	c, rec, _ := newTestClient(t, f)
	if _, _, err := c.UpsertComment(context.Background(), f.Repo, f.PR, testMarker, "plan"); err != nil {
		t.Fatalf("UpsertComment: %v", err)
	}
	if s := rec.got(); len(s) != 1 || s[0] != time.Minute {
		t.Errorf("slept %v, want one minute, as GitHub asks when it gives no time", s)
	}
}

func TestRateLimitTooFarFailsAtOnce(t *testing.T) {
	f := githubtest.New(t)
	reset := fixedNow.Add(40 * time.Minute)
	f.Hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		w.Header().Set("X-Ratelimit-Remaining", "0")
		w.Header().Set("X-Ratelimit-Reset", fmt.Sprint(reset.Unix()))
		f.WriteJSON(w, 403, map[string]string{"message": "API rate limit exceeded"})
		return true
	}
	c, rec, _ := newTestClient(t, f)
	_, _, err := c.UpsertComment(context.Background(), f.Repo, f.PR, testMarker, "plan")
	if !errors.Is(err, ErrRateLimited) || errors.Is(err, ErrForbidden) {
		t.Fatalf("err = %v, want ErrRateLimited and not ErrForbidden", err)
	}
	if !strings.Contains(err.Error(), reset.Format(time.RFC3339)) {
		t.Errorf("error %q does not say when the limit resets", err)
	}
	if s := rec.got(); len(s) != 0 {
		t.Errorf("slept %v; a wait beyond MaxWait must fail at once", s)
	}
}

func TestErrorsNeedingAHuman(t *testing.T) {
	tests := []struct {
		name     string
		token    string // "" means the right one
		repo     string // "" means the fake's repo
		status   int    // forced status, 0: none
		sentinel error
		says     string
	}{
		{name: "401 bad token", token: "ghp_wrongwrongwrong", sentinel: ErrUnauthorized, says: "GITHUB_TOKEN"},
		{name: "403 permissions", status: 403, sentinel: ErrForbidden, says: "pull-requests: write"},
		{name: "404 repo", repo: "example-isp/missing", sentinel: ErrNotFound, says: "example-isp/missing or pull request #7 not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := githubtest.New(t)
			if tt.status != 0 {
				f.Hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
					f.WriteJSON(w, tt.status, map[string]string{"message": "Resource not accessible by integration"})
					return true
				}
			}
			var extra []Option
			if tt.token != "" {
				extra = append(extra, WithToken(tt.token))
			}
			c, rec, _ := newTestClient(t, f, extra...)
			repo := f.Repo
			if tt.repo != "" {
				repo = tt.repo
			}
			_, _, err := c.UpsertComment(context.Background(), repo, f.PR, testMarker, "plan")
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("err = %v, want %v", err, tt.sentinel)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q does not say %q", err, tt.says)
			}
			if s := rec.got(); len(s) != 0 {
				t.Errorf("slept %v; an error a human must fix is not retried", s)
			}
		})
	}
}

// TestTokenNeverInErrorsOrLogs uses a hostile server that echoes the
// Authorization header back in every error message.
func TestTokenNeverInErrorsOrLogs(t *testing.T) {
	f := githubtest.New(t)
	f.Hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		status := 500
		if n > 2 {
			status = 401
		}
		f.WriteJSON(w, status, map[string]string{"message": "rejected " + r.Header.Get("Authorization")})
		return true
	}
	c, _, logs := newTestClient(t, f)
	_, _, err := c.UpsertComment(context.Background(), f.Repo, f.PR, testMarker, "plan")
	if err == nil {
		t.Fatal("want an error")
	}
	for where, text := range map[string]string{"error": err.Error(), "logs": logs.String(), "%#v": fmt.Sprintf("%#v", err)} {
		if strings.Contains(text, f.Token) {
			t.Errorf("token found in %s: %s", where, text)
		}
	}
	if !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("error %q: want the echoed token replaced by [REDACTED]", err)
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("logs do not show the retries:\n%s", logs)
	}
}

// TestCreateFailureDoesNotDuplicate: GitHub creates the comment, then the
// answer is lost as a 502. Posting again would leave two plan comments.
func TestCreateFailureDoesNotDuplicate(t *testing.T) {
	f := githubtest.New(t)
	var once sync.Once
	f.Hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		handled := false
		if r.Method == http.MethodPost {
			once.Do(func() {
				f.AddComment(testMarker + "\nplan")
				f.WriteJSON(w, 502, map[string]string{"message": "Bad Gateway"})
				handled = true
			})
		}
		return handled
	}
	c, rec, _ := newTestClient(t, f)
	url, _, err := c.UpsertComment(context.Background(), f.Repo, f.PR, testMarker, testMarker+"\nplan")
	if err != nil {
		t.Fatalf("UpsertComment: %v", err)
	}
	comments, reqs := f.Snapshot()
	if len(comments) != 1 {
		t.Fatalf("%d comments after a lost create, want 1; requests:\n%s", len(comments), strings.Join(reqs, "\n"))
	}
	if url != comments[0].HTMLURL || len(rec.got()) != 1 {
		t.Errorf("url %q, sleeps %v", url, rec.got())
	}
}

func TestBodyTruncatedKeepsMarker(t *testing.T) {
	f := githubtest.New(t)
	c, _, _ := newTestClient(t, f)
	var b strings.Builder
	b.WriteString(testMarker + "\n## netrecon plan\n<details><summary>pe1-tyo</summary>\n\n```diff\n")
	for i := 0; b.Len() < 200_000; i++ {
		fmt.Fprintf(&b, "- /interfaces/interface[name='ge-0/0/1.%d']/description 東京 🔌\n", i)
	}
	b.WriteString("```\n</details>\n")
	if _, _, err := c.UpsertComment(context.Background(), f.Repo, f.PR, testMarker, b.String()); err != nil {
		t.Fatalf("UpsertComment: %v", err)
	}
	comments, _ := f.Snapshot()
	got := comments[0].Body
	if n := utf16Len(got); n >= MaxCommentLength {
		t.Errorf("body is %d UTF-16 units, want under %d", n, MaxCommentLength)
	}
	if !strings.HasPrefix(got, testMarker) {
		t.Errorf("truncated body lost its marker")
	}
	if !utf8.ValidString(got) {
		t.Errorf("truncated body is not valid UTF-8")
	}
	if !strings.Contains(got, "This comment is truncated") {
		t.Errorf("no truncation note:\n%s", got[len(got)-300:])
	}
	if strings.Count(got, "```")%2 != 0 {
		t.Errorf("code fence left open")
	}
	if strings.Count(got, "<details") != strings.Count(got, "</details>") {
		t.Errorf("<details> left open")
	}
	// The next run still finds and edits it.
	if _, created, err := c.UpsertComment(context.Background(), f.Repo, f.PR, testMarker, testMarker+"\nsmall"); err != nil || created {
		t.Errorf("second upsert: created=%v err=%v", created, err)
	}
}

func TestPaginationRefusesOtherHost(t *testing.T) {
	f := githubtest.New(t)
	f.Hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		w.Header().Set("Link", `<https://evil.example/steal?page=2>; rel="next"`)
		f.WriteJSON(w, 200, []githubtest.Comment{{ID: 1, Body: "hi"}})
		return true
	}
	c, _, _ := newTestClient(t, f)
	_, _, err := c.UpsertComment(context.Background(), f.Repo, f.PR, testMarker, "plan")
	if err == nil || !strings.Contains(err.Error(), "refusing to send the token") {
		t.Fatalf("err = %v, want a refusal to follow the link", err)
	}
	if _, reqs := f.Snapshot(); len(reqs) != 1 {
		t.Errorf("requests %v, want only the first page", reqs)
	}
}

func TestEnterpriseBasePath(t *testing.T) {
	f := githubtest.New(t)
	f.Hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if !strings.HasPrefix(r.URL.Path, "/api/v3/") {
			f.WriteJSON(w, 404, map[string]string{"message": "Not Found"})
			return true
		}
		r.URL.Path = strings.TrimPrefix(r.URL.Path, "/api/v3")
		return false
	}
	c, _, _ := newTestClient(t, f, WithBaseURL(f.Srv.URL+"/api/v3/"))
	if _, created, err := c.UpsertComment(context.Background(), f.Repo, f.PR, testMarker, "plan"); err != nil || !created {
		t.Fatalf("created=%v err=%v", created, err)
	}
}

func TestContextCancelledStopsRetrying(t *testing.T) {
	f := githubtest.New(t)
	f.Hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		f.WriteJSON(w, 503, map[string]string{"message": "unavailable"})
		return true
	}
	ctx, cancel := context.WithCancel(context.Background())
	c, _, _ := newTestClient(t, f, WithSleep(func(ctx context.Context, d time.Duration) error {
		cancel()
		return ctx.Err()
	}))
	_, _, err := c.UpsertComment(ctx, f.Repo, f.PR, testMarker, "plan")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, reqs := f.Snapshot(); len(reqs) != 1 {
		t.Errorf("%d requests, want 1", len(reqs))
	}
}

func TestBadArguments(t *testing.T) {
	f := githubtest.New(t)
	c, _, _ := newTestClient(t, f)
	for _, tc := range []struct {
		repo, marker string
		pr           int
	}{
		{"noslash", testMarker, 1},
		{"../etc", testMarker, 1},
		{"a/b/c", testMarker, 1},
		{"a/b", testMarker, 0},
		{"a/b", "netrecon-plan", 1},
		{"a/b", "", 1},
	} {
		if _, _, err := c.UpsertComment(context.Background(), tc.repo, tc.pr, tc.marker, "x"); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("UpsertComment(%q, %d, %q) = %v, want ErrInvalidArgument", tc.repo, tc.pr, tc.marker, err)
		}
	}
	if _, reqs := f.Snapshot(); len(reqs) != 0 {
		t.Errorf("bad arguments reached the API: %v", reqs)
	}
}

func TestNewOptions(t *testing.T) {
	for name, opts := range map[string][]Option{
		"no token":           nil,
		"blank token":        {WithToken("  \n")},
		"token with space":   {WithToken("a b")},
		"credentials in URL": {WithToken("t"), WithBaseURL("https://user:pw@api.example")},
		"not http":           {WithToken("t"), WithBaseURL("ftp://api.example")},
		"bad retry":          {WithToken("t"), WithRetry(RetryPolicy{MaxAttempts: 0})},
		"nil http client":    {WithToken("t"), WithHTTPClient(nil)},
	} {
		c, err := New(opts...)
		if err == nil {
			t.Errorf("%s: New succeeded, want an error", name)
			continue
		}
		if strings.Contains(err.Error(), "pw") {
			t.Errorf("%s: error leaks the URL password: %v", name, err)
		}
		_ = c
	}
	c, err := New(WithToken("tok\n"), WithLogger(nil))
	if err != nil || c.token != "tok" || c.base.String() != DefaultBaseURL {
		t.Errorf("defaults: %v %+v", err, c)
	}
}

func TestLinkNext(t *testing.T) {
	for header, want := range map[string]string{
		"": "",
		`<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last"`: "https://api.github.com/x?page=2",
		`<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x?page=3>; rel="next"`: "https://api.github.com/x?page=3",
		`<https://api.github.com/x?page=1>; rel="first"`:                                               "",
		`<https://a/x?page=2>;rel=next`:                                                                "https://a/x?page=2",
		`<https://a/x?page=2>; rel="prev next"`:                                                        "https://a/x?page=2",
		`<https://a/x?page=2`:                                                                          "",
	} {
		got, _ := linkNext(header)
		if got != want {
			t.Errorf("linkNext(%q) = %q, want %q", header, got, want)
		}
	}
}

func TestFitBodyShortUnchanged(t *testing.T) {
	body := testMarker + "\nsmall"
	if got := fitBody(body, testMarker); got != body {
		t.Errorf("fitBody changed a short body: %q", got)
	}
}
