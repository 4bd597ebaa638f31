package planner

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/netrecon/netrecon/gitsrc"
	"github.com/netrecon/netrecon/reconcile/plan"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
)

// GitOptions say which revisions of an intent repo an offline plan compares.
type GitOptions struct {
	Dir  string // the intent repo (or a folder of a larger Git repo)
	Base string // a revision: anything git rev-parse takes
	Head string // a revision; "" means the work tree, uncommitted edits included
	// Load tunes the loader (file size cap, the document cache). Trusted
	// and ContentID are set by FromGit.
	Load schema.Options
	// At is the moment the plan is for: services are planned as their
	// windows stand then, and head's later boundaries get their own
	// sections (OfflineAt). The CLI passes the current time; zero plans
	// the intent as written.
	At time.Time
}

// InvalidRevisionError says that one side of an offline plan does not validate.
type InvalidRevisionError struct {
	Side        string // "base" or "head"
	Source      plan.Source
	Diagnostics schema.Diagnostics
}

func (e *InvalidRevisionError) Error() string {
	return fmt.Sprintf("the %s revision (%s) is not valid intent (problems: %d)", e.Side, e.Source, len(e.Diagnostics))
}

// FromGit computes the offline plan between two revisions of an intent repo.
//
// Files that are byte-for-byte the same in base and head were validated when
// base was merged (CI ran validate on it), so they are decoded without CUE
// unification; the changed files are validated in full, and the
// cross-document checks run on both sides (with a cache, a side whose exact
// set of files an earlier run found clean, such as a base that main's CI
// validated, costs a lookup). `netrecon validate` checks
// everything; this is what keeps a one-file pull request's plan fast.
func FromGit(ctx context.Context, opts GitOptions) (*plan.Plan, error) {
	repo, err := gitsrc.Open(opts.Dir)
	if err != nil {
		return nil, err
	}
	defer repo.Close()
	base, err := repo.Resolve(opts.Base)
	if err != nil {
		return nil, fmt.Errorf("--base: %w", err)
	}
	baseBlobs, err := base.Blobs()
	if err != nil {
		return nil, err
	}
	baseFS, err := base.FS()
	if err != nil {
		return nil, err
	}
	baseSrc := plan.Source{Rev: opts.Base, Commit: base.Commit}

	var (
		headFS    fs.FS
		headBlobs map[string]string
		headSrc   plan.Source
	)
	if opts.Head == "" {
		root, err := os.OpenRoot(repo.Dir())
		if err != nil {
			return nil, err
		}
		defer root.Close()
		headFS = root.FS()
		if headBlobs, err = gitsrc.WorkTreeBlobs(repo.Dir()); err != nil {
			return nil, fmt.Errorf("read work tree: %w", err)
		}
		dirty, err := repo.Dirty()
		if err != nil {
			return nil, fmt.Errorf("read work tree status: %w", err)
		}
		headSrc = plan.Source{Dirty: dirty}
	} else {
		head, err := repo.Resolve(opts.Head)
		if err != nil {
			return nil, fmt.Errorf("--head: %w", err)
		}
		if headBlobs, err = head.Blobs(); err != nil {
			return nil, err
		}
		if headFS, err = head.FS(); err != nil {
			return nil, err
		}
		headSrc = plan.Source{Rev: opts.Head, Commit: head.Commit}
	}

	changed := gitsrc.Changed(baseBlobs, headBlobs)
	isChanged := make(map[string]bool, len(changed))
	for _, p := range changed {
		isChanged[p] = true
	}
	lo := opts.Load
	lo.Trusted = func(p string) bool { return !isChanged[p] }
	// With a cache, files are looked up by the blob IDs the trees hold,
	// without reading them.
	lo.ContentID = lookup(headBlobs)

	headB, diags := render.Load(headFS, lo)
	if diags.HasErrors() {
		return nil, &InvalidRevisionError{Side: "head", Source: headSrc, Diagnostics: diags}
	}
	// Base differs from head only in the changed files: the others are
	// taken from head's load instead of being read and decoded again.
	lo.Previous, lo.Unchanged = headB.Intent, lo.Trusted
	lo.ContentID = lookup(baseBlobs)
	baseB, diags := render.Load(baseFS, lo)
	if diags.HasErrors() {
		return nil, &InvalidRevisionError{Side: "base", Source: baseSrc, Diagnostics: diags}
	}
	p, diags := OfflineAt(ctx, Revision{Source: baseSrc, Intent: baseB.Intent}, Revision{Source: headSrc, Intent: headB.Intent}, changed, opts.At)
	if diags.HasErrors() {
		diags.Sort()
		return nil, &InvalidRevisionError{Side: "head", Source: headSrc, Diagnostics: diags}
	}
	return p, nil
}

func lookup(blobs map[string]string) func(string) (string, bool) {
	return func(p string) (string, bool) {
		id, ok := blobs[p]
		return id, ok
	}
}
