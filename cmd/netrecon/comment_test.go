package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"
)

const testToken = "ghs_commentTestT0ken0123456789"

// miniAPI answers the three issue-comment calls for pull request 42 of
// example-isp/intent; forbid makes every write answer 403 as a fork's
// read-only token gets.
type miniAPI struct {
	mu       sync.Mutex
	bodies   []string
	forbid   bool
	requests int
}

func (m *miniAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests++
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		w.WriteHeader(401)
		fmt.Fprint(w, `{"message":"Bad credentials"}`)
		return
	}
	const list = "/repos/example-isp/intent/issues/42/comments"
	var in struct{ Body string }
	switch {
	case r.Method == http.MethodGet && r.URL.Path == list:
		out := []map[string]any{}
		for i, b := range m.bodies {
			out = append(out, map[string]any{"id": i + 1, "body": b, "html_url": fmt.Sprintf("https://github.example/c/%d", i+1)})
		}
		_ = json.NewEncoder(w).Encode(out)
	case m.forbid:
		w.WriteHeader(403)
		fmt.Fprint(w, `{"message":"Resource not accessible by integration"}`)
	case r.Method == http.MethodPost && r.URL.Path == list:
		_ = json.NewDecoder(r.Body).Decode(&in)
		m.bodies = append(m.bodies, in.Body)
		w.WriteHeader(201)
		fmt.Fprintf(w, `{"id":%d,"html_url":"https://github.example/c/%d"}`, len(m.bodies), len(m.bodies))
	case r.Method == http.MethodPatch && strings.HasPrefix(r.URL.Path, "/repos/example-isp/intent/issues/comments/"):
		_ = json.NewDecoder(r.Body).Decode(&in)
		m.bodies[0] = in.Body
		fmt.Fprint(w, `{"id":1,"html_url":"https://github.example/c/1"}`)
	default:
		w.WriteHeader(404)
		fmt.Fprint(w, `{"message":"Not Found"}`)
	}
}

// runComment runs `netrecon comment ARGS` the way run() does and returns
// the exit code, standard output and standard error.
func runComment(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	a := &app{stdout: &out, stderr: &errOut, stdin: strings.NewReader(stdin)}
	root := &cobra.Command{Use: "netrecon", SilenceUsage: true, SilenceErrors: true}
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.AddCommand(newCommentCmd(a))
	root.SetArgs(append([]string{"comment"}, args...))
	err := root.Execute()
	code := 0
	var ee *exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.code
		if ee.err != nil {
			fmt.Fprintf(&errOut, "netrecon: %v\n", ee.err)
		}
	default:
		code = 2
		fmt.Fprintf(&errOut, "netrecon: %v\n", err)
	}
	return code, out.String(), errOut.String()
}

func setupComment(t *testing.T) (*miniAPI, string) {
	t.Helper()
	api := &miniAPI{}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	t.Setenv("GITHUB_TOKEN", testToken)
	t.Setenv("GITHUB_API_URL", srv.URL)
	body := filepath.Join(t.TempDir(), "plan.md")
	if err := os.WriteFile(body, []byte("<!-- netrecon-plan -->\n## Plan: 0 to add, 0 to change, 1 to destroy\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return api, body
}

func TestCommentCreatesThenUpdates(t *testing.T) {
	api, body := setupComment(t)
	code, out, errOut := runComment(t, "", "--repo", "example-isp/intent", "--pr", "42", "--body-file", body)
	if code != 0 || !strings.Contains(out, "created plan comment https://github.example/c/1") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, errOut = runComment(t, "<!-- netrecon-plan -->\nnew plan\n", "--repo", "example-isp/intent", "--pr", "42", "--body-file", "-")
	if code != 0 || !strings.Contains(out, "updated plan comment") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if len(api.bodies) != 1 || api.bodies[0] != "<!-- netrecon-plan -->\nnew plan\n" {
		t.Errorf("comments %q, want one with the new plan", api.bodies)
	}
}

func TestCommentForbidden(t *testing.T) {
	api, body := setupComment(t)
	api.forbid = true
	args := []string{"--repo", "example-isp/intent", "--pr", "42", "--body-file", body}

	code, _, errOut := runComment(t, "", args...)
	if code != 1 || !strings.Contains(errOut, "pull-requests: write") {
		t.Errorf("without --allow-readonly: exit %d, stderr %q; want 1 naming the permission", code, errOut)
	}
	code, _, errOut = runComment(t, "", append(args, "--allow-readonly")...)
	if code != 0 || !strings.Contains(errOut, "read-only") {
		t.Errorf("with --allow-readonly: exit %d, stderr %q; want 0 with a note", code, errOut)
	}
}

func TestCommentBadTokenNotPrinted(t *testing.T) {
	_, body := setupComment(t)
	t.Setenv("GITHUB_TOKEN", "ghp_wrongButSecretValue42")
	code, out, errOut := runComment(t, "", "--repo", "example-isp/intent", "--pr", "42", "--body-file", body, "--allow-readonly")
	if code != 1 || !strings.Contains(errOut, "GITHUB_TOKEN") {
		t.Errorf("exit %d, stderr %q; want 1 pointing at GITHUB_TOKEN (--allow-readonly covers 403 only)", code, errOut)
	}
	if strings.Contains(out+errOut, "ghp_wrongButSecretValue42") {
		t.Errorf("token printed: %s%s", out, errOut)
	}
}

func TestCommentUsage(t *testing.T) {
	api, body := setupComment(t)
	empty := filepath.Join(t.TempDir(), "empty.md")
	if err := os.WriteFile(empty, []byte("\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"no flags":       {},
		"no pr":          {"--repo", "example-isp/intent", "--body-file", body},
		"bad pr":         {"--repo", "example-isp/intent", "--pr", "0", "--body-file", body},
		"bad repo":       {"--repo", "intent", "--pr", "42", "--body-file", body},
		"visible marker": {"--repo", "example-isp/intent", "--pr", "42", "--body-file", body, "--marker", "netrecon-plan"},
		"missing file":   {"--repo", "example-isp/intent", "--pr", "42", "--body-file", "/nonexistent/plan.md"},
		"empty body":     {"--repo", "example-isp/intent", "--pr", "42", "--body-file", empty},
		"stray argument": {"--repo", "example-isp/intent", "--pr", "42", "--body-file", body, "extra"},
	} {
		if code, _, errOut := runComment(t, "", args...); code != 2 {
			t.Errorf("%s: exit %d (stderr %q), want 2", name, code, errOut)
		}
	}
	t.Setenv("GITHUB_TOKEN", "")
	if code, _, errOut := runComment(t, "", "--repo", "example-isp/intent", "--pr", "42", "--body-file", body); code != 2 || !strings.Contains(errOut, "GITHUB_TOKEN is not set") {
		t.Errorf("no token: exit %d, stderr %q", code, errOut)
	}
	if api.requests != 0 {
		t.Errorf("usage errors reached the API %d times", api.requests)
	}
}
