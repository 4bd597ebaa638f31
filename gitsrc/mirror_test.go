package gitsrc

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/netrecon/netrecon/lab/labtest"
)

// workRepo is the intent repo as its authors have it: a work tree where they
// commit, signed or not, and from which the mirror fetches by path.
type workRepo struct {
	t    *testing.T
	dir  string
	git  *git.Repository
	tick int // commit times step one minute, so history is deterministic
}

func newWorkRepo(t *testing.T) *workRepo {
	t.Helper()
	dir := t.TempDir()
	g, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &workRepo{t: t, dir: dir, git: g}
}

// commit writes one file and commits it, signed by key unless key is nil, with
// parents when given (a merge) or on HEAD otherwise.
func (w *workRepo) commit(name, content string, key *openpgp.Entity, parents ...plumbing.Hash) string {
	w.t.Helper()
	write(w.t, w.dir, name, content)
	wt, err := w.git.Worktree()
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := wt.Add(name); err != nil {
		w.t.Fatal(err)
	}
	w.tick++
	sig := &object.Signature{Name: "t", Email: "t@example.com", When: time.Date(2026, 1, 1, 0, w.tick, 0, 0, time.UTC)}
	h, err := wt.Commit("change "+name, &git.CommitOptions{Author: sig, Committer: sig, SignKey: key, Parents: parents})
	if err != nil {
		w.t.Fatal(err)
	}
	return h.String()
}

// checkout switches to branch, creating it at commit when commit is given, as
// `git switch [-c branch commit]`.
func (w *workRepo) checkout(branch, commit string) {
	w.t.Helper()
	wt, err := w.git.Worktree()
	if err != nil {
		w.t.Fatal(err)
	}
	o := &git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(branch), Force: true}
	if commit != "" {
		o.Hash, o.Create = plumbing.NewHash(commit), true
	}
	if err := wt.Checkout(o); err != nil {
		w.t.Fatal(err)
	}
}

// resetHard moves the checked-out branch to commit: the first half of a
// force-push that rewrites history.
func (w *workRepo) resetHard(commit string) {
	w.t.Helper()
	wt, err := w.git.Worktree()
	if err != nil {
		w.t.Fatal(err)
	}
	if err := wt.Reset(&git.ResetOptions{Commit: plumbing.NewHash(commit), Mode: git.HardReset}); err != nil {
		w.t.Fatal(err)
	}
}

