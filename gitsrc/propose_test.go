package gitsrc

import (
	"context"
	"errors"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bareRemote makes a real bare repository with git(1), holding main with
// one commit of files, as a plain Git server's repo would be.
func bareRemote(t *testing.T, files map[string]string) (url, head string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git(1) is needed for a real bare remote: %v", err)
	}
	w := newWorkRepo(t)
	for name, content := range files {
		write(t, w.dir, name, content)
	}
	run := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(cmd.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.net", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.net")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run(w.dir, "add", "-A")
	run(w.dir, "commit", "-qm", "first")
	bare := filepath.Join(t.TempDir(), "intent.git")
	run(w.dir, "init", "-q", "--bare", bare)
	run(w.dir, "push", "-q", bare, "HEAD:refs/heads/main")
	return bare, run(bare, "rev-parse", "refs/heads/main")
}

func gitOut(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func TestProposePushesABranchOnce(t *testing.T) {
	ctx := context.Background()
	bare, head := bareRemote(t, map[string]string{"inventory/a.yaml": "a\n", "services/x/one.yaml": "one\n"})
	m := openMirror(t, bare)
	p := Proposal{Base: head, Branch: "order/SO-1", Files: map[string][]byte{"services/acme/two.yaml": []byte("two\n")},
		Message: "order SO-1", Author: "netrecon", Email: "netrecon@example.net"}
	got, err := m.Propose(ctx, p)
	if err != nil || got.Existed || len(got.Commit) != 40 {
		t.Fatalf("Propose: %+v, %v", got, err)
	}
	tip, err := gitOut(t, bare, "rev-parse", "refs/heads/order/SO-1")
	if err != nil || tip != got.Commit {
		t.Fatalf("remote branch at %q (%v); want %s", tip, err, got.Commit)
	}
	if parent, _ := gitOut(t, bare, "rev-parse", got.Commit+"^"); parent != head {
		t.Errorf("parent %s; want the base %s", parent, head)
	}
	if body, _ := gitOut(t, bare, "show", got.Commit+":services/acme/two.yaml"); body != "two" {
		t.Errorf("file on the branch: %q", body)
	}
	if main, _ := gitOut(t, bare, "rev-parse", "refs/heads/main"); main != head {
		t.Errorf("main moved to %s", main)
	}
	// Again (a retried order): the branch is left as it is.
	p.Files = map[string][]byte{"services/acme/two.yaml": []byte("changed\n")}
	again, err := m.Propose(ctx, p)
	if err != nil || !again.Existed || again.Commit != got.Commit {
		t.Fatalf("second Propose: %+v, %v; want the existing %s", again, err, got.Commit)
	}
}

func TestProposeRefusals(t *testing.T) {
	ctx := context.Background()
	bare, head := bareRemote(t, map[string]string{"inventory/a.yaml": "a\n"})
	m := openMirror(t, bare)
	base := Proposal{Base: head, Branch: "order/x", Files: map[string][]byte{"services/a.yaml": []byte("x")}, Message: "m", Author: "a", Email: "e@x"}
	for name, mut := range map[string]func(*Proposal){
		"own branch": func(p *Proposal) { p.Branch = "main" },
		"bad name":   func(p *Proposal) { p.Branch = "a..b" },
		"no files":   func(p *Proposal) { p.Files = nil },
		"existing":   func(p *Proposal) { p.Files = map[string][]byte{"inventory/a.yaml": []byte("x")} },
	} {
		p := base
		mut(&p)
		if _, err := m.Propose(ctx, p); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if out, _ := gitOut(t, bare, "branch", "--list"); strings.TrimSpace(strings.TrimPrefix(out, "*")) != "main" {
		t.Errorf("branches after refusals: %q; want main alone", out)
	}
}

func TestFSWithAddsFiles(t *testing.T) {
	bare, head := bareRemote(t, map[string]string{"inventory/a.yaml": "a\n", "services/x/one.yaml": "one\n"})
	m := openMirror(t, bare)
	rv, err := m.Revision(head)
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := rv.FSWith(map[string][]byte{"services/x/two.yaml": []byte("two\n"), "services/new/deep/three.yaml": []byte("3")})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	if err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want := "inventory/a.yaml services/new/deep/three.yaml services/x/one.yaml services/x/two.yaml"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("files %q; want %q", got, want)
	}
	if b, err := fs.ReadFile(fsys, "services/x/two.yaml"); err != nil || string(b) != "two\n" {
		t.Errorf("added file: %q, %v", b, err)
	}
	if b, err := fs.ReadFile(fsys, "services/x/one.yaml"); err != nil || string(b) != "one\n" {
		t.Errorf("old file: %q, %v", b, err)
	}
	if _, err := rv.FSWith(map[string][]byte{"services/x/one.yaml": nil}); !errors.Is(err, fs.ErrExist) {
		t.Errorf("adding an existing file: %v; want ErrExist", err)
	}
	if _, err := rv.FSWith(map[string][]byte{"services/x/one.yaml/z": nil}); err == nil {
		t.Error("adding under a file: no error")
	}
}
