package gitsrc

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// gitRun runs the real git command, so the tests read repositories made the way
// users make them.
func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// newRepo makes a repo whose intent lives in the sub-folder "net", with two commits.
func newRepo(t *testing.T) (root string) {
	t.Helper()
	root = t.TempDir()
	gitRun(t, root, "init", "-q", "-b", "main")
	write(t, root, "net/inventory/pe.yaml", "devices: []\n")
	write(t, root, "net/services/acme/a.yaml", "a: 1\n")
	write(t, root, "net/services/acme/b.yaml", "b: 1\n")
	write(t, root, "README.md", "hello\n")
	gitRun(t, root, "add", "-A")
	gitRun(t, root, "commit", "-q", "-m", "one")
	if err := os.Remove(filepath.Join(root, "net/services/acme/b.yaml")); err != nil {
		t.Fatal(err)
	}
	write(t, root, "net/services/acme/a.yaml", "a: 2\n")
	write(t, root, "README.md", "changed, but not intent\n")
	gitRun(t, root, "add", "-A")
	gitRun(t, root, "commit", "-q", "-m", "two")
	return root
}

func TestRevisionFSAndChanged(t *testing.T) {
	root := newRepo(t)
	r, err := Open(filepath.Join(root, "net"))
	if err != nil {
		t.Fatal(err)
	}
	base, err := r.Resolve("HEAD~1")
	if err != nil {
		t.Fatal(err)
	}
	head, err := r.Resolve("main")
	if err != nil {
		t.Fatal(err)
	}
	if want := gitRun(t, root, "rev-parse", "HEAD"); head.Commit != want {
		t.Errorf("head commit = %s, want %s", head.Commit, want)
	}
	fsys, err := base.FS()
	if err != nil {
		t.Fatal(err)
	}
	b, err := fs.ReadFile(fsys, "services/acme/b.yaml")
	if err != nil || string(b) != "b: 1\n" {
		t.Fatalf("read b.yaml at base = %q, %v", b, err)
	}
	var files []string
	if err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"inventory/pe.yaml", "services/acme/a.yaml", "services/acme/b.yaml"}
	if !slices.Equal(files, want) {
		t.Errorf("files at base = %v, want %v (README.md outside the intent folder must not show)", files, want)
	}
	st, err := fs.Stat(fsys, "services/acme/a.yaml")
	if err != nil || st.Size() != 5 {
		t.Errorf("stat a.yaml = %v, %v; want size 5", st, err)
	}

	bb, err := base.Blobs()
	if err != nil {
		t.Fatal(err)
	}
	hb, err := head.Blobs()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Changed(bb, hb), []string{"services/acme/a.yaml", "services/acme/b.yaml"}; !slices.Equal(got, want) {
		t.Errorf("Changed = %v, want %v", got, want)
	}
	// The work tree equals HEAD: the blob hashes Git computes and ours agree.
	wb, err := WorkTreeBlobs(r.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if got := Changed(hb, wb); len(got) != 0 {
		t.Errorf("work tree vs HEAD changed = %v, want none", got)
	}
	write(t, root, "net/services/acme/c.yaml", "c: 1\n")
	wb, _ = WorkTreeBlobs(r.Dir())
	if got := Changed(hb, wb); !slices.Equal(got, []string{"services/acme/c.yaml"}) {
		t.Errorf("work tree with a new file: changed = %v", got)
	}
	dirty, err := r.Dirty()
	if err != nil || !slices.Equal(dirty, []string{"services/acme/c.yaml"}) {
		t.Errorf("Dirty = %v, %v", dirty, err)
	}
}

func TestSymlinkIsNotFollowed(t *testing.T) {
	root := t.TempDir()
	gitRun(t, root, "init", "-q", "-b", "main")
	write(t, root, "inventory/pe.yaml", "devices: []\n")
	if err := os.Symlink("/etc/passwd", filepath.Join(root, "inventory", "evil.yaml")); err != nil {
		t.Fatal(err)
	}
	gitRun(t, root, "add", "-A")
	gitRun(t, root, "commit", "-q", "-m", "evil")
	r, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := r.Resolve("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	fsys, _ := rev.FS()
	if _, err := fs.ReadFile(fsys, "inventory/evil.yaml"); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("reading a symlink from a commit: err = %v, want a refusal", err)
	}
	es, _ := fs.ReadDir(fsys, "inventory")
	if len(es) != 2 || es[0].Type()&fs.ModeSymlink == 0 {
		t.Errorf("entries = %v, want the link listed as a link", es)
	}
}

func TestResolveErrors(t *testing.T) {
	root := newRepo(t)
	r, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve("no-such-branch"); err == nil || !strings.Contains(err.Error(), "unknown revision") {
		t.Errorf("unknown revision: err = %v", err)
	}
	// Anything git rev-parse takes: an abbreviated hash and a :/message search.
	full := gitRun(t, root, "rev-parse", "HEAD~1")
	for _, rev := range []string{full[:7], ":/one"} {
		rv, err := r.Resolve(rev)
		if err != nil || rv.Commit != full {
			t.Errorf("Resolve(%q) = %v, %v; want %s", rev, rv, err, full)
		}
	}
	if _, err := Open(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not inside a Git repository") {
		t.Errorf("Open outside git: err = %v", err)
	}

	// A shallow clone that lacks the base says how to fetch it.
	clone := t.TempDir()
	gitRun(t, clone, "clone", "-q", "--depth=1", "file://"+root, "c")
	cr, err := Open(filepath.Join(clone, "c"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cr.Resolve(full); err == nil || !strings.Contains(err.Error(), "shallow") {
		t.Errorf("base missing from a shallow clone: err = %v", err)
	}
}
