package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/gitsrc"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/plan"
	"github.com/netrecon/netrecon/reconcile/planner"
	"github.com/netrecon/netrecon/reconcile/schedule"
	"github.com/netrecon/netrecon/reconcile/session"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
)

// liveEnv is what a verb that talks to devices starts from: the intent, the
// desired trees of the selected devices, a dialer and the journal.
type liveEnv struct {
	dir     string
	in      *schema.Intent
	source  plan.Source
	devices []string
	desired map[string]*configtree.Tree
	// dialer leases sessions from sessions: recovery, the live plan and
	// apply share one session per device for the whole run.
	dialer   reconcile.Dialer
	sessions *session.Pool
	journal  *journal.Journal // nil when none exists and none was asked for
	// held are the services left out for their open manual steps.
	held []plan.HeldService
}

// Close ends the run's sessions and closes the journal.
func (e *liveEnv) Close() {
	if e.sessions != nil {
		e.sessions.Close()
	}
	if e.journal != nil {
		e.journal.Close()
	}
}

// journalPath is the journal's file in the state folder.
func journalPath(state string) string { return filepath.Join(state, "journal.db") }

// stateSigns are what shows that a state folder was used, beside the
// journal's own marker: the daemon's mirror of the intent repo (a CLI may
// share the daemon's folder). A missing or empty journal next to them is lost,
// not new (journal.LostError).
func stateSigns(state string) []string { return []string{filepath.Join(state, "mirror")} }

// openJournal opens the state folder's journal.
func openJournal(ctx context.Context, state string) (*journal.Journal, error) {
	return journal.Open(ctx, journalPath(state), journal.WithStateSigns(stateSigns(state)...))
}

// openLive loads and renders the intent in dir and prepares the devices.
// With createJournal the journal is created when missing (apply); without,
// an existing one is read (a live plan needs to know what netrecon owns) and
// none is made. With prefetch the caller plans the selected devices live
// next: their sessions start opening as soon as the intent is rendered (see
// prefetchDevices).
func openLive(ctx context.Context, a *app, dir string, lf loadFlags, df *deviceFlags, createJournal, prefetch bool) (*liveEnv, error) {
	if err := df.check(); err != nil {
		return nil, &exitError{code: 1, err: err}
	}
	var names []string
	sel := func(in *schema.Intent) (_ []string, err error) {
		names, err = df.selected(in)
		return names, err
	}
	statePath, err := df.statePath()
	if err != nil {
		return nil, &exitError{code: 1, err: err}
	}
	// A lost journal first: reading nothing as "netrecon owns nothing"
	// would be worse than any other problem here.
	jp := journalPath(statePath)
	if err := journal.CheckLost(jp, stateSigns(statePath)...); err != nil {
		return nil, &exitError{code: 1, err: err}
	}
	// An existing journal is read before the intent is scoped: its tasks
	// say which services wait for manual steps, as the daemon's do.
	var j *journal.Journal
	if _, err := os.Stat(jp); err == nil {
		if j, err = openJournal(ctx, statePath); err != nil {
			return nil, &exitError{code: 1, err: fmt.Errorf("journal: %w", err)}
		}
	}
	closeJournal := func() {
		if j != nil {
			j.Close()
		}
	}
	tasks, baselined, err := readTasks(ctx, j)
	if err != nil {
		closeJournal()
		return nil, &exitError{code: 1, err: err}
	}
	// A live plan is for now: a scheduled service is planned as its window
	// stands at this moment, and one that waits for a manual step as absent
	// (reconcile/schedule), as the daemon plans them.
	now := time.Now()
	var specs []journal.TaskSpec
	var held map[string][]string
	scope := func(in *schema.Intent, steps []render.Step) *schema.Intent {
		specs = schedule.TaskSpecs(steps)
		held = schedule.HeldAfterSync(tasks, specs, baselined)
		return schedule.At(in, now, schedule.StepGate(held))
	}
	lo := lf.options()
	var early *earlySessions
	if prefetch {
		// The first sessions open while the services load (earlySessions).
		lo.Inventory = func(inv *schema.Intent) {
			if early != nil {
				return
			}
			picked, err := df.selected(inv)
			c, cerr := df.dialConfig(dir, a.stderr)
			if err != nil || cerr != nil {
				return // said again, better, once the intent loaded
			}
			if devs := earlyDevices(inv, picked, df.concurrency); len(devs) > 0 {
				early, _ = startEarly(ctx, inv, devs, c, df.concurrency)
			}
		}
	}
	fail := func(err error) (*liveEnv, error) {
		closeJournal()
		if early != nil {
			early.pool.Close()
		}
		return nil, err
	}
	b, diags, err := buildDir(ctx, dir, render.BuildOptions{Load: lo, Select: sel, Scope: scope})
	switch {
	case err != nil:
		return fail(&exitError{code: 1, err: err})
	case b == nil:
		return fail(&exitError{code: 1, err: errors.New("the intent is not valid; nothing was read from the devices"), diags: diags})
	case b.Desired == nil:
		return fail(&exitError{code: 1, err: errors.New("the intent does not render; nothing was read from the devices"), diags: diags})
	}
	in, desired := b.Intent, b.Desired
	// Before the state folder or the journal is touched: an apply that
	// cannot reach a device must leave nothing behind.
	if err := df.checkHostKeys(in, dir, names, createJournal); err != nil {
		return fail(&exitError{code: 1, err: err})
	}
	// One session per device for the run: no keepalive, no idle timeout;
	// Close ends them.
	var (
		dialer   reconcile.Dialer
		sessions *session.Pool
	)
	if early != nil {
		early.final.Store(in)
		dialer, sessions = early.dialer, early.pool
	} else {
		if dialer, err = df.dialer(in, dir, a.stderr); err != nil {
			return fail(&exitError{code: 1, err: err})
		}
		if sessions, err = session.New(session.Options{Concurrency: df.concurrency}); err != nil {
			return fail(&exitError{code: 1, err: err})
		}
	}
	env := &liveEnv{dir: dir, in: in, devices: names, desired: desired, dialer: sessions.Dialer(dialer, nil), sessions: sessions,
		source: intentSource(dir), journal: j, held: plan.HeldServices(held)}
	if prefetch {
		// From here on every return closes env, which stops the prefetch
		// and closes what it opened.
		sessions.Prefetch(dialer, nil, prefetchDevices(in, names, desired, df.concurrency))
	}
	if !createJournal {
		return env, nil
	}
	state, err := df.state()
	if err != nil {
		env.Close()
		return nil, &exitError{code: 1, err: err}
	}
	if env.journal == nil {
		if env.journal, err = openJournal(ctx, state); err != nil {
			env.Close()
			return nil, &exitError{code: 1, err: fmt.Errorf("journal: %w", err)}
		}
	}
	// An apply records the steps it met, so that netrecon tasks lists them
	// and marking them done lets the next apply configure their service. The
	// first sync of a journal is its baseline: it records the steps of the
	// services it meets done, as the daemon's first pass does.
	if _, err := env.journal.SyncTaskSpecs(ctx, specs, intentRef(env.source)); err != nil {
		env.Close()
		return nil, &exitError{code: 1, err: err}
	}
	return env, nil
}

