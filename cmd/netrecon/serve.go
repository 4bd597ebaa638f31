package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/daemon"
	"github.com/netrecon/netrecon/schema"
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
nothing starts (exit 1). SIGTERM or SIGINT stops it gracefully.`,
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
			d, err := daemon.New(ctx, cfg, daemon.Options{Logger: log, Evaluator: sandboxEvaluator(schema.DefaultBudget()), SNMP: newSNMPReader,
				Dialer: func(in *schema.Intent, c daemon.Credentials) reconcile.Dialer {
					return dialer(in, dialConfig{knownHosts: cfg.KnownHosts, dialTimeout: cfg.DialTimeout.D(), rpcTimeout: cfg.RPCTimeout.D(), settle: cfg.SettleAfterHello.D(), creds: c})
				}})
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			defer d.Close()
			if once {
				p := d.SyncOnce(ctx, daemon.ReasonOnce)
				if p.Error != "" || len(p.Failed) > 0 {
					return &exitError{code: 1, err: fmt.Errorf("pass %s: %s; failed: %v", p.ID, p.Error, p.Failed)}
				}
				return nil
			}
			if err := d.Run(ctx); err != nil {
				return &exitError{code: 1, err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&config, "config", "", "the daemon's config file (see docs/daemon.md)")
	cmd.Flags().BoolVar(&check, "check", false, "only check the config, then exit")
	cmd.Flags().BoolVar(&once, "once", false, "run one pass and exit (status 1 if a device failed)")
	cmd.Flags().StringVar(&level, "log-level", "info", "debug, info, warn or error")
	return cmd
}
