package main

import (
	"log/slog"

	"github.com/netrecon/netrecon/backoff"
	"github.com/netrecon/netrecon/irr"
	"github.com/netrecon/netrecon/reconcile/daemon"
	"github.com/netrecon/netrecon/reconcile/journal"
)

// irrFollower wires IRR registration into the daemon when serve.yaml names a
// mail relay (irr.smtp_relay); without one the daemon registers nothing.
func irrFollower(log *slog.Logger) func(*journal.Journal, daemon.FollowerAlarms, daemon.IRRConfig) daemon.Follower {
	return func(j *journal.Journal, alarms daemon.FollowerAlarms, cfg daemon.IRRConfig) daemon.Follower {
		if cfg.SMTPRelay == "" {
			return nil
		}
		return &irr.Registrar{
			Journal:      j,
			Alarms:       alarms,
			Mailer:       irr.SMTPRelay{Addr: cfg.SMTPRelay},
			ReplyMaildir: cfg.ReplyMaildir,
			Backoff:      backoff.Policy{Base: cfg.Retry.Base.D(), Max: cfg.Retry.Max.D()},
			VerifyWithin: cfg.VerifyWithin.D(),
			Log:          log.With("component", "irr"),
		}
	}
}