// prefetchDevices are the devices whose sessions a live plan of names opens
// before it starts, once the intent is rendered: those with desired
// configuration among the first the planner reads (it reads them in name
// order, concurrency at a time), so that the sessions being set up at once
// never exceed concurrency. The first devices of the selection had theirs
// opened while the services loaded already (earlySessions). A device planned
// only for what the journal says netrecon owns there is dialed by the
// planner, as before.
func prefetchDevices(in *schema.Intent, names []string, desired map[string]*configtree.Tree, concurrency int) []*schema.Device {
	if concurrency <= 0 {
		concurrency = planner.DefaultConcurrency
	}
	first := slices.Sorted(slices.Values(names))
	first = slices.Compact(first)
	first = first[:min(concurrency, len(first))]
	var out []*schema.Device
	for _, n := range first {
		if d := in.Device(n); d != nil && desired[n] != nil {
			out = append(out, d)
		}
	}
	return out
}

// readTasks reads the manual steps' tasks of j, and whether they had their
// baseline sync; nothing without a journal.
func readTasks(ctx context.Context, j *journal.Journal) ([]journal.Task, bool, error) {
	if j == nil {
		return nil, false, nil
	}
	baselined, err := j.TasksBaselined(ctx)
	if err != nil {
		return nil, false, err
	}
	tasks, err := j.Tasks(ctx)
	if err != nil {
		return nil, false, err
	}
	return tasks, baselined, nil
}

// intentSource names the revision of the intent in dir: its HEAD commit and
// the intent files that differ from it, or nothing outside Git.
func intentSource(dir string) plan.Source {
	repo, err := gitsrc.Open(dir)
	if err != nil {
		return plan.Source{}
	}
	src := plan.Source{}
	if rev, err := repo.Resolve("HEAD"); err == nil {
		src.Commit = rev.Commit
		src.Rev = "HEAD"
	}
	if dirty, err := repo.Dirty(); err == nil {
		src.Dirty = dirty
	}
	return src
}

// intentRef is what a run records as its intent commit: the HEAD commit of a
// clean work tree (its intent files are that commit's); "worktree COMMIT+dirty"
// when intent files differ from HEAD; "worktree" outside Git. History shows
// it as is (views.CommitLabel shortens the commit).
func intentRef(s plan.Source) string {
	switch {
	case s.Commit == "":
		return "worktree"
	case len(s.Dirty) > 0:
		return "worktree " + s.Commit + "+dirty"
	}
	return s.Commit
}