// newKey makes a signing key; Ed25519 keeps the tests fast.
func newKey(t *testing.T, name string) (*openpgp.Entity, string) {
	t.Helper()
	e, err := openpgp.NewEntity(name, "", name+"@example.com", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	aw, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(aw); err != nil {
		t.Fatal(err)
	}
	if err := aw.Close(); err != nil {
		t.Fatal(err)
	}
	return e, buf.String()
}

func openMirror(t *testing.T, url string, opts ...MirrorOption) *Mirror {
	t.Helper()
	m, err := OpenMirror(t.Context(), url, "main", filepath.Join(t.TempDir(), "mirror"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func readFile(t *testing.T, m *Mirror, commit, name string) string {
	t.Helper()
	rv, err := m.Revision(commit)
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := rv.FS()
	if err != nil {
		t.Fatal(err)
	}
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMirrorFetchPicksUpNewCommit(t *testing.T) {
	for _, tc := range []struct {
		name string
		url  func(dir string) string
	}{
		{"path", func(dir string) string { return dir }},
		{"file URL", func(dir string) string { return "file://" + filepath.ToSlash(dir) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorkRepo(t)
			first := w.commit("services/a.yaml", "a: 1\n", nil)
			var logs bytes.Buffer
			m := openMirror(t, tc.url(w.dir), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			head, err := m.Head()
			if err != nil || head != first {
				t.Fatalf("head after clone = %s, %v; want %s", head, err, first)
			}
			second := w.commit("services/a.yaml", "a: 2\n", nil)
			if head, err = m.Fetch(t.Context()); err != nil || head != second {
				t.Fatalf("Fetch = %s, %v; want %s", head, err, second)
			}
			if got := readFile(t, m, second, "services/a.yaml"); got != "a: 2\n" {
				t.Errorf("new revision reads %q", got)
			}
			if got := readFile(t, m, first, "services/a.yaml"); got != "a: 1\n" {
				t.Errorf("old revision reads %q", got)
			}
			if head, err = m.Fetch(t.Context()); err != nil || head != second {
				t.Errorf("Fetch with nothing new = %s, %v; want %s", head, err, second)
			}
			if !strings.Contains(logs.String(), second) {
				t.Errorf("no log line names the new head:\n%s", logs.String())
			}
		})
	}
}

func TestMirrorHasNoWorkTree(t *testing.T) {
	w := newWorkRepo(t)
	w.commit("services/a.yaml", "a: 1\n", nil)
	m := openMirror(t, w.dir)
	if _, err := os.Stat(filepath.Join(m.dir, "services")); !os.IsNotExist(err) {
		t.Errorf("the mirror checked files out: %v", err)
	}
	if _, err := os.Stat(filepath.Join(m.dir, "HEAD")); err != nil {
		t.Errorf("the mirror is not a bare repository: %v", err)
	}
	// Opening a work tree as a mirror is refused: the daemon reads only
	// fetched commits.
	_, err := OpenMirror(t.Context(), w.dir, "main", w.dir)
	if err == nil || !strings.Contains(err.Error(), "work tree") {
		t.Errorf("opening a work tree as a mirror: %v", err)
	}
}

func TestMirrorReopen(t *testing.T) {
	w := newWorkRepo(t)
	first := w.commit("services/a.yaml", "a: 1\n", nil)
	dir := filepath.Join(t.TempDir(), "mirror")
	if _, err := OpenMirror(t.Context(), w.dir, "main", dir); err != nil {
		t.Fatal(err)
	}
	w.checkout("prod", first)
	w.checkout("main", "")
	other := newWorkRepo(t)
	other.commit("x", "x", nil)

	for _, tc := range []struct {
		name     string
		url      string
		branch   string
		mismatch bool
	}{
		{"same URL and branch", w.dir, "main", false},
		{"other repo", other.dir, "main", true},
		{"other branch", w.dir, "prod", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := OpenMirror(t.Context(), tc.url, tc.branch, dir)
			var mm *MirrorMismatchError
			if got := errors.As(err, &mm); got != tc.mismatch {
				t.Fatalf("OpenMirror: %v; want mismatch %v", err, tc.mismatch)
			}
			if tc.mismatch {
				return
			}
			// Reopening reads the last fetch, without the network.
			if head, err := m.Head(); err != nil || head != first {
				t.Errorf("Head = %s, %v; want %s", head, err, first)
			}
		})
	}

	notRepo := t.TempDir()
	write(t, notRepo, "keep.txt", "mine")
	if _, err := OpenMirror(t.Context(), w.dir, "main", notRepo); err == nil {
		t.Error("OpenMirror wrote into a folder with someone's files")
	}
	if _, err := os.Stat(filepath.Join(notRepo, "keep.txt")); err != nil {
		t.Errorf("OpenMirror touched a folder it refused: %v", err)
	}
}

func TestOpenMirrorBadInput(t *testing.T) {
	w := newWorkRepo(t)
	w.commit("services/a.yaml", "a: 1\n", nil)
	for _, tc := range []struct {
		name   string
		url    string
		branch string
		opts   []MirrorOption
	}{
		{"empty URL", "", "main", nil},
		{"bad branch", w.dir, "a..b", nil},
		{"option-like branch", w.dir, "-x", nil},
		{"missing branch", w.dir, "nope", nil},
		{"missing repo", filepath.Join(w.dir, "nope"), "main", nil},
		{"token for a path", w.dir, "main", []MirrorOption{WithBasicAuth("u", "tok")}},
		{"ssh key over https", "https://git.example.com/r.git", "main", []MirrorOption{WithSSHKey("git", []byte("k"), "")}},
		{"token over ssh", "ssh://git@git.example.com/r.git", "main", []MirrorOption{WithBasicAuth("u", "tok")}},
		{"bad ssh key", "ssh://git@git.example.com/r.git", "main", []MirrorOption{WithSSHKey("git", []byte("not a key"), "")}},
		{"zero timeout", w.dir, "main", []MirrorOption{WithFetchTimeout(0)}},
		{"intent dir outside", w.dir, "main", []MirrorOption{WithIntentDir("../x")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "mirror")
			if _, err := OpenMirror(t.Context(), tc.url, tc.branch, dir, tc.opts...); err == nil {
				t.Fatal("no error")
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("a failed OpenMirror left %s behind: %v", dir, err)
			}
		})
	}
}

func TestMirrorRevision(t *testing.T) {
	w := newWorkRepo(t)
	w.commit("README.md", "hi\n", nil)
	head := w.commit("net/services/a.yaml", "a: 1\n", nil)
	m := openMirror(t, w.dir, WithIntentDir("net"))
	if got := readFile(t, m, head, "services/a.yaml"); got != "a: 1\n" {
		t.Errorf("read %q through the intent dir", got)
	}
	for _, id := range []string{"main", "HEAD", head[:12], strings.Repeat("0", 40)} {
		if _, err := m.Revision(id); err == nil {
			t.Errorf("Revision(%q) did not fail: only full IDs of fetched commits are read", id)
		}
	}
}

func TestMirrorFetchTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // hang until the client gives up
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	_, err := OpenMirror(t.Context(), srv.URL+"/intent.git", "main", filepath.Join(t.TempDir(), "m"), WithFetchTimeout(100*time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want a deadline", err)
	}
	if !strings.Contains(err.Error(), "longer than 100ms") {
		t.Errorf("the error does not say which limit was hit: %v", err)
	}
}

// TestMirrorErrorsHideCredentials: a token must not reach an error, whether it
// came in the URL or as an option, even when the server echoes it back.
func TestMirrorErrorsHideCredentials(t *testing.T) {
	const secret = "s3cr3t-t0ken"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		http.Error(w, "no access for "+user+":"+pass+" at "+r.URL.String(), http.StatusUnauthorized)
	}))
	defer srv.Close()
	hostURL := strings.TrimPrefix(srv.URL, "http://")

	for _, tc := range []struct {
		name     string
		url      string
		opts     []MirrorOption
		wantAuth bool
	}{
		{"password in URL", "http://x-access-token:" + secret + "@" + hostURL + "/r.git", nil, true},
		{"token as user in URL", "http://" + secret + "@" + hostURL + "/r.git", nil, true},
		{"token option", srv.URL + "/r.git", []MirrorOption{WithBasicAuth("oauth2", secret)}, true},
		{"unreachable host", "http://u:" + secret + "@127.0.0.1:1/r.git", nil, false},
		{"bad URL", "http://u:" + secret + "@ho st/r.git", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "m")
			_, err := OpenMirror(t.Context(), tc.url, "main", dir, tc.opts...)
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error holds the secret: %v", err)
			}
			if tc.wantAuth && !errors.Is(err, transport.ErrAuthenticationRequired) {
				t.Errorf("err = %v; callers can no longer tell a refused login", err)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("a failed clone left %s behind (with the token in its config?)", dir)
			}
		})
	}
}

