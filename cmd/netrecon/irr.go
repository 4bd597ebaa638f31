package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/spf13/cobra"

	"github.com/netrecon/netrecon/backoff"
	"github.com/netrecon/netrecon/forge/github"
	"github.com/netrecon/netrecon/irr"
	"github.com/netrecon/netrecon/reconcile/daemon"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/schema"
	"github.com/netrecon/netrecon/views"
)

// irrFollower wires IRR registration into the daemon when serve.yaml names a
// mail relay (irr.smtp_relay), and the scheduled sync (irr.sync_every) in a
// clone of the daemon's repo under its state folder.
func irrFollower(log *slog.Logger) func(*journal.Journal, daemon.FollowerAlarms, *daemon.Config) daemon.Follower {
	return func(j *journal.Journal, alarms daemon.FollowerAlarms, cfg *daemon.Config) daemon.Follower {
		c := cfg.IRR
		f := irr.Follower{}
		if c.SMTPRelay != "" {
			f.Registrar = &irr.Registrar{
				Journal:      j,
				Alarms:       alarms,
				Mailer:       irr.SMTPRelay{Addr: c.SMTPRelay},
				ReplyMaildir: c.ReplyMaildir,
				Backoff:      backoff.Policy{Base: c.Retry.Base.D(), Max: c.Retry.Max.D()},
				VerifyWithin: c.VerifyWithin.D(),
				Log:          log.With("component", "irr"),
			}
		}
		s := &irr.Schedule{
			Every:   c.SyncEvery.D(),
			RepoURL: cmp.Or(cfg.Repo.URL, cfg.Repo.Path),
			WorkDir: filepath.Join(cfg.StateDir, "irr-sync"),
			Propose: irr.ProposeOptions{Base: cfg.Repo.Branch},
			State:   j,
			Alarms:  alarms,
			Log:     log.With("component", "irr-sync"),
		}
		if pr := c.PullRequests; pr.Repo != "" {
			token, err := os.ReadFile(pr.TokenFile)
			client, cerr := github.New(github.WithToken(strings.TrimSpace(string(token))), github.WithUserAgent("netrecon/"+version))
			if err != nil || cerr != nil {
				// Pushing without the pull request the config asks for
				// would be a change nobody is asked to review: no sync.
				log.Error("irr sync off: the pull request token cannot be read", "token_file", pr.TokenFile, "err", errors.Join(err, cerr))
				return f
			}
			s.Propose.Forge, s.Propose.Repo = client, pr.Repo
			s.Auth = &githttp.BasicAuth{Username: "x-access-token", Password: strings.TrimSpace(string(token))}
		}
		f.Schedule = s
		return f
	}
}

func newIRRCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "irr",
		Short: "IRR registration and prefix lists (docs/irr.md)",
	}
	cmd.AddCommand(newIRRSyncCmd(a))
	return cmd
}

func newIRRSyncCmd(a *app) *cobra.Command {
	var (
		base, branch, remote, repo, mode string
		dryRun, aggregate                bool
		maxShrink                        float64
		timeout                          time.Duration
	)
	cmd := &cobra.Command{
		Use:   "sync [DIR]",
		Short: "Expand each bgp-customer's import from the IRR and propose the generated prefix lists",
		Long: `sync expands the import (as-set or AS) of every bgp-customer in the intent repo DIR
(default .) in the IRR databases its customers name, as bgpq4 does, and writes one
file per import under generated/irr/. The change is committed on a branch of its
own (--branch), pushed to --remote and, with --repo and GITHUB_TOKEN, proposed as
a pull request; where irr/settings.yaml says sync.commit: direct, it is pushed to
--base instead. DIR must be a clean clone checked out on --base.

A list that empties, shrinks by more than sync.max_shrink of its prefixes, or
drops a prefix the customer's own routed space needs is never merged by netrecon:
it goes to the branch (a draft pull request titled HOLD), and sync exits 3.

Exit status: 0 proposed or nothing to do, 1 failed, 2 usage error, 3 held for a person.`,
		Example: `  netrecon irr sync . --dry-run
  GITHUB_TOKEN=... netrecon irr sync . --repo example-isp/intent`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			in, diags, err := loadDir(dir, schema.Options{})
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if diags.HasErrors() {
				views.Diagnostics(a.stderr, "text", diags)
				return &exitError{code: 1, err: errors.New("the intent does not validate")}
			}
			if in.IRR == nil {
				return &exitError{code: 2, err: fmt.Errorf("%s has no %s: nothing to sync", dir, schema.IRRSettingsFile)}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			plan, err := irr.PlanSync(ctx, in, os.DirFS(dir), irr.SyncOptions{MaxShrink: maxShrink, Aggregate: aggregate})
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			if len(plan.Updates) == 0 {
				fmt.Fprintln(a.stdout, "irr sync: every generated prefix list is up to date")
				return nil
			}
			title, body := plan.Describe()
			fmt.Fprintf(a.stdout, "%s\n\n%s", title, body)
			held := &exitError{code: 3, err: errors.New("irr sync: held for a person (see HOLD above); nothing is merged")}
			if dryRun {
				if plan.Held() {
					return held
				}
				return nil
			}
			if mode == "" {
				mode = in.IRR.Commit
			}
			opts := irr.ProposeOptions{Dir: dir, Base: base, Branch: branch, Remote: remote, Mode: mode, Repo: repo}
			if repo != "" {
				token := os.Getenv("GITHUB_TOKEN")
				if strings.TrimSpace(token) == "" {
					return &exitError{code: 2, err: errors.New("--repo needs GITHUB_TOKEN (pull-requests: write, contents: write)")}
				}
				apiURL := cmp.Or(os.Getenv("GITHUB_API_URL"), github.DefaultBaseURL)
				client, err := github.New(github.WithBaseURL(apiURL), github.WithToken(token), github.WithUserAgent("netrecon/"+version))
				if err != nil {
					return &exitError{code: 2, err: err}
				}
				opts.Forge = client
				opts.Auth = &githttp.BasicAuth{Username: "x-access-token", Password: token}
			}
			prop, err := irr.Propose(ctx, plan, opts)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			where := "branch " + strings.TrimPrefix(prop.Ref, "refs/heads/")
			if prop.Direct {
				where = base + " (sync.commit: direct)"
			}
			fmt.Fprintf(a.stdout, "\ncommitted %s on %s", prop.Commit, where)
			if prop.PullRequest != "" {
				fmt.Fprintf(a.stdout, ", pull request %s", prop.PullRequest)
			}
			fmt.Fprintln(a.stdout)
			if prop.Held {
				return held
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&base, "base", "main", "the branch the daemon applies")
	f.StringVar(&branch, "branch", "irr-sync", "netrecon's branch for the change")
	f.StringVar(&remote, "remote", "origin", "the remote to push to")
	f.StringVar(&repo, "repo", "", "OWNER/NAME on GitHub: open a pull request (GITHUB_TOKEN)")
	f.StringVar(&mode, "commit", "", "pull-request, branch or direct; default irr/settings.yaml's sync.commit")
	f.BoolVar(&dryRun, "dry-run", false, "show the change, commit nothing")
	f.BoolVar(&aggregate, "aggregate", false, "merge covered and adjacent prefixes")
	f.Float64Var(&maxShrink, "max-shrink", 0, "override sync.max_shrink (0..1)")
	f.DurationVar(&timeout, "timeout", 10*time.Minute, "give up after this long")
	return cmd
}
