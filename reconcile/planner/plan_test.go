package planner

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/plan"
)

func git(t *testing.T, dir string, args ...string) { gitB(t, dir, args...) }

func gitB(t testing.TB, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// exampleRepo copies intent-example into a new Git repo with one commit.
func exampleRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../intent-example")); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "init", "-q", "-b", "main")
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "base")
	return dir
}

func commit(t *testing.T, dir, msg string) {
	t.Helper()
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", msg)
}

func edit(t *testing.T, dir, file, old, new string) {
	t.Helper()
	p := filepath.Join(dir, file)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", file, old)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSameRevisionHasNoChanges(t *testing.T) {
	dir := exampleRepo(t)
	p, err := FromGit(context.Background(), GitOptions{Dir: dir, Base: "HEAD", Head: "HEAD"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary().HasChanges() || len(p.Devices) != 0 {
		t.Errorf("HEAD..HEAD planned %+v; want nothing rendered and no changes", p.Summary())
	}
}

// Removing a customer's services deletes exactly their nodes: a node that a
// remaining service also renders (vlan-tagging on a shared port) stays.
func TestRemovingServicesDeletesOnlyTheirNodes(t *testing.T) {
	dir := exampleRepo(t)
	for _, f := range []string{"acme-singapore.yaml", "acme-singapore-routes.yaml"} {
		if err := os.Remove(filepath.Join(dir, "services/acme", f)); err != nil {
			t.Fatal(err)
		}
	}
	commit(t, dir, "acme leaves singapore")
	p, err := FromGit(context.Background(), GitOptions{Dir: dir, Base: "HEAD~1", Head: "HEAD"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Devices) != 1 || p.Devices[0].Name != "pe3-sin" {
		t.Fatalf("devices planned = %v, want only pe3-sin", names(p))
	}
	gone := []string{"acme-singapore", "acme-singapore-routes"}
	s := p.Summary()
	if s.Create+s.Update != 0 || s.Delete == 0 {
		t.Errorf("summary %+v: want deletions only", s)
	}
	for _, c := range p.Devices[0].Changes {
		for _, o := range c.Owners {
			if !slices.Contains(gone, o) {
				t.Errorf("%s is deleted but was also owned by %s, which remains", c.Path, o)
			}
		}
		if strings.Contains(string(c.Path), "vlan-tagging") {
			t.Errorf("shared vlan-tagging deleted while globex-singapore still uses the port: %s", c.Path)
		}
	}
}

// apply(plan(A→B), A) == B on every device, for a mix of additions,
// removals and edits.
func TestApplyingThePlanGivesTheHead(t *testing.T) {
	dir := exampleRepo(t)
	if err := os.Remove(filepath.Join(dir, "services/stark/stark-osaka-routes.yaml")); err != nil {
		t.Fatal(err)
	}
	edit(t, dir, "services/globex/globex-singapore.yaml", "vlan: 211", "vlan: 212")
	edit(t, dir, "services/acme/acme-tokyo-hq.yaml", "description: ", "description: renamed ")
	commit(t, dir, "mixed")
	ctx := context.Background()
	p, err := FromGit(ctx, GitOptions{Dir: dir, Base: "HEAD~1", Head: "HEAD"})
	if err != nil {
		t.Fatal(err)
	}
	s := p.Summary()
	if s.Create == 0 || s.Update == 0 || s.Delete == 0 {
		t.Fatalf("summary %+v: want creations, updates and deletions", s)
	}
	// Render both sides in full and check the plan against them.
	base, head := renderRevisions(t, dir, "HEAD~1", "HEAD")
	for _, d := range p.Devices {
		got, err := configtree.Apply(base[d.Name], changes(d))
		if err != nil {
			t.Fatalf("%s: apply: %v", d.Name, err)
		}
		if !got.Equal(head[d.Name]) {
			t.Errorf("%s: applying the plan to base does not give head", d.Name)
		}
	}
}

func TestInvalidHeadIsReportedWithPositions(t *testing.T) {
	dir := exampleRepo(t)
	edit(t, dir, "services/globex/globex-singapore.yaml", "vlan: 211", "vlan: 9999")
	_, err := FromGit(context.Background(), GitOptions{Dir: dir, Base: "HEAD"})
	var inv *InvalidRevisionError
	if !errors.As(err, &inv) || inv.Side != "head" {
		t.Fatalf("err = %v, want an invalid head", err)
	}
	if len(inv.Source.Dirty) != 1 {
		t.Errorf("the work tree's dirty files = %v, want the edited one", inv.Source.Dirty)
	}
	found := false
	for _, d := range inv.Diagnostics {
		if d.Pos.File == "services/globex/globex-singapore.yaml" && d.Pos.Line > 0 && d.Field == "spec.vlan" {
			found = true
		}
	}
	if !found {
		t.Errorf("diagnostics %v: want spec.vlan in the edited file, with a line", inv.Diagnostics)
	}
}

func TestUnknownBase(t *testing.T) {
	dir := exampleRepo(t)
	_, err := FromGit(context.Background(), GitOptions{Dir: dir, Base: "no-such-branch"})
	if err == nil || !strings.Contains(err.Error(), "--base: unknown revision") {
		t.Errorf("err = %v", err)
	}
}

func names(p *plan.Plan) []string {
	var out []string
	for _, d := range p.Devices {
		out = append(out, d.Name)
	}
	return out
}

func changes(d *plan.Device) []configtree.Change {
	var out []configtree.Change
	for _, c := range d.Changes {
		out = append(out, c.Change)
	}
	return out
}
