package irr

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/netrecon/netrecon/forge/github"
)

// How a sync's commit reaches main (irr/settings.yaml sync.commit).
const (
	CommitPullRequest = "pull-request"
	CommitBranch      = "branch"
	CommitDirect      = "direct"
)

// PullRequests opens pull requests: *github.Client.
type PullRequests interface {
	OpenPullRequest(ctx context.Context, repo, head, base, title, body string, draft bool) (github.PullRequest, error)
}

// ProposeOptions say where a sync's change goes.
type ProposeOptions struct {
	// Dir is a work tree of the intent repo, checked out on Base; Propose
	// leaves it there.
	Dir    string
	Base   string // the branch the daemon applies, e.g. main
	Branch string // netrecon's branch for the change; default irr-sync
	Remote string // default origin
	// Mode is CommitPullRequest, CommitBranch or CommitDirect. A held change
	// never goes direct: it becomes a draft pull request (with Forge) or a
	// branch.
	Mode string
	// Forge and Repo ("owner/name") open the pull request; without a Forge,
	// pull-request behaves as branch.
	Forge PullRequests
	Repo  string
	Auth  transport.AuthMethod // for the push; nil for file remotes and ssh-agent set-ups
	// Author signs the commit; default netrecon <netrecon@localhost>.
	Author object.Signature
	Now    func() time.Time
}

// Proposal is where a sync's change went.
type Proposal struct {
	Commit      string
	Ref         string // the pushed branch (refs/heads/...)
	Direct      bool   // committed to Base itself
	Held        bool   // must wait for a person: draft, never merged by netrecon
	PullRequest string // its URL, when one was opened
}

// Propose commits plan's files on a branch (or on Base, where the mode
// allows and nothing is held), pushes it and opens the pull request. An
// empty plan proposes nothing.
func Propose(ctx context.Context, plan SyncPlan, o ProposeOptions) (Proposal, error) {
	if len(plan.Updates) == 0 {
		return Proposal{}, nil
	}
	if o.Branch == "" {
		o.Branch = "irr-sync"
	}
	if o.Remote == "" {
		o.Remote = "origin"
	}
	if o.Author.Name == "" {
		o.Author = object.Signature{Name: "netrecon", Email: "netrecon@localhost"}
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	o.Author.When = now()
	held := plan.Held()
	direct := o.Mode == CommitDirect && !held
	repo, err := git.PlainOpen(o.Dir)
	if err != nil {
		return Proposal{}, fmt.Errorf("irr sync: open %s: %w", o.Dir, err)
	}
	w, err := repo.Worktree()
	if err != nil {
		return Proposal{}, fmt.Errorf("irr sync: %s: %w", o.Dir, err)
	}
	baseRef := plumbing.NewBranchReferenceName(o.Base)
	base, err := repo.Reference(baseRef, true)
	if err != nil {
		return Proposal{}, fmt.Errorf("irr sync: branch %s in %s: %w", o.Base, o.Dir, err)
	}
	target := baseRef
	if !direct {
		// netrecon's branch starts again from Base each sync: it is the
		// registry's state now, not a history of syncs.
		target = plumbing.NewBranchReferenceName(o.Branch)
		if err := repo.Storer.SetReference(plumbing.NewHashReference(target, base.Hash())); err != nil {
			return Proposal{}, fmt.Errorf("irr sync: branch %s: %w", o.Branch, err)
		}
		if err := w.Checkout(&git.CheckoutOptions{Branch: target, Force: true}); err != nil {
			return Proposal{}, fmt.Errorf("irr sync: check out %s: %w", o.Branch, err)
		}
		defer w.Checkout(&git.CheckoutOptions{Branch: baseRef, Force: true})
	}
	for _, u := range plan.Updates {
		p := filepath.Join(o.Dir, filepath.FromSlash(u.File))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return Proposal{}, fmt.Errorf("irr sync: %w", err)
		}
		if err := os.WriteFile(p, u.Content, 0o644); err != nil {
			return Proposal{}, fmt.Errorf("irr sync: %w", err)
		}
		if _, err := w.Add(u.File); err != nil {
			return Proposal{}, fmt.Errorf("irr sync: git add %s: %w", u.File, err)
		}
	}
	title, body := plan.Describe()
	h, err := w.Commit(title+"\n\n"+body, &git.CommitOptions{Author: &o.Author})
	if err != nil {
		return Proposal{}, fmt.Errorf("irr sync: commit: %w", err)
	}
	out := Proposal{Commit: h.String(), Ref: target.String(), Direct: direct, Held: held}
	spec := config.RefSpec("+" + target.String() + ":" + target.String())
	if direct {
		spec = config.RefSpec(target.String() + ":" + target.String()) // never force main
	}
	err = repo.PushContext(ctx, &git.PushOptions{RemoteName: o.Remote, RefSpecs: []config.RefSpec{spec}, Auth: o.Auth})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return out, fmt.Errorf("irr sync: push %s to %s: %w", target.Short(), o.Remote, err)
	}
	if !direct && o.Forge != nil && o.Mode != CommitBranch {
		if held {
			title = "HOLD: " + title
		}
		pr, err := o.Forge.OpenPullRequest(ctx, o.Repo, o.Branch, o.Base, title, body, held)
		if err != nil {
			return out, err
		}
		out.PullRequest = pr.URL
	}
	return out, nil
}

// Describe words a plan as a commit message and pull request: the prefixes
// each import gains and loses, and why a person must look.
func (p SyncPlan) Describe() (title, body string) {
	var objs []string
	var b strings.Builder
	for _, u := range p.Updates {
		objs = append(objs, u.Object)
		added := len(missing(u.New.V4, u.Old.V4)) + len(missing(u.New.V6, u.Old.V6))
		lost := len(missing(u.Old.V4, u.New.V4)) + len(missing(u.Old.V6, u.New.V6))
		fmt.Fprintf(&b, "- %s (%s): +%d −%d prefixes, %d now\n", u.Object, strings.Join(u.Sources, ", "), added, lost, u.New.Len())
		for _, h := range u.Hold {
			fmt.Fprintf(&b, "  HOLD: %s\n", h)
		}
	}
	if p.Held() {
		b.WriteString("\nnetrecon will not merge this: a person must check the registry first (docs/irr.md).\n")
	}
	b.WriteString("\nGenerated by `netrecon irr sync` from the IRR; the plan of this change shows the prefix lists it changes on the devices.\n")
	return "irr sync: prefix lists of " + strings.Join(objs, ", "), b.String()
}
