package daemon

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/lab/labtest"
)

// gitHTTPServer serves the repos under root with git's own http-backend (the
// CGI program of the git package), behind HTTP basic auth that accepts only
// token, as a private forge does.
func gitHTTPServer(t *testing.T, root, token string) *httptest.Server {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		labtest.Missing(t, "no git command to serve HTTP: %v", err)
		return nil
	}
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pass, ok := r.BasicAuth(); !ok || pass != token {
			w.Header().Set("WWW-Authenticate", `Basic realm="intent"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A daemon follows a private repo over https with the token of
// repo.auth.token_file: a wrong token stops New with an error that says the
// server refused the login and shows no token; the right one fetches, and
// a new commit follows. No token reaches a log line.
func TestRepoAuthHTTPSToken(t *testing.T) {
	const token = "ghs_private-intent-token-1234"
	l := newLab(t, exampleFiles(t))
	srv := gitHTTPServer(t, filepath.Dir(l.repo), token)
	tokenFile := filepath.Join(t.TempDir(), "token")
	write := func(v string, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(tokenFile, []byte(v+"\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(tokenFile, mode); err != nil {
			t.Fatal(err)
		}
	}
	l.cfg.Repo = RepoConfig{URL: srv.URL + "/" + filepath.Base(l.repo), Branch: "main",
		Auth: &RepoAuthConfig{Username: "x-access-token", TokenFile: tokenFile}}
	var logs bytes.Buffer
	opts := Options{Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Dialer: l.dialer, SNMP: testSNMP}

	write("wrong-token-5678", 0o600)
	if d, err := New(context.Background(), l.cfg, opts); err == nil {
		d.Close()
		t.Fatal("New with a wrong token: no error")
	} else if !strings.Contains(err.Error(), "authentication required") || strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("New with a wrong token: %v; want the server's refusal, without the token", err)
	}

	write(token, 0o644)
	if d, err := New(context.Background(), l.cfg, opts); err == nil {
		d.Close()
		t.Fatal("New with a token file others may read: no error")
	} else if !strings.Contains(err.Error(), "repo.auth.token_file") {
		t.Errorf("New with a token file others may read: %v; want it refused, naming the setting", err)
	}

	write(token, 0o600)
	d, err := New(context.Background(), l.cfg, opts)
	if err != nil {
		t.Fatalf("New with the right token: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	first := l.git("rev-parse", "HEAD")
	if p := d.SyncOnce(context.Background(), ReasonStart); p.Error != "" || p.Commit != first {
		t.Fatalf("pass: commit %s, error %q; want %s", p.Commit, p.Error, first)
	}
	second := l.commit("touch", map[string]string{"README.md": "private\n"})
	if p := d.SyncOnce(context.Background(), ReasonStart); p.Error != "" || p.Head != second {
		t.Fatalf("pass after a push: head %s, error %q; want %s", p.Head, p.Error, second)
	}
	if strings.Contains(logs.String(), token) || strings.Contains(logs.String(), "wrong-token") {
		t.Errorf("a token reached the logs:\n%s", logs.String())
	}
	cfg, err := os.ReadFile(filepath.Join(l.state, "mirror", "config"))
	if err != nil || strings.Contains(string(cfg), token) {
		t.Errorf("the mirror's git config holds the token (%v):\n%s", err, cfg)
	}
}
