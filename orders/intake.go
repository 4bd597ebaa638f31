package orders

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/netrecon/netrecon/forge/github"
	"github.com/netrecon/netrecon/gitsrc"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/schema"
)

// States of an order (doc.go).
const (
	StateProposing = "proposing"
	StatePROpen    = "pr_open"
	StateMerged    = "merged"
	StateApplied   = "applied"
	StateFailed    = "failed"
)

// InvalidError is an order with errors: every one, each at its field.
// Nothing was written for it.
type InvalidError struct {
	ID       string
	Problems []Problem
}

func (e *InvalidError) Error() string {
	ps := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		ps[i] = p.String()
	}
	return fmt.Sprintf("order %s: %d error(s): %s", e.ID, len(ps), strings.Join(ps, "; "))
}

// ConflictError is an order id seen before with another body.
type ConflictError struct{ ID string }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("order %s was received before with another body; an order id names one order: send the same body to follow it, or a new id for another order", e.ID)
}

// GitHub says where the pull requests go; without it an order is a pushed
// branch only (a plain Git remote).
type GitHub struct {
	Client *github.Client
	Repo   string // owner/name
}

// Config is what an Intake needs.
type Config struct {
	Journal *journal.Journal
	// Mirror is the daemon's mirror of the applied branch: orders are
	// validated against its head and pushed to its remote.
	Mirror *gitsrc.Mirror
	// Branch is the branch the mirror follows: the pull requests' base.
	Branch string
	// GitHub, when set, opens a pull request for each order's branch.
	GitHub *GitHub
	// Author and Email sign the commits of orders.
	Author, Email string
	// Evaluator evaluates user-defined service types (schema.Options).
	Evaluator schema.Evaluator
	Logger    *slog.Logger
	Now       func() time.Time
}

// Intake receives orders. Its methods are safe for concurrent use; Submit
// takes one order at a time, so that each is validated against a head that
// holds no other order half-proposed.
type Intake struct {
	cfg Config
	log *slog.Logger
	now func() time.Time
	mu  sync.Mutex
}

// New checks cfg and returns an Intake.
func New(cfg Config) (*Intake, error) {
	if cfg.Journal == nil || cfg.Mirror == nil || cfg.Branch == "" {
		return nil, errors.New("orders: journal, mirror and branch are required")
	}
	if cfg.Author == "" || cfg.Email == "" {
		return nil, errors.New("orders: author and email are required: they sign the orders' commits")
	}
	if cfg.GitHub != nil && (cfg.GitHub.Client == nil || cfg.GitHub.Repo == "") {
		return nil, errors.New("orders: GitHub needs a client and a repository")
	}
	in := &Intake{cfg: cfg, log: cfg.Logger, now: cfg.Now}
	if in.log == nil {
		in.log = slog.New(slog.DiscardHandler)
	}
	if in.now == nil {
		in.now = time.Now
	}
	return in, nil
}

// Status is an order as it stands.
type Status struct {
	ID          string
	State       string
	Path        string
	Branch      string
	PRURL       string
	Commit      string
	MergeCommit string
	Detail      string
	Created     time.Time
	Updated     time.Time
	Merged      time.Time
	Applied     time.Time
}

func statusOf(o journal.Order) Status {
	return Status{ID: o.ID, State: o.State, Path: o.Path, Branch: o.Branch, PRURL: o.PRURL, Commit: o.Commit,
		MergeCommit: o.MergeCommit, Detail: o.Detail, Created: o.Created, Updated: o.Updated, Merged: o.Merged, Applied: o.Applied}
}

