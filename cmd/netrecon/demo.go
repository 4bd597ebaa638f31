package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netsim"
	intentexample "github.com/netrecon/netrecon/intent-example"
	"github.com/netrecon/netrecon/reconcile/apply"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/plan"
	"github.com/netrecon/netrecon/reconcile/planner"
	"github.com/netrecon/netrecon/reconcile/secretref"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
	"github.com/netrecon/netrecon/views"
)

func newDemoCmd(a *app) *cobra.Command {
	var (
		example string
		keep    bool
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run netrecon end to end on simulated routers, with nothing to set up",
		Long: `Demo starts simulated PE routers (real NETCONF over SSH) for the example intent
repo's inventory, copies the repo to a temporary Git repo, and walks through what
netrecon does: the plan, the apply (two phases, confirmed commit, verification), a
lock held by someone else waited out, a device that rejects its commit rolling the
whole change set back, and a last plan showing "No changes". It then stops every
simulated router and removes every file it made.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			if err := runDemo(ctx, a, example, keep); err != nil {
				return &exitError{code: 1, err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&example, "example", "", "the intent repo to run the demo on (default: the example built into netrecon)")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the temporary repo and state folder, and print where they are")
	return cmd
}

// demo is the state the demo's steps share.
type demo struct {
	a       *app
	repo    string // the temporary intent repo
	state   string
	sim     *netsim.Sim
	df      deviceFlags
	lf      loadFlags
	started time.Time
	// lockWaited, when set, hears each device the apply finds locked.
	lockWaited func(device string)
}

func runDemo(ctx context.Context, a *app, example string, keep bool) error {
	// The example travels inside the binary, so the demo runs from any folder.
	src, name := fs.FS(intentexample.FS), "the example intent repo built into netrecon"
	if example != "" {
		if _, err := os.Stat(filepath.Join(example, "inventory")); err != nil {
			return fmt.Errorf("--example %s is not an intent repo (it has no inventory folder): %w", example, err)
		}
		src, name = os.DirFS(example), example
	}
	tmp, err := os.MkdirTemp("", "netrecon-demo-")
	if err != nil {
		return err
	}
	if keep {
		defer fmt.Fprintf(a.stdout, "\nKept the demo's files in %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	d := &demo{a: a, repo: filepath.Join(tmp, "intent"), state: filepath.Join(tmp, "state"), started: time.Now()}
	if err := os.MkdirAll(d.state, 0o700); err != nil {
		return err
	}
	defer func() {
		if d.sim != nil {
			d.sim.Close()
		}
	}()
	steps := []struct {
		title string
		run   func(context.Context) error
	}{
		{"Start three simulated PE routers and an intent repo", func(ctx context.Context) error { return d.setUp(ctx, src, name) }},
		{"Validate the intent", d.validate},
		{"Plan: what netrecon will change on each router", d.plan},
		{"Apply: lock, edit, confirmed commit, verify, confirm — on all routers or none", d.applyAll},
		{"Someone else holds the lock on pe2-osa: netrecon waits, it never kills their session", d.lockContention},
		{"pe3-sin rejects its commit: the whole change set rolls back on every router", d.rollback},
		{"The rejection is cleared: apply again", d.applyAgain},
		{"Plan once more: the routers match the intent", d.noChanges},
	}
	for i, s := range steps {
		title := fmt.Sprintf("== %d. %s", i+1, s.title)
		if isTerminal(a.stdout) {
			title = "\x1b[1m" + title + "\x1b[0m"
		}
		fmt.Fprintf(a.stdout, "\n%s\n", title)
		if err := s.run(ctx); err != nil {
			return fmt.Errorf("step %d (%s): %w", i+1, s.title, err)
		}
	}
	fmt.Fprintf(a.stdout, "\nDemo finished in %.1f s; every simulated router is stopped and its files removed.\n", time.Since(d.started).Seconds())
	return nil
}

// setUp starts a simulated router per inventory device on a free port and
// writes the demo's intent repo: the example, with an inventory pointing at
// the simulated routers, committed to a new Git repo.
func (d *demo) setUp(ctx context.Context, example fs.FS, name string) error {
	if err := os.CopyFS(d.repo, example); err != nil {
		return fmt.Errorf("copy %s: %w", name, err)
	}
	in, diags, err := loadDir(d.repo, schema.Options{})
	if err != nil {
		return err
	}
	if diags.HasErrors() {
		printDiags(d.a, diags)
		return errors.New("the example intent is not valid")
	}
	password := randomSecret()
	var specs []netsim.DeviceSpec
	for _, dev := range in.Devices {
		specs = append(specs, netsim.DeviceSpec{Name: dev.Name, Platform: dev.Platform})
	}
	d.sim, err = netsim.Start(ctx, netsim.Options{
		Devices: specs, Username: "netrecon", Password: password,
		Keys: func(p string) configtree.Keys { return render.Keys(p, in.Types) },
	})
	if err != nil {
		return err
	}
	// The inventory of the demo's repo points at the simulated routers; the
	// password reaches netrecon the way a real one would, by reference.
	if err := os.RemoveAll(filepath.Join(d.repo, "inventory")); err != nil {
		return err
	}
	var inv strings.Builder
	inv.WriteString("# Written by netrecon demo: the example's PEs, simulated on loopback.\napiVersion: netrecon.io/v1\nkind: Inventory\ndevices:\n")
	for _, sd := range d.sim.Devices() {
		dev := in.Device(sd.Name)
		fmt.Fprintf(&inv, "  - name: %s\n    platform: %s\n    address: %s\n    port: %d\n    site: %s\n    role: %s\n    credentials:\n      username: netrecon\n      passwordEnv: NETRECON_DEMO_PASSWORD\n",
			dev.Name, dev.Platform, sd.Address, sd.Port, dev.Site, dev.Role)
		fmt.Fprintf(d.a.stdout, "  %-8s %-6s NETCONF over SSH on %s:%d\n", sd.Name, sd.Platform, sd.Address, sd.Port)
	}
	if err := writeFile(filepath.Join(d.repo, "inventory", "pes.yaml"), inv.String()); err != nil {
		return err
	}
	os.Setenv("NETRECON_DEMO_PASSWORD", password)
	// The example's BGP session keys are references too: the demo gives each
	// environment variable a key of its own, as an operator's service would.
	for _, dev := range in.Devices {
		for _, ref := range secretref.Refs(in, dev.Name) {
			if name, ok := strings.CutPrefix(ref, "env:"); ok && os.Getenv(name) == "" {
				os.Setenv(name, randomSecret())
			}
		}
	}
	kh := filepath.Join(d.state, "known_hosts")
	if err := os.WriteFile(kh, d.sim.KnownHosts(), 0o600); err != nil {
		return err
	}
	d.df = deviceFlags{stateDir: d.state, knownHosts: kh, concurrency: 10, dialTimeout: 10 * time.Second, rpcTimeout: 10 * time.Second}
	d.lf = loadFlags{maxFileSize: 1 << 20}
	if err := d.git("init", "-q", "-b", "main"); err != nil {
		return err
	}
	if err := d.commit("the example intent"); err != nil {
		return err
	}
	fmt.Fprintf(d.a.stdout, "  intent repo: a copy of %s, committed to a new Git repo\n", name)
	return nil
}

func (d *demo) validate(ctx context.Context) error {
	diags, err := validateDir(ctx, d.repo, schema.Options{})
	if err != nil {
		return err
	}
	return views.Diagnostics(d.a.stdout, "text", diags)
}

// livePlan plans against the simulated routers and prints the plan.
func (d *demo) livePlan(ctx context.Context, show bool) (*plan.Plan, *liveEnv, error) {
	env, err := openLive(ctx, d.a, d.repo, d.lf, &d.df, true, true)
	if err != nil {
		return nil, nil, err
	}
	p, err := planner.Live(ctx, planner.LiveOptions{Intent: env.in, Desired: env.desired, Dialer: env.dialer, Journal: env.journal, Devices: env.devices, Concurrency: d.df.concurrency})
	if err != nil {
		env.Close()
		return nil, nil, err
	}
	p.Head = env.source
	if show {
		if err := showPlan(d.a, "text", p); err != nil {
			env.Close()
			return nil, nil, err
		}
	}
	return p, env, nil
}

func (d *demo) plan(ctx context.Context) error {
	p, env, err := d.livePlan(ctx, false)
	if err != nil {
		return err
	}
	defer env.Close()
	// The first plan creates everything: show one service's part of it (the
	// reviewer's view of one customer), and the whole plan's count.
	short := *p
	short.Devices = nil
	for _, dev := range p.Devices {
		part := *dev
		part.Changes = nil
		for _, c := range dev.Changes {
			if slices.Contains(c.Owners, "acme-singapore") {
				part.Changes = append(part.Changes, c)
			}
		}
		if len(part.Changes) > 0 {
			short.Devices = append(short.Devices, &part)
		}
	}
	if err := showPlan(d.a, "text", &short); err != nil {
		return err
	}
	fmt.Fprintf(d.a.stdout, "  (shown: the nodes of service acme-singapore; the whole plan: %s)\n", strings.TrimSuffix(views.SummaryLine(p), "."))
	return nil
}

func (d *demo) applyPlan(ctx context.Context, showPlan bool) (*apply.Result, error) {
	p, env, err := d.livePlan(ctx, showPlan)
	if err != nil {
		return nil, err
	}
	defer env.Close()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	res, err := apply.Apply(ctx, p, env.desired, env.in, apply.Options{
		Dialer: env.dialer, Journal: env.journal, LockWait: 20 * time.Second, ConfirmTimeout: 60 * time.Second, EndSessions: true,
		Reporter: &demoReporter{w: d.a.stdout, lockWaited: d.lockWaited}, Logger: logger, StartedBy: "demo", IntentCommit: intentRef(p.Head), Summary: applySummary,
	})
	if res == nil {
		return nil, err
	}
	fmt.Fprintf(d.a.stdout, "  => %s (run %d)\n", applySummary(res), res.RunID)
	for _, dr := range res.Devices {
		if dr.Err != nil {
			fmt.Fprintf(d.a.stdout, "     %s\n", deviceErrLine(dr.Name, dr.Err))
		}
	}
	return res, nil
}

func (d *demo) applyAll(ctx context.Context) error {
	res, err := d.applyPlan(ctx, false)
	if err != nil {
		return err
	}
	if res.Outcome != journal.Applied {
		return fmt.Errorf("the first apply ended %s", res.Outcome)
	}
	return nil
}

func (d *demo) lockContention(ctx context.Context) error {
	if err := d.edit("services/globex/globex-tokyo.yaml", "Shinagawa office", "Shinagawa office (moved to floor 12)"); err != nil {
		return err
	}
	if err := d.edit("services/umbrella/umbrella-osaka-plant.yaml", "Osaka plant", "Osaka plant, line 2"); err != nil {
		return err
	}
	if err := d.commit("globex and umbrella: new circuit descriptions"); err != nil {
		return err
	}
	pe2 := d.sim.Device("pe2-osa")
	if err := pe2.HoldLock("candidate"); err != nil {
		return err
	}
	fmt.Fprintln(d.a.stdout, "  an operator's session locks pe2-osa's candidate datastore; it lets go 2 s after netrecon finds it locked")
	// Timed from netrecon's first refused lock, not from now: on a busy
	// machine the plan before the apply can take longer than 2 s.
	var once sync.Once
	var release *time.Timer
	var mu sync.Mutex
	d.lockWaited = func(device string) {
		if device == "pe2-osa" {
			once.Do(func() {
				mu.Lock()
				release = time.AfterFunc(2*time.Second, pe2.ReleaseLock)
				mu.Unlock()
			})
		}
	}
	defer func() {
		d.lockWaited = nil
		mu.Lock()
		if release != nil {
			release.Stop()
		}
		mu.Unlock()
		pe2.ReleaseLock()
	}()
	res, err := d.applyPlan(ctx, true)
	if err != nil {
		return err
	}
	if res.Outcome != journal.Applied {
		return fmt.Errorf("the apply ended %s", res.Outcome)
	}
	return nil
}

func (d *demo) rollback(ctx context.Context) error {
	if err := d.edit("services/hooli/hooli-tokyo.yaml", "Tokyo sales office", "Tokyo sales office (new floor)"); err != nil {
		return err
	}
	if err := d.edit("services/acme/acme-singapore.yaml", "Singapore regional office", "Singapore regional HQ"); err != nil {
		return err
	}
	if err := d.commit("hooli and acme: renamed sites"); err != nil {
		return err
	}
	pe3 := d.sim.Device("pe3-sin")
	pe3.RejectCommit("configuration check-out failed: simulated commit error")
	fmt.Fprintln(d.a.stdout, "  pe3-sin will refuse its next commit")
	before := d.sim.Device("pe1-tyo").Running()
	res, err := d.applyPlan(ctx, true)
	if err != nil {
		return err
	}
	if res.Outcome != journal.RolledBack {
		return fmt.Errorf("the apply ended %s, want rolled-back", res.Outcome)
	}
	if !d.sim.Device("pe1-tyo").Running().Equal(before) {
		return errors.New("pe1-tyo kept part of a rolled-back change set")
	}
	fmt.Fprintln(d.a.stdout, "  pe1-tyo's running configuration is exactly what it was before the apply")
	return nil
}

func (d *demo) applyAgain(ctx context.Context) error {
	d.sim.Device("pe3-sin").ClearRejectCommit()
	res, err := d.applyPlan(ctx, false)
	if err != nil {
		return err
	}
	if res.Outcome != journal.Applied {
		return fmt.Errorf("the apply ended %s", res.Outcome)
	}
	return nil
}

func (d *demo) noChanges(ctx context.Context) error {
	for _, dev := range d.sim.Devices() {
		dev.ResetCounters()
	}
	p, env, err := d.livePlan(ctx, true)
	if err != nil {
		return err
	}
	defer env.Close()
	if p.Summary().HasChanges() {
		return errors.New("the routers still differ from the intent")
	}
	edits := 0
	for _, dev := range d.sim.Devices() {
		edits += dev.RPCCount("edit-config")
	}
	fmt.Fprintf(d.a.stdout, "  (a plan only reads: %d edit-config sent)\n\nThe journal's record of the runs (netrecon history):\n", edits)
	runs, err := env.journal.Runs(ctx, 10)
	if err != nil {
		return err
	}
	return views.History(d.a.stdout, "text", runViews(runs))
}

func (d *demo) edit(file, old, new string) error {
	p := filepath.Join(d.repo, file)
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if !strings.Contains(string(b), old) {
		return fmt.Errorf("%s does not contain %q", file, old)
	}
	fmt.Fprintf(d.a.stdout, "  edit %s: %q → %q\n", file, old, new)
	return os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644)
}

func (d *demo) git(args ...string) error {
	cmd := exec.Command("git", args...)
	cmd.Dir = d.repo
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=netrecon demo", "GIT_AUTHOR_EMAIL=demo@netrecon.invalid",
		"GIT_COMMITTER_NAME=netrecon demo", "GIT_COMMITTER_EMAIL=demo@netrecon.invalid", "GIT_CONFIG_GLOBAL=/dev/null")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

func (d *demo) commit(msg string) error {
	if err := d.git("add", "-A"); err != nil {
		return err
	}
	return d.git("commit", "-q", "-m", msg)
}

// demoReporter prints the apply's progress as plain lines, so the demo reads
// the same on a terminal and in a log.
type demoReporter struct {
	w          io.Writer
	lockWaited func(device string) // nil for none
}

func (r *demoReporter) Event(e apply.Event) {
	if e.Phase == "lock-wait" && r.lockWaited != nil {
		r.lockWaited(e.Device)
	}
	switch e.Phase {
	case "lock-wait", "committed", "confirmed", "cancelled", "failed", "undone", "skipped":
	default:
		return
	}
	line := fmt.Sprintf("  %-8s %-10s %5.2fs", e.Device, e.Phase, e.Elapsed.Seconds())
	if e.Detail != "" {
		line += "  " + e.Detail
	}
	fmt.Fprintln(r.w, line)
}

func writeFile(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content), 0o644)
}

func randomSecret() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
