package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/apply"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/plan"
	"github.com/netrecon/netrecon/reconcile/planfile"
	"github.com/netrecon/netrecon/reconcile/planner"
	"github.com/netrecon/netrecon/views"
)

// applyFlags are apply's own knobs.
type applyFlags struct {
	autoApprove    bool
	noAtomic       bool
	lockWait       time.Duration
	confirmTimeout time.Duration
	dir            string
}

func newApplyCmd(a *app) *cobra.Command {
	var (
		af applyFlags
		lf loadFlags
		df deviceFlags
	)
	cmd := &cobra.Command{
		Use:   "apply [DIR | PLANFILE]",
		Short: "Apply the intent to the devices, all of a change set or none",
		Long: `Apply reads the devices, prints the plan, asks for confirmation on a terminal
(--auto-approve otherwise), and applies exactly that plan: per device under an
exclusive lock, waiting out another session's lock (never killing it), with a
confirmed commit on every device of the change set, a check that each device runs
what was meant, then the confirming commit on all of them. Any failure before that
last step rolls every device back. --no-atomic applies device by device.

Given a file saved by 'netrecon plan --out FILE', apply applies that plan. It refuses a
file not signed with this state folder's key (edited, or made with another state
folder), and re-reads the devices first: if planning them again from the file's
desired configuration gives another plan, it names the device and the first change
that differs, and changes nothing (the inventory is read from --dir).

Before anything else, apply finishes or undoes a run that a crash left half-way,
from the journal, and says what it did. Every run is recorded (netrecon history).
Recovery, the plan and the apply share one session per device, closed however
the apply ends. The first --concurrency devices of the selection get theirs while
the intent is still being validated (closed again, unused, when it is invalid or
when the plan does not read that device).

Ctrl-C stops gracefully: before the confirm step every device of the change set
is rolled back (and read back); a confirm step already begun is finished. A
second Ctrl-C stops at once: devices with an unconfirmed commit roll back by
themselves at their confirm-timeout, and the next apply settles the run from the
journal. Each interrupt says which of these happens.

Exit status: 0 applied or nothing to do, 1 failed or rolled back, 130 stopped by
an interrupt.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			target := "."
			if len(args) == 1 {
				target = args[0]
			}
			defer batchGC()()
			return runApply(ctx, a, target, af, lf, &df)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&af.autoApprove, "auto-approve", false, "apply without asking")
	f.BoolVar(&af.noAtomic, "no-atomic", false, "apply device by device: a failing device does not roll back the others")
	f.DurationVar(&af.lockWait, "lock-wait", 60*time.Second, "how long to wait for a lock another session holds")
	f.DurationVar(&af.confirmTimeout, "confirm-timeout", 120*time.Second, "how long devices keep an unconfirmed change if netrecon dies")
	f.StringVar(&af.dir, "dir", ".", "with a plan file: the intent repo whose inventory names the devices")
	lf.register(cmd)
	df.register(cmd)
	return cmd
}

func runApply(ctx context.Context, a *app, target string, af applyFlags, lf loadFlags, df *deviceFlags) error {
	var applying atomic.Bool
	intr := watchInterrupts(ctx, a.stderr, applyInterruptWords(applying.Load, af.confirmTimeout.String()))
	defer intr.done()
	// Until the transaction starts, an interrupt only stops the reading.
	ctx = intr.stop
	st, err := os.Stat(target)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	fromFile := !st.IsDir()
	dir := target
	if fromFile {
		dir = af.dir
	}
	env, err := openLive(ctx, a, dir, lf, df, true, !fromFile)
	if err != nil {
		return err
	}
	defer env.Close()
	logger := slog.New(slog.NewTextHandler(a.stderr, nil))

	// A run a crash left half-way is settled before anything new starts.
	actions, err := apply.Recover(ctx, env.journal, env.dialer, env.in, logger)
	if err != nil && intr.interrupted() {
		return &exitError{code: 130, err: fmt.Errorf("interrupted during recovery: the next apply finishes it: %w", err)}
	}
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("recovery: %w", err)}
	}
	for _, ra := range actions {
		line := fmt.Sprintf("recovered run %d: %s: %s", ra.Run, ra.Device, ra.Action)
		if ra.Err != nil {
			line += ": " + ra.Err.Error()
		}
		fmt.Fprintln(a.stderr, line)
	}

	var (
		p       *plan.Plan
		desired = env.desired
	)
	if fromFile {
		if p, desired, err = readPlanFile(ctx, target, env, df); err != nil {
			return &exitError{code: 1, err: err}
		}
	} else {
		p, err = planner.Live(ctx, planner.LiveOptions{Intent: env.in, Desired: env.desired, Dialer: env.dialer, Journal: env.journal, Devices: env.devices, Concurrency: df.concurrency})
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		p.Head = env.source
		p.Held = env.held
	}
	if intr.interrupted() {
		return &exitError{code: 130, err: errors.New("interrupted before applying: nothing was changed")}
	}
	if err := showPlan(a, "text", p); err != nil {
		return &exitError{code: 1, err: err}
	}
	s := p.Summary()
	if s.Failed > 0 {
		return &exitError{code: 1, err: errors.New("some devices could not be planned; nothing was applied")}
	}
	if !s.HasChanges() {
		return nil
	}
	if !af.autoApprove {
		ok, err := confirm(ctx, a, "Apply these changes?")
		if err != nil && intr.interrupted() {
			return &exitError{code: 130, err: errors.New("interrupted: nothing was changed")}
		}
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		if !ok {
			fmt.Fprintln(a.stdout, "Apply cancelled; nothing was changed.")
			return &exitError{code: 1}
		}
	}
	opts := apply.Options{
		Dialer:         env.dialer,
		Journal:        env.journal,
		Concurrency:    df.concurrency,
		LockWait:       af.lockWait,
		ConfirmTimeout: af.confirmTimeout,
		NoAtomic:       af.noAtomic,
		// The run's sessions end with it (liveEnv.Close): a device that
		// confirmed ends its own at once, its locks with it.
		EndSessions:  true,
		Reporter:     crashAt(newProgress(a.stderr, isTerminal(a.stderr), logger)),
		Logger:       logger,
		StartedBy:    "cli:" + userName(),
		IntentCommit: intentRef(p.Head),
		Stop:         intr.stop,
		Summary:      applySummary,
	}
	applying.Store(true)
	res, err := apply.Apply(intr.hard, p, desired, env.in, opts)
	if res == nil {
		return &exitError{code: 1, err: err}
	}
	// With a result, the error is the devices' failures, listed below.
	fmt.Fprintf(a.stdout, "\n%s (run %d).\n", capitalize(applySummary(res)), res.RunID)
	if res.Abandoned {
		fmt.Fprintf(a.stdout, "Run %d is unfinished in the journal: the next netrecon apply with this state folder settles it first, reading every device back.\n", res.RunID)
		return &exitError{code: 130}
	}
	for _, d := range res.Devices {
		if d.Err != nil && !errors.As(d.Err, new(*apply.StoppedError)) {
			fmt.Fprintf(a.stdout, "  %s\n", deviceErrLine(d.Name, d.Err))
		}
	}
	switch {
	case res.Stopped:
		return &exitError{code: 130}
	case res.Outcome != journal.Applied && res.Outcome != journal.NoChanges:
		return &exitError{code: 1}
	}
	return nil
}

// readPlanFile reads a saved plan, checks its signature, and plans its
// devices again from its desired trees: a plan is applied only while the
// devices are as they were when it was made (DESIGN invariant 2). The check
// under lock (the fingerprint) still follows; this one names what changed
// and costs no lock.
func readPlanFile(ctx context.Context, path string, env *liveEnv, df *deviceFlags) (*plan.Plan, map[string]*configtree.Tree, error) {
	key, err := planKey(df)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	p, desired, err := planfile.ReadSigned(f, key)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if p.Mode != plan.Live {
		return nil, nil, fmt.Errorf("%s: a %s plan cannot be applied: re-run plan without --base", path, p.Mode)
	}
	names := make([]string, 0, len(p.Devices))
	for _, d := range p.Devices {
		names = append(names, d.Name)
	}
	fresh, err := planner.Live(ctx, planner.LiveOptions{Intent: env.in, Desired: desired, Dialer: env.dialer, Journal: env.journal, Devices: names, Concurrency: df.concurrency})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: planning again: %w", path, err)
	}
	if err := planfile.Compare(p, fresh); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, desired, nil
}

// confirm asks a yes/no question on a terminal; elsewhere it refuses, since a
// change to a production network needs an explicit --auto-approve there. An
// interrupt (ctx) ends the question.
func confirm(ctx context.Context, a *app, question string) (bool, error) {
	if !isTerminal(a.stdin) {
		return false, errors.New("standard input is not a terminal: pass --auto-approve to apply without asking")
	}
	fmt.Fprintf(a.stdout, "\n%s Only 'yes' applies: ", question)
	type answer struct {
		line string
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		line, err := bufio.NewReader(a.stdin).ReadString('\n')
		got <- answer{line, err}
	}()
	select {
	case <-ctx.Done():
		return false, context.Cause(ctx)
	case ans := <-got:
		if ans.err != nil && ans.line == "" {
			return false, ans.err
		}
		return strings.TrimSpace(ans.line) == "yes", nil
	}
}

// deviceErrLine is a device's error for a list: the engine's and the
// driver's errors name the device already, so it is named only when not.
func deviceErrLine(device string, err error) string {
	msg := err.Error()
	if !strings.HasPrefix(msg, device+": ") {
		msg = device + ": " + msg
	}
	return msg
}

func userName() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// newProgress is an apply's progress: views' display on a terminal, one log
// line per event elsewhere.
func newProgress(w io.Writer, tty bool, logger *slog.Logger) apply.Reporter {
	if !tty {
		return apply.LogReporter{Logger: logger}
	}
	return ttyReporter{views.NewProgress(w)}
}

type ttyReporter struct{ p *views.Progress }

func (r ttyReporter) Event(e apply.Event) {
	r.p.Event(views.ProgressEvent{Device: e.Device, Phase: e.Phase, Elapsed: e.Elapsed, Detail: e.Detail})
}
