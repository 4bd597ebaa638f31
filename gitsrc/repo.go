package gitsrc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// Repo is an intent repo on disk, possibly a sub-folder of a larger Git repo.
type Repo struct {
	root   string // the Git work tree's top
	prefix string // slash path of the intent folder inside it; "" at the top
	git    *git.Repository
	trees  *treeMemo // shared by the revisions Resolve returns
}

// Open finds the Git repository that contains dir. The intent repo may be a
// folder inside it (an "intent-dir" of a monorepo); revisions are then read from
// that folder only.
func Open(dir string) (*Repo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	g, err := git.PlainOpenWithOptions(abs, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		if errors.Is(err, git.ErrRepositoryNotExists) {
			return nil, fmt.Errorf("%s is not inside a Git repository: --base and --head need one (git init, or run plan without --base)", dir)
		}
		return nil, fmt.Errorf("open git repository at %s: %w", dir, err)
	}
	wt, err := g.Worktree()
	if err != nil {
		return nil, fmt.Errorf("open git repository at %s: %w", dir, err)
	}
	root := wt.Filesystem.Root()
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	}
	if a, err := filepath.EvalSymlinks(abs); err == nil {
		abs = a
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		return nil, fmt.Errorf("%s is outside the Git work tree %s", dir, root)
	}
	prefix := filepath.ToSlash(rel)
	if prefix == "." {
		prefix = ""
	}
	memo := &treeMemo{}
	if st, ok := g.Storer.(*filesystem.Storage); ok {
		memo.store = filesystem.NewStorageWithOptions(st.Filesystem(), cache.NewObjectLRUDefault(), filesystem.Options{KeepDescriptors: true})
	}
	return &Repo{root: root, prefix: prefix, git: g, trees: memo}, nil
}

// Close releases the files the repository keeps open. A Repo that is not
// closed releases them when it is garbage collected.
func (r *Repo) Close() error { return r.trees.close() }

// Dir is the intent folder on disk.
func (r *Repo) Dir() string { return filepath.Join(r.root, filepath.FromSlash(r.prefix)) }

// Revision is one commit of the intent repo.
type Revision struct {
	Rev    string // what the user asked for, e.g. "main" or "HEAD~1"
	Commit string // full commit ID
	tree   *object.Tree
	git    *git.Repository
	trees  *treeMemo // nil: subtrees are decoded for this revision alone

	mu sync.Mutex
	fs *treeFS // the tree's listing, once walked
}

// Resolve turns a revision name into a commit. go-git understands refs, hashes
// and ~/^ suffixes; for the rest of what `git rev-parse` takes (@{u}, :/text,
// abbreviated hashes of packed objects) it asks the git command when there is one.
func (r *Repo) Resolve(rev string) (*Revision, error) {
	h, err := r.git.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		h2, cliErr := r.revParse(rev)
		if cliErr != nil {
			return nil, r.explain(rev, err)
		}
		h = h2
	}
	c, err := r.git.CommitObject(*h)
	if err != nil {
		return nil, r.explain(rev, err)
	}
	t, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("revision %s (%s): read tree: %w", rev, h, err)
	}
	if r.prefix != "" {
		t, err = t.Tree(r.prefix)
		if err != nil {
			return nil, fmt.Errorf("revision %s (%s) has no folder %s", rev, short(h.String()), r.prefix)
		}
	}
	return &Revision{Rev: rev, Commit: h.String(), tree: t, git: r.git, trees: r.trees}, nil
}

func (r *Repo) revParse(rev string) (*plumbing.Hash, error) {
	if strings.HasPrefix(rev, "-") {
		return nil, fmt.Errorf("refusing revision %q", rev)
	}
	out, err := exec.Command("git", "-C", r.root, "rev-parse", "--verify", "--quiet", "--end-of-options", rev).Output()
	if err != nil {
		return nil, err
	}
	h := plumbing.NewHash(strings.TrimSpace(string(out)))
	return &h, nil
}

// explain turns go-git's terse errors into what the user should do.
func (r *Repo) explain(rev string, err error) error {
	if _, statErr := os.Stat(filepath.Join(r.root, ".git", "shallow")); statErr == nil {
		return fmt.Errorf("unknown revision %q: this is a shallow clone and the commit may not have been fetched (fetch full history: git fetch --unshallow, or actions/checkout with fetch-depth: 0)", rev)
	}
	if errors.Is(err, plumbing.ErrReferenceNotFound) || errors.Is(err, plumbing.ErrObjectNotFound) {
		return fmt.Errorf("unknown revision %q: no branch, tag or commit of that name", rev)
	}
	return fmt.Errorf("unknown revision %q: %w", rev, err)
}

// Dirty lists the intent files that differ between the work tree and HEAD,
// so a plan whose head is the work tree can say it includes uncommitted edits.
func (r *Repo) Dirty() ([]string, error) {
	wt, err := r.git.Worktree()
	if err != nil {
		return nil, err
	}
	st, err := wt.Status()
	if err != nil {
		return nil, err
	}
	var out []string
	for p, s := range st {
		if s.Worktree == git.Unmodified && s.Staging == git.Unmodified {
			continue
		}
		if rel, ok := r.rel(p); ok && isIntentPath(rel) {
			out = append(out, rel)
		}
	}
	return out, nil
}

func (r *Repo) rel(p string) (string, bool) {
	if r.prefix == "" {
		return p, true
	}
	if strings.HasPrefix(p, r.prefix+"/") {
		return strings.TrimPrefix(p, r.prefix+"/"), true
	}
	return "", false
}

// intentFolders are the top folders of an intent repo the loader reads:
// the documents, the user types, the IRR settings and the prefix lists
// `irr sync` generates (a commit that changes only those changes filters).
func intentFolders() []string {
	return []string{"inventory", "services", "service-types", "irr", "generated"}
}

// isIntentPath reports whether a repo-relative path is read by the loader.
func isIntentPath(p string) bool {
	top, _, _ := strings.Cut(p, "/")
	return slices.Contains(intentFolders(), top)
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