// Submit validates o against the head of the applied branch and proposes
// it. It returns the order's status and whether this call created it. A bad
// order is an *InvalidError, and nothing is written; an order id known with
// another body is a *ConflictError. An order whose proposal failed half-way
// (a push or the forge failed) stays "proposing"; submitting it again
// finishes it.
func (in *Intake) Submit(ctx context.Context, o Order) (_ Status, created bool, err error) {
	if ps := o.check(); len(ps) > 0 {
		return Status{}, false, &InvalidError{ID: o.ID, Problems: ps}
	}
	body, digest, err := o.canonical()
	if err != nil {
		return Status{}, false, err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	known, err := in.cfg.Journal.Order(ctx, o.ID)
	switch {
	case errors.Is(err, journal.ErrNotFound):
	case err != nil:
		return Status{}, false, err
	case known.Digest != digest:
		return Status{}, false, &ConflictError{ID: o.ID}
	case known.State != StateProposing:
		return statusOf(known), false, nil
	}
	head, err := in.cfg.Mirror.Head()
	if err != nil {
		return Status{}, false, fmt.Errorf("order %s: head of %s: %w", o.ID, in.cfg.Branch, err)
	}
	file, err := in.validate(o, head)
	if err != nil {
		return Status{}, false, err
	}
	rec, created, err := in.cfg.Journal.AddOrder(ctx, journal.Order{ID: o.ID, Digest: digest, Body: body,
		State: StateProposing, Path: o.Path(), Branch: o.Branch(), Created: in.now()})
	if err != nil {
		return Status{}, false, err
	}
	rec, err = in.propose(ctx, rec, o, head, file)
	return statusOf(rec), created, err
}

// validate renders o's file and loads the head of the applied branch with
// it added, as `netrecon validate` would: it returns the file, or an
// *InvalidError with every error.
func (in *Intake) validate(o Order, head string) ([]byte, error) {
	rv, err := in.cfg.Mirror.Revision(head)
	if err != nil {
		return nil, fmt.Errorf("order %s: %w", o.ID, err)
	}
	shape, _ := schema.BuiltinShape(o.ServiceType)
	file, err := o.render(shape, in.now())
	if err != nil {
		return nil, err
	}
	fsys, err := rv.FSWith(map[string][]byte{o.Path(): file})
	if errors.Is(err, fs.ErrExist) {
		return nil, &InvalidError{ID: o.ID, Problems: []Problem{{Field: "name", Message: fmt.Sprintf(
			"%s already exists in %s: a service of that name and customer is there; an order adds a new one", o.Path(), in.cfg.Branch)}}}
	}
	if err != nil {
		return nil, fmt.Errorf("order %s: %w", o.ID, err)
	}
	intent, diags := schema.Load(fsys, schema.Options{Evaluator: in.cfg.Evaluator})
	if diags.HasErrors() {
		return nil, &InvalidError{ID: o.ID, Problems: problems(o.Path(), diags)}
	}
	// A user-defined type's shape is known once the repo is loaded: write
	// its fields in its schema's order too.
	if t := intent.Types[o.ServiceType]; t != nil && !t.BuiltIn && t.Shape != nil {
		if file, err = o.render(t.Shape, in.now()); err != nil {
			return nil, err
		}
	}
	return file, nil
}

// problems turns the diagnostics of a load into the order's terms: a
// problem in the order's own file gets the order's field path; one in
// another file keeps its place, since the order caused it there (a VLAN or
// an address that clashes) or main was broken already.
func problems(file string, ds schema.Diagnostics) []Problem {
	var out []Problem
	for _, d := range ds {
		if d.Severity != schema.Error {
			continue
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += " (" + d.Detail + ")"
		}
		if d.Pos.File != file {
			p := Problem{Field: "", Message: msg, At: d.Pos.String()}
			if d.Field != "" {
				p.At += " " + d.Field
			}
			for _, r := range d.Related {
				if r.Pos.File == file {
					p.Field = orderField(r.Field)
				}
			}
			out = append(out, p)
			continue
		}
		p := Problem{Field: orderField(d.Field), Message: msg}
		for _, r := range d.Related {
			if r.Pos.File != file {
				p.At = r.Pos.String()
			}
		}
		out = append(out, p)
	}
	return out
}

// orderField maps a field path of the service document onto the order's.
func orderField(f string) string {
	switch {
	case f == "kind":
		return "service_type"
	case f == "spec":
		return "fields"
	case strings.HasPrefix(f, "spec."):
		return "fields." + strings.TrimPrefix(f, "spec.")
	case strings.HasPrefix(f, "spec["):
		return "fields" + strings.TrimPrefix(f, "spec")
	case strings.HasPrefix(f, "metadata."):
		return strings.TrimPrefix(f, "metadata.")
	}
	return f
}

// propose pushes the order's branch and opens its pull request, recording
// each step; a failure leaves the order "proposing" with the reason.
func (in *Intake) propose(ctx context.Context, rec journal.Order, o Order, head string, file []byte) (journal.Order, error) {
	fail := func(err error) (journal.Order, error) {
		rec.Detail = err.Error()
		if uerr := in.cfg.Journal.UpdateOrder(context.WithoutCancel(ctx), rec); uerr != nil {
			in.log.Error("journal: record a failed order proposal", "order", o.ID, "err", uerr)
		}
		return rec, err
	}
	pushed, err := in.cfg.Mirror.Propose(ctx, gitsrc.Proposal{
		Base: head, Branch: rec.Branch, Files: map[string][]byte{rec.Path: file},
		Message: fmt.Sprintf("Order %s: add %s %s for %s\n\nProposed by netrecon's order API.", o.ID, o.ServiceType, o.Name, o.Customer),
		Author:  in.cfg.Author, Email: in.cfg.Email, When: in.now(),
	})
	if err != nil {
		return fail(fmt.Errorf("order %s: %w", o.ID, err))
	}
	rec.Commit = pushed.Commit
	if pushed.Existed {
		in.log.Info("order branch already pushed; kept as it is", "order", o.ID, "branch", rec.Branch, "commit", pushed.Commit)
	}
	if gh := in.cfg.GitHub; gh != nil {
		pr, opened, err := gh.Client.EnsurePullRequest(ctx, gh.Repo, github.NewPullRequest{
			Head: rec.Branch, Base: in.cfg.Branch,
			Title: fmt.Sprintf("Order %s: %s %s for %s", o.ID, o.ServiceType, o.Name, o.Customer),
			Body: fmt.Sprintf("Order **%s**, received through netrecon's order API, adds `%s`.\n\n"+
				"The plan comment shows what it changes on the devices. Once merged, netrecon applies it; "+
				"`GET /api/v1/orders/%s` follows it.\n", o.ID, rec.Path, o.ID),
		})
		if err != nil {
			return fail(fmt.Errorf("order %s: %w", o.ID, err))
		}
		rec.PRURL = pr.URL
		in.log.Info("order pull request", "order", o.ID, "url", pr.URL, "opened", opened)
	}
	rec.State, rec.Detail = StatePROpen, ""
	if err := in.cfg.Journal.UpdateOrder(ctx, rec); err != nil {
		return rec, err
	}
	if saved, err := in.cfg.Journal.Order(ctx, rec.ID); err == nil {
		rec = saved // with the journal's times
	}
	in.log.Info("order proposed", "order", o.ID, "branch", rec.Branch, "commit", rec.Commit, "path", rec.Path)
	return rec, nil
}

// Get returns the order id; journal.ErrNotFound when there is none.
func (in *Intake) Get(ctx context.Context, id string) (Status, error) {
	o, err := in.cfg.Journal.Order(ctx, id)
	if err != nil {
		return Status{}, err
	}
	return statusOf(o), nil
}
