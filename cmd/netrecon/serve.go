package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/daemon"
	"github.com/netrecon/netrecon/schema"
	"github.com/netrecon/netrecon/views/page"
)

func newServeCmd(a *app) *cobra.Command {
	var (
		config string
		check  bool
		once   bool
		level  string
	)
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Run the reconcile daemon: keep the devices equal to the intent repo",
		Long: `Serve follows a branch of the intent repo and keeps every device of its
inventory equal to it: it fetches on a timer and on webhooks, plans against the
devices' running configuration, applies changes under lock with confirmed
commit, heals or reports drift, and raises alarms for devices that keep failing.
It serves /healthz, /readyz, /metrics, /api/v1/status, /api/v1/runs and
/hooks/github on the config's listen address. The config is documented in
docs/daemon.md; an invalid config is reported in full (file:line:col) and
nothing starts (exit 1). SIGTERM or SIGINT stops it gracefully.

--once runs one pass and exits with its outcome: 0 every device is in sync
(changed or not), 1 the pass or a device failed, 3 a guard deferred a device and
nothing failed, 4 drift was reported and left in place (drift policy report).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if config == "" {
				return &exitError{code: 2, err: errors.New("--config FILE is required")}
			}
			var lv slog.Level
			if err := lv.UnmarshalText([]byte(level)); err != nil {
				return &exitError{code: 2, err: fmt.Errorf("--log-level %q: want debug, info, warn or error", level)}
			}
			cfg, err := daemon.LoadConfig(config)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			if check {
				fmt.Fprintf(a.stdout, "%s is valid.\n", config)
				return nil
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := slog.New(slog.NewJSONHandler(a.stderr, &slog.HandlerOptions{Level: lv}))
			pages, err := page.Parse()
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			d, err := daemon.New(ctx, cfg, daemon.Options{Logger: log, Pages: func(d *daemon.Daemon) daemon.PageHandler { return pages.Serve(d) }, Evaluator: sandboxEvaluator(schema.DefaultBudget()), SNMP: newSNMPReader, SNMPTables: newSNMPTables, ApplySummary: applySummary, ApplyReporter: crashAt,
				Dialer: func(in *schema.Intent, c daemon.Credentials) reconcile.Dialer {
					return dialer(in, dialConfig{knownHosts: cfg.KnownHosts, dialTimeout: cfg.DialTimeout.D(), rpcTimeout: cfg.RPCTimeout.D(), settle: cfg.SettleAfterHello.D(), creds: c})
				},
				Follower: irrFollower(log)})
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			defer d.Close()
			if once {
				return onceExit(d.SyncOnce(ctx, daemon.ReasonOnce))
			}
			if err := d.Run(ctx); err != nil {
				return &exitError{code: 1, err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&config, "config", "", "the daemon's config file (see docs/daemon.md)")
	cmd.Flags().BoolVar(&check, "check", false, "only check the config, then exit")
	cmd.Flags().BoolVar(&once, "once", false, "run one pass and exit: 0 in sync, 1 failed, 3 deferred, 4 drift reported")
	cmd.Flags().StringVar(&level, "log-level", "info", "debug, info, warn or error")
	return cmd
}

// Exit codes of serve --once besides 0 and 1 (docs/daemon.md).
const (
	exitDeferred = 3 // a guard held a device back; nothing failed
	exitDrift    = 4 // drift reported and left in place
)

// onceExit is the exit of serve --once after pass p, with a line that says
// why when it is not 0.
func onceExit(p *daemon.PassStatus) error {
	switch p.Outcome() {
	case daemon.PassError:
		return &exitError{code: 1, err: fmt.Errorf("pass %s: %s", p.ID, p.Error)}
	case daemon.PassFailed:
		return &exitError{code: 1, err: fmt.Errorf("pass %s: failed: %s", p.ID, strings.Join(p.Failed, ", "))}
	case daemon.PassDeferred:
		return &exitError{code: exitDeferred, err: fmt.Errorf("pass %s: deferred by a guard: %s (nothing failed; the next pass retries)", p.ID, strings.Join(p.Deferred, ", "))}
	case daemon.PassDrift:
		return &exitError{code: exitDrift, err: fmt.Errorf("pass %s: drift reported and left in place on %s (netrecon heal, or change the intent)", p.ID, strings.Join(p.Drift, ", "))}
	}
	return nil
}