// TestMirrorOverHTTPWithToken serves the work repo with git's own smart-HTTP
// server behind basic auth: the token given in the URL opens the door, and
// never reaches the mirror's config on disk.
func TestMirrorOverHTTPWithToken(t *testing.T) {
	const secret = "s3cr3t-t0ken"
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		labtest.Missing(t, "no git command to serve HTTP: %v", err)
	}
	w := newWorkRepo(t)
	first := w.commit("services/a.yaml", "a: 1\n", nil)
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + filepath.Dir(w.dir), "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_GLOBAL=/dev/null"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if _, pass, ok := r.BasicAuth(); !ok || pass != secret {
			rw.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(rw, "unauthorized", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(rw, r)
	}))
	defer srv.Close()
	repoURL := srv.URL + "/" + filepath.Base(w.dir)
	withToken := strings.Replace(repoURL, "http://", "http://x-access-token:"+secret+"@", 1)

	dir := filepath.Join(t.TempDir(), "mirror")
	var logs bytes.Buffer
	m, err := OpenMirror(t.Context(), withToken, "main", dir, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	if head, err := m.Head(); err != nil || head != first {
		t.Fatalf("Head = %s, %v; want %s", head, err, first)
	}
	second := w.commit("services/a.yaml", "a: 2\n", nil)
	if head, err := m.Fetch(t.Context()); err != nil || head != second {
		t.Fatalf("Fetch = %s, %v; want %s", head, err, second)
	}
	if !strings.Contains(logs.String(), second) || strings.Contains(logs.String(), secret) {
		t.Errorf("logs want the new head and no token:\n%s", logs.String())
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "config"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(cfg), secret) || !strings.Contains(string(cfg), repoURL) {
		t.Errorf("mirror config:\n%s\nwants the URL %s without the token", cfg, repoURL)
	}
	// The same repo with a rotated token is the same mirror; a wrong token
	// is refused, and the refusal does not show it.
	if _, err := OpenMirror(t.Context(), repoURL, "main", dir, WithBasicAuth("x", "rotated")); err != nil {
		t.Errorf("reopen with another token: %v", err)
	}
	bad, err := OpenMirror(t.Context(), repoURL, "main", dir, WithBasicAuth("x", "wrong-token"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Fetch(t.Context()); !errors.Is(err, transport.ErrAuthenticationRequired) || strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("Fetch with a wrong token: %v", err)
	}
}

// TestSetRemoteMovesCredentials: credentials in an https URL go to the
// transport's auth, and the URL recorded in the mirror has none.
func TestSetRemoteMovesCredentials(t *testing.T) {
	m := &Mirror{}
	if err := m.setRemote("https://u:s3cret@git.example.com/r.git", &mirrorOptions{}); err != nil {
		t.Fatal(err)
	}
	if m.url != "https://git.example.com/r.git" {
		t.Errorf("recorded URL = %q", m.url)
	}
	if a, ok := m.auth.(*githttp.BasicAuth); !ok || a.Username != "u" || a.Password != "s3cret" {
		t.Errorf("auth = %v; want the URL's credentials", m.auth)
	}
	if err := m.setRemote("https://u:s3cret@git.example.com/r.git", &mirrorOptions{basic: true, token: "t"}); err == nil {
		t.Error("credentials both in the URL and in WithBasicAuth were accepted")
	}
}
