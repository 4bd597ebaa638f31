package irr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/schema"
)

// Alarm kinds of the scheduled sync; the subject is "sync".
const (
	AlarmSyncHeld    = "irr-sync-held"    // a change waits for a person
	AlarmSyncFailing = "irr-sync-failing" // the sync itself failed
)

// keyLastSync is the journal state key of the last scheduled sync's time.
const keyLastSync = "irr_last_sync"

// StateStore keeps small values across restarts: the journal's state.
type StateStore interface {
	State(ctx context.Context, key string) (string, error)
	SetState(ctx context.Context, key, value string) error
}

// Schedule runs irr sync from the daemon every Every (docs/irr.md): in a
// clone of the intent repo of its own, proposed as the CLI proposes it.
// The time of the last run is in the journal, so a restart does not sync
// again at once.
type Schedule struct {
	Every   time.Duration
	RepoURL string // what to clone: the daemon's repo
	Auth    transport.AuthMethod
	WorkDir string // the clone; the Schedule's alone
	Propose ProposeOptions
	State   StateStore
	Alarms  Alarms
	Sync    SyncOptions
	Now     func() time.Time
	Log     *slog.Logger
}

func (s *Schedule) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// Due reports whether Every has passed since the last run.
func (s *Schedule) Due(ctx context.Context) (bool, error) {
	v, err := s.State.State(ctx, keyLastSync)
	if err != nil || v == "" {
		return err == nil, err
	}
	last, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return true, nil
	}
	return !s.now().Before(last.Add(s.Every)), nil
}

// Run syncs when due, with the intent of commit; a held change or a
// failure raises an alarm (and a later success clears it).
func (s *Schedule) Run(ctx context.Context, in *schema.Intent) error {
	if in.IRR == nil || !slices.ContainsFunc(in.Services, func(s *schema.Service) bool { return s.Kind == schema.KindBGPCustomer }) {
		return nil // nothing imports from the IRR: no clone, no push
	}
	due, err := s.Due(ctx)
	if err != nil || !due {
		return err
	}
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	prop, err := s.run(ctx, in)
	if serr := s.State.SetState(ctx, keyLastSync, s.now().UTC().Format(time.RFC3339Nano)); serr != nil {
		err = errors.Join(err, serr)
	}
	if err != nil {
		log.Error("irr sync failed", "err", err)
		s.Alarms.Raise(ctx, AlarmSyncFailing, "sync", err.Error())
		return err
	}
	s.Alarms.Clear(ctx, AlarmSyncFailing, "sync")
	if prop.Held {
		msg := fmt.Sprintf("irr sync holds a change for a person (%s)", prop.Ref)
		if prop.PullRequest != "" {
			msg += ": " + prop.PullRequest
		}
		log.Error("irr sync held", "ref", prop.Ref, "pull_request", prop.PullRequest)
		s.Alarms.Raise(ctx, AlarmSyncHeld, "sync", msg)
		return nil
	}
	s.Alarms.Clear(ctx, AlarmSyncHeld, "sync")
	if prop.Commit != "" {
		log.Info("irr sync proposed", "commit", prop.Commit, "ref", prop.Ref, "direct", prop.Direct, "pull_request", prop.PullRequest)
	}
	return nil
}

func (s *Schedule) run(ctx context.Context, in *schema.Intent) (Proposal, error) {
	if err := s.checkout(ctx); err != nil {
		return Proposal{}, err
	}
	plan, err := PlanSync(ctx, in, os.DirFS(s.WorkDir), s.Sync)
	if err != nil {
		return Proposal{}, err
	}
	o := s.Propose
	o.Dir = s.WorkDir
	if o.Mode == "" {
		o.Mode = in.IRR.Commit
	}
	if o.Auth == nil {
		o.Auth = s.Auth
	}
	return Propose(ctx, plan, o)
}

// checkout brings the clone to the remote's Base.
func (s *Schedule) checkout(ctx context.Context) error {
	base := s.Propose.Base
	remote := "origin"
	if s.Propose.Remote != "" {
		remote = s.Propose.Remote
	}
	repo, err := git.PlainOpen(s.WorkDir)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		repo, err = git.PlainCloneContext(ctx, s.WorkDir, false, &git.CloneOptions{URL: s.RepoURL, Auth: s.Auth, RemoteName: remote,
			ReferenceName: plumbing.NewBranchReferenceName(base), SingleBranch: true})
		if err != nil {
			return fmt.Errorf("irr sync: clone %s: %w", redact(s.RepoURL), err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("irr sync: %s: %w", s.WorkDir, err)
	}
	err = repo.FetchContext(ctx, &git.FetchOptions{RemoteName: remote, Auth: s.Auth, Force: true,
		RefSpecs: []config.RefSpec{config.RefSpec("+refs/heads/" + base + ":refs/remotes/" + remote + "/" + base)}})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return fmt.Errorf("irr sync: fetch %s: %w", redact(s.RepoURL), err)
	}
	r, err := repo.Reference(plumbing.NewRemoteReferenceName(remote, base), true)
	if err != nil {
		return fmt.Errorf("irr sync: %s/%s: %w", remote, base, err)
	}
	local := plumbing.NewBranchReferenceName(base)
	if err := repo.Storer.SetReference(plumbing.NewHashReference(local, r.Hash())); err != nil {
		return err
	}
	w, err := repo.Worktree()
	if err != nil {
		return err
	}
	return w.Checkout(&git.CheckoutOptions{Branch: local, Force: true})
}

// redact drops credentials from a URL for an error message.
func redact(u string) string {
	if i := strings.Index(u, "@"); i > 0 && strings.Contains(u[:i], "://") {
		return u[:strings.Index(u, "://")+3] + "…@" + u[i+1:]
	}
	return u
}

// Follower is what the daemon runs after each pass: registration and the
// scheduled sync, each when configured.
type Follower struct {
	Registrar *Registrar // nil: the daemon registers nothing
	Schedule  *Schedule  // nil: the daemon does not sync
}

// Follow registers, then syncs when due. Both run whatever the other did.
func (f Follower) Follow(ctx context.Context, in *schema.Intent, commit string) error {
	var err error
	if f.Registrar != nil {
		err = f.Registrar.Follow(ctx, in, commit)
	}
	if f.Schedule != nil {
		err = errors.Join(err, f.Schedule.Run(ctx, in))
	}
	return err
}

// Status is the registrations, for the daemon's status document.
func (f Follower) Status(ctx context.Context) ([]api.IRRRegistration, error) {
	if f.Registrar == nil {
		return nil, nil
	}
	return f.Registrar.Status(ctx)
}
