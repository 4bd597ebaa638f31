package irr

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/netrecon/netrecon/drivers/irrsim"
	"github.com/netrecon/netrecon/forge/github"
)

func gitCLI(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.net", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@example.net", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// intentRepo makes a bare remote (a real Git repo) and a clone of it on
// main holding files.
func intentRepo(t *testing.T, files map[string]string) (remote, clone string) {
	t.Helper()
	root := t.TempDir()
	remote, clone = filepath.Join(root, "remote.git"), filepath.Join(root, "clone")
	gitCLI(t, root, "init", "-q", "--bare", "-b", "main", remote)
	gitCLI(t, root, "clone", "-q", remote, clone)
	for name, text := range files {
		p := filepath.Join(clone, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitCLI(t, clone, "add", "-A")
	gitCLI(t, clone, "commit", "-q", "-m", "intent")
	gitCLI(t, clone, "push", "-q", "origin", "main")
	return remote, clone
}

// fakePulls is the GitHub pulls API as the comment tests fake GitHub: it
// records what was opened.
type fakePulls struct {
	mu     sync.Mutex
	opened []map[string]any
}

func (f *fakePulls) start(t *testing.T) *github.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/repos/example-isp/intent/pulls" || r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(404)
			return
		}
		var in map[string]any
		json.NewDecoder(r.Body).Decode(&in)
		f.mu.Lock()
		f.opened = append(f.opened, in)
		n := len(f.opened)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(map[string]any{"number": n, "html_url": "https://github.example/example-isp/intent/pull/" + strconv.Itoa(n), "draft": in["draft"]})
	}))
	t.Cleanup(srv.Close)
	c, err := github.New(github.WithBaseURL(srv.URL), github.WithToken("tok"), github.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A registry change becomes one commit that changes exactly the prefix
// lines that differ, on netrecon's branch of a real remote, with a pull
// request; a shrink past the limit becomes a draft ("HOLD") pull request
// even where the policy commits directly, and main is not touched; an
// unheld change under the direct policy is pushed to main.
func TestSyncProposes(t *testing.T) {
	ctx := context.Background()
	sim := startSim(t, "", irrsim.DatabaseOptions{Name: "JPIRR"}, irrsim.DatabaseOptions{Name: "RADB"})
	in := syncIntent(sim)
	first, err := os.ReadFile(filepath.Join("testdata", "as-acme.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	remote, clone := intentRepo(t, map[string]string{"generated/irr/as-acme.yaml": string(first), "README.md": "intent\n"})
	mainBefore := gitCLI(t, remote, "rev-parse", "main")
	pulls := &fakePulls{}
	forge := pulls.start(t)
	opts := ProposeOptions{Dir: clone, Base: "main", Mode: CommitPullRequest, Forge: forge, Repo: "example-isp/intent",
		Now: func() time.Time { return time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC) }}

	// The registry changes: one more route object.
	sim.DB("JPIRR").Put(mustObject(t, "route: 192.0.2.128/25\norigin: AS132001\nmnt-by: MAINT-ACME\nsource: JPIRR\n"))
	plan, err := PlanSync(ctx, in, os.DirFS(clone), SyncOptions{Whois: testWhois(), MaxShrink: 0.5})
	if err != nil || len(plan.Updates) != 1 || plan.Held() {
		t.Fatalf("plan: %+v, %v", plan, err)
	}
	prop, err := Propose(ctx, plan, opts)
	if err != nil {
		t.Fatal(err)
	}
	if prop.Direct || prop.Held || prop.Ref != "refs/heads/irr-sync" || prop.PullRequest == "" {
		t.Fatalf("proposal: %+v", prop)
	}
	if got := gitCLI(t, remote, "rev-parse", "irr-sync"); got != prop.Commit {
		t.Fatalf("remote irr-sync = %s, want %s", got, prop.Commit)
	}
	if got := gitCLI(t, remote, "rev-parse", "main"); got != mainBefore {
		t.Fatal("a pull-request sync moved main")
	}
	diff := gitCLI(t, remote, "diff", "--unified=0", "main", "irr-sync")
	var changed []string
	for _, l := range strings.Split(diff, "\n") {
		if (strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-")) && !strings.HasPrefix(l, "+++") && !strings.HasPrefix(l, "---") {
			changed = append(changed, l)
		}
	}
	if got := strings.Join(changed, "\n"); got != `+  - "192.0.2.128/25"` {
		t.Errorf("the commit changes lines:\n%s\nwant exactly the new prefix", got)
	}
	if in := pulls.opened[0]; in["draft"] != false || in["head"] != "irr-sync" || in["base"] != "main" || !strings.Contains(in["body"].(string), "AS-ACME (JPIRR, RADB): +1 −0 prefixes, 6 now") {
		t.Errorf("pull request: %v", in)
	}
	if b := gitCLI(t, clone, "rev-parse", "--abbrev-ref", "HEAD"); b != "main" {
		t.Errorf("the work tree was left on %s", b)
	}

	// AS132001 leaves: 3 of 6 go. Under the direct policy it still waits.
	for _, db := range []string{"JPIRR", "RADB"} {
		sim.DB(db).Put(mustObject(t, "as-set: AS-ACME\nmembers: AS-ACME-SUB\nmnt-by: MAINT-ACME\nsource: "+db+"\n"))
	}
	plan, err = PlanSync(ctx, in, os.DirFS(clone), SyncOptions{Whois: testWhois()})
	if err != nil || !plan.Held() {
		t.Fatalf("plan of a shrink: %+v, %v", plan, err)
	}
	opts.Mode = CommitDirect
	prop, err = Propose(ctx, plan, opts)
	if err != nil {
		t.Fatal(err)
	}
	if prop.Direct || !prop.Held || gitCLI(t, remote, "rev-parse", "main") != mainBefore {
		t.Fatalf("a held change went to main: %+v", prop)
	}
	if in := pulls.opened[1]; in["draft"] != true || !strings.HasPrefix(in["title"].(string), "HOLD: ") || !strings.Contains(in["body"].(string), "more than the 20%") {
		t.Errorf("held pull request: %v", in)
	}

	// An unheld change under the direct policy lands on main.
	for _, db := range []string{"JPIRR", "RADB"} {
		sim.DB(db).Put(mustObject(t, "as-set: AS-ACME\nmembers: AS132001, AS-ACME-SUB\nmnt-by: MAINT-ACME\nsource: "+db+"\n"))
	}
	plan, err = PlanSync(ctx, in, os.DirFS(clone), SyncOptions{Whois: testWhois()})
	if err != nil || plan.Held() || len(plan.Updates) != 1 {
		t.Fatalf("plan: %+v, %v", plan, err)
	}
	if prop, err = Propose(ctx, plan, opts); err != nil || !prop.Direct {
		t.Fatalf("direct: %+v, %v", prop, err)
	}
	if got := gitCLI(t, remote, "rev-parse", "main"); got != prop.Commit {
		t.Fatalf("main = %s, want the sync's %s", got, prop.Commit)
	}
	if len(pulls.opened) != 2 {
		t.Errorf("a direct commit opened a pull request")
	}
	if plan, err := PlanSync(ctx, in, fstest.MapFS{"generated/irr/as-acme.yaml": {Data: plan.Updates[0].Content}}, SyncOptions{Whois: testWhois()}); err != nil || len(plan.Updates) != 0 {
		t.Errorf("after the direct commit: %+v, %v", plan, err)
	}
}
