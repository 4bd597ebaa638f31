package orders

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/forge/github"
	"github.com/netrecon/netrecon/forge/github/githubtest"
	"github.com/netrecon/netrecon/gitsrc"
	intentexample "github.com/netrecon/netrecon/intent-example"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/schema"
)

// remote is a real bare Git repository holding the example intent repo on
// main: the intent repo's server (GitHub's Git side, or a plain remote).
type remote struct {
	t    *testing.T
	bare string
	work string
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=eng", "GIT_AUTHOR_EMAIL=eng@example.net",
		"GIT_COMMITTER_NAME=eng", "GIT_COMMITTER_EMAIL=eng@example.net")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func newRemote(t *testing.T) *remote {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git(1) is needed for a real bare remote: %v", err)
	}
	r := &remote{t: t, bare: filepath.Join(t.TempDir(), "intent.git"), work: t.TempDir()}
	if err := os.CopyFS(r.work, intentexample.FS); err != nil {
		t.Fatal(err)
	}
	git(t, r.work, "init", "-q", "-b", "main")
	git(t, r.work, "add", "-A")
	git(t, r.work, "commit", "-qm", "example intent")
	git(t, r.work, "init", "-q", "--bare", r.bare)
	git(t, r.work, "push", "-q", r.bare, "main")
	return r
}

func (r *remote) hasBranch(name string) bool {
	err := exec.Command("git", "-C", r.bare, "rev-parse", "--verify", "-q", "refs/heads/"+name).Run()
	return err == nil
}

func (r *remote) branches() string {
	return git(r.t, r.bare, "for-each-ref", "--format=%(refname:short)", "refs/heads/")
}

// merge merges branch into main as a reviewer's merge button would.
func (r *remote) merge(branch string) string {
	git(r.t, r.work, "fetch", "-q", r.bare, branch+":"+branch)
	git(r.t, r.work, "merge", "-q", "--no-ff", "-m", "Merge "+branch, branch)
	git(r.t, r.work, "push", "-q", r.bare, "main")
	return git(r.t, r.work, "rev-parse", "HEAD")
}

// checkout returns a work tree of the bare repo at rev.
func (r *remote) checkout(rev string) string {
	dir := t0(r.t)
	git(r.t, dir, "clone", "-q", r.bare, ".")
	git(r.t, dir, "checkout", "-q", rev)
	return dir
}

func t0(t *testing.T) string { return t.TempDir() }

type fixture struct {
	remote  *remote
	mirror  *gitsrc.Mirror
	journal *journal.Journal
	api     *githubtest.FakeAPI
	intake  *Intake
}

var fixedNow = time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)

// newFixture is an Intake on the example repo; withGitHub opens pull
// requests on the fake GitHub API, else orders are pushed branches only.
func newFixture(t *testing.T, withGitHub bool) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{remote: newRemote(t)}
	var err error
	if f.mirror, err = gitsrc.OpenMirror(ctx, f.remote.bare, "main", filepath.Join(t.TempDir(), "mirror")); err != nil {
		t.Fatal(err)
	}
	if f.journal, err = journal.Open(ctx, filepath.Join(t.TempDir(), "journal.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.journal.Close() })
	cfg := Config{Journal: f.journal, Mirror: f.mirror, Branch: "main", Author: "netrecon", Email: "netrecon@example.net",
		Now: func() time.Time { return fixedNow }}
	if withGitHub {
		f.api = githubtest.New(t)
		f.api.HasBranch = f.remote.hasBranch
		c, err := github.New(github.WithBaseURL(f.api.URL()), github.WithToken(f.api.Token), github.WithHTTPClient(f.api.Srv.Client()),
			github.WithRetry(github.RetryPolicy{MaxAttempts: 1, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond, MaxWait: time.Millisecond}))
		if err != nil {
			t.Fatal(err)
		}
		cfg.GitHub = &GitHub{Client: c, Repo: f.api.Repo}
	}
	if f.intake, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	return f
}

// order decodes an order as the API does (numbers stay json.Number).
func order(t *testing.T, js string) Order {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(js))
	dec.UseNumber()
	var o Order
	if err := dec.Decode(&o); err != nil {
		t.Fatal(err)
	}
	return o
}

// validOrder is a new attachment circuit for acme on pe1-tyo, on a VLAN and
// a link no example service uses.
const validOrder = `{"order_id": "SO-2026-0200", "service_type": "attachment-circuit", "name": "acme-tokyo-annex",
  "customer": "acme", "labels": {"product": "l3vpn"},
  "fields": {"device": "pe1-tyo", "interface": "ge-0/0/2", "vlan": 200, "description": "ACME Corp — Tokyo annex",
             "ipv4": "100.64.9.1/30", "vrf": "ACME"}}`

// loadTree validates a checked-out tree as `netrecon validate` does.
func loadTree(t *testing.T, dir string) (*schema.Intent, schema.Diagnostics) {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	sub, err := fs.Sub(root.FS(), ".")
	if err != nil {
		t.Fatal(err)
	}
	return schema.Load(sub, schema.Options{})
}
