package gitsrc

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
)

// Proposal is a branch netrecon proposes to the intent repo: files added on
// top of a commit of the mirror's branch, for review like anyone's change.
type Proposal struct {
	Base    string            // a commit of the mirror's branch
	Branch  string            // the branch to push; never the mirror's own
	Files   map[string][]byte // slash-separated, relative to the intent folder
	Message string
	Author  string // name; the committer too
	Email   string
	When    time.Time
}

// Proposed is a pushed proposal.
type Proposed struct {
	Commit string
	// Existed says the branch was already on the remote, and was left as it
	// is: a proposal pushed before (the order is retried), or a branch a
	// reviewer has since pushed to, which netrecon must not overwrite.
	Existed bool
}

// Propose pushes p.Branch to the mirror's remote, with the same URL and
// credentials it fetches with: one commit on p.Base adding p.Files. The
// commit is built in an in-memory clone, so the mirror itself is never
// written (invariant: the daemon never writes the branch it applies, and its
// mirror holds only what it fetched). A branch already on the remote is
// returned as it is, never force-pushed.
func (m *Mirror) Propose(ctx context.Context, p Proposal) (Proposed, error) {
	if p.Branch == m.branch {
		return Proposed{}, fmt.Errorf("propose to %s: %s is the branch the daemon applies; a proposal goes on a branch of its own", m.url, p.Branch)
	}
	ref := plumbing.NewBranchReferenceName(p.Branch)
	if p.Branch == "" || strings.HasPrefix(p.Branch, "-") || ref.Validate() != nil {
		return Proposed{}, fmt.Errorf("propose to %s: %q is not a branch name", m.url, p.Branch)
	}
	if len(p.Files) == 0 || p.Message == "" || p.Author == "" || p.Email == "" {
		return Proposed{}, fmt.Errorf("propose %s to %s: files, message, author and email are required", p.Branch, m.url)
	}
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	out, err := m.propose(ctx, p, ref)
	if err != nil {
		return Proposed{}, sanitize(fmt.Errorf("propose %s to %s: %w", p.Branch, m.url, err), m.secrets)
	}
	return out, nil
}

func (m *Mirror) propose(ctx context.Context, p Proposal, ref plumbing.ReferenceName) (Proposed, error) {
	remote := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: remoteName, URLs: []string{m.url}})
	refs, err := remote.ListContext(ctx, &git.ListOptions{Auth: m.auth, CABundle: m.ca})
	if err != nil {
		return Proposed{}, fmt.Errorf("list branches: %w", err)
	}
	for _, r := range refs {
		if r.Name() == ref {
			return Proposed{Commit: r.Hash().String(), Existed: true}, nil
		}
	}
	g, err := git.CloneContext(ctx, memory.NewStorage(), memfs.New(), &git.CloneOptions{
		URL: m.url, Auth: m.auth, CABundle: m.ca, RemoteName: remoteName,
		ReferenceName: plumbing.NewBranchReferenceName(m.branch), SingleBranch: true, NoCheckout: true,
	})
	if err != nil {
		return Proposed{}, fmt.Errorf("clone: %w", err)
	}
	wt, err := g.Worktree()
	if err != nil {
		return Proposed{}, err
	}
	if err := wt.Checkout(&git.CheckoutOptions{Hash: plumbing.NewHash(p.Base), Branch: ref, Create: true}); err != nil {
		return Proposed{}, fmt.Errorf("check out %s (is it still on %s?): %w", short(p.Base), m.branch, err)
	}
	for name, data := range p.Files {
		full := path.Join(m.prefix, name)
		if _, err := wt.Filesystem.Stat(full); err == nil {
			return Proposed{}, fmt.Errorf("%s already exists at %s", full, short(p.Base))
		}
		if err := writeFile(wt, full, data); err != nil {
			return Proposed{}, fmt.Errorf("write %s: %w", full, err)
		}
		if _, err := wt.Add(full); err != nil {
			return Proposed{}, fmt.Errorf("add %s: %w", full, err)
		}
	}
	sig := &object.Signature{Name: p.Author, Email: p.Email, When: p.When}
	if sig.When.IsZero() {
		sig.When = time.Now()
	}
	h, err := wt.Commit(p.Message, &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		return Proposed{}, fmt.Errorf("commit: %w", err)
	}
	spec := config.RefSpec(ref.String() + ":" + ref.String())
	err = g.PushContext(ctx, &git.PushOptions{RemoteName: remoteName, RefSpecs: []config.RefSpec{spec}, Auth: m.auth, CABundle: m.ca})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return Proposed{}, fmt.Errorf("push: %w", err)
	}
	m.log.Info("proposal pushed", "branch", p.Branch, "commit", h.String(), "base", p.Base)
	return Proposed{Commit: h.String()}, nil
}

func writeFile(wt *git.Worktree, name string, data []byte) error {
	if err := wt.Filesystem.MkdirAll(path.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := wt.Filesystem.Create(name)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
