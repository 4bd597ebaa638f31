package apply

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/planfile"
	"github.com/netrecon/netrecon/schema"
)

// Actions Recover reports.
const (
	RecoveryConfirmed = "confirmed" // rolled forward: confirming commit sent
	RecoveryCancelled = "cancelled" // cancel-commit sent
	// The device had no pending commit under the persist id when told to
	// confirm: it was confirmed before the crash (or, if netrecon was down
	// longer than the confirm-timeout, rolled back: the next plan shows it).
	RecoveryAlreadyConfirmed = "already confirmed"
	// The device had no pending commit when told to cancel: the
	// confirm-timeout (or the commit never landing) already rolled it back.
	RecoveryAlreadyRolledBack = "already rolled back"
	RecoveryNothing           = "nothing to do"        // nothing had been committed
	RecoveryManual            = "needs a manual check" // a plain commit without pre-image
)

// RecoveryAction is what Recover did to one device of an unfinished run.
type RecoveryAction struct {
	Run    journal.RunID
	Device string
	Action string
	Err    error
}

// Recover settles the runs a crash left unfinished in the journal, device by
// device from its last phase and persist id:
//
//   - pending, locked, edited: nothing was committed; the lock and the
//     candidate died with the session. Recorded cancelled.
//   - committed, verified: a confirmed commit is pending. It is confirmed
//     (roll forward) when the run had entered phase 2 — atomic: every device
//     reached verified, or one reached confirmed; non-atomic: this device
//     reached verified — and cancelled otherwise. A device that answers that
//     there is no such commit has rolled back by itself (confirm-timeout).
//   - confirmed: the phase is journaled before the confirming commit is sent,
//     so the commit is sent again; "no such commit" means it had landed.
//   - cancelled (with a persist id): cancel-commit is sent again, likewise.
//   - undone, failed, skipped: settled.
//
// Each decision is journaled before it is acted on, so a crash during
// recovery is recovered the same way. Every run ends as Recovered. The error
// is for the journal; device failures are in the actions' Err.
func Recover(ctx context.Context, j *journal.Journal, dialer reconcile.Dialer, inv *schema.Intent, logger *slog.Logger) ([]RecoveryAction, error) {
	if j == nil || dialer == nil || inv == nil {
		return nil, errors.New("recover: journal, dialer and intent are required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	runs, err := j.Unfinished(ctx)
	if err != nil {
		return nil, fmt.Errorf("recover: %w", err)
	}
	var all []RecoveryAction
	for _, run := range runs {
		acts, err := recoverRun(ctx, j, dialer, inv, logger.With("run", run.ID), run)
		all = append(all, acts...)
		if err != nil {
			return all, err
		}
	}
	return all, nil
}

func recoverRun(ctx context.Context, j *journal.Journal, dialer reconcile.Dialer, inv *schema.Intent, log *slog.Logger, run journal.Run) ([]RecoveryAction, error) {
	forward := map[string]bool{}
	allVerified, anyConfirmed := true, false
	for _, d := range run.Devices {
		switch d.Phase {
		case journal.Confirmed:
			anyConfirmed = true
		case journal.Verified:
		default:
			allVerified = false
		}
	}
	for _, d := range run.Devices {
		if run.Atomic {
			forward[d.Device] = allVerified || anyConfirmed
		} else {
			forward[d.Device] = d.Phase == journal.Verified || d.Phase == journal.Confirmed
		}
	}
	var desired map[string]*configtree.Tree
	if len(run.Plan) > 0 {
		if _, dt, err := planfile.Read(bytes.NewReader(run.Plan)); err == nil {
			desired = dt
		} else {
			log.Warn("recover: the run's plan does not decode; applied trees are not recorded", "err", err)
		}
	}
	acts := make([]RecoveryAction, len(run.Devices))
	var mu sync.Mutex // the journal is safe; the logger too; acts by index
	forEach(ctx, len(run.Devices), DefaultConcurrency, nil, func(ctx context.Context, i int) {
		d := run.Devices[i]
		a := recoverDevice(ctx, j, dialer, inv, run, d, forward[d.Device], desired[d.Device])
		a.Run, a.Device = run.ID, d.Device
		mu.Lock()
		acts[i] = a
		mu.Unlock()
		log.Info("recovered", "device", d.Device, "phase", d.Phase, "action", a.Action, "err", a.Err)
	}, func(i int, err error) {
		acts[i] = RecoveryAction{Run: run.ID, Device: run.Devices[i].Device, Err: err}
	})
	var done []string
	for _, a := range acts {
		s := a.Device + ": " + a.Action
		if a.Err != nil {
			s += " (" + a.Err.Error() + ")"
		}
		done = append(done, s)
	}
	if err := j.FinishRun(ctx, run.ID, journal.Recovered, "recovered after a crash: "+strings.Join(done, "; ")); err != nil {
		return acts, fmt.Errorf("recover: run %v: %w", run.ID, err)
	}
	return acts, nil
}

func recoverDevice(ctx context.Context, j *journal.Journal, dialer reconcile.Dialer, inv *schema.Intent, run journal.Run, d journal.DeviceRun, forward bool, desired *configtree.Tree) RecoveryAction {
	enter := func(p journal.Phase, detail string) error {
		return j.EnterPhase(ctx, run.ID, d.Device, p, d.PersistID, "recovery: "+detail)
	}
	switch d.Phase {
	case journal.Pending, journal.Locked, journal.Edited:
		if err := enter(journal.Cancelled, "nothing was committed"); err != nil {
			return RecoveryAction{Action: RecoveryNothing, Err: err}
		}
		return RecoveryAction{Action: RecoveryNothing}
	case journal.Undone, journal.PhaseFailed, journal.Skipped:
		return RecoveryAction{Action: RecoveryNothing}
	case journal.Cancelled:
		if d.PersistID == "" {
			return RecoveryAction{Action: RecoveryNothing}
		}
		forward = false
	case journal.Confirmed:
		forward = true
	case journal.Committed, journal.Verified:
	default:
		return RecoveryAction{Action: RecoveryManual, Err: fmt.Errorf("%s: unknown phase %q", d.Device, d.Phase)}
	}
	if d.PersistID == "" {
		// A device without :confirmed-commit:1.1 committed plainly, and its
		// pre-image died with the process.
		if forward {
			return RecoveryAction{Action: RecoveryConfirmed}
		}
		return RecoveryAction{Action: RecoveryManual, Err: fmt.Errorf("%s: committed without confirmed commit and the run did not finish: compare running with the plan", d.Device)}
	}
	dev := inv.Device(d.Device)
	if dev == nil {
		return RecoveryAction{Action: RecoveryManual, Err: fmt.Errorf("%s: not in the inventory any more; persist id %s", d.Device, d.PersistID)}
	}
	action, phase := RecoveryCancelled, journal.Cancelled
	if forward {
		action, phase = RecoveryConfirmed, journal.Confirmed
	}
	if d.Phase != phase {
		if err := enter(phase, action); err != nil {
			return RecoveryAction{Action: action, Err: err}
		}
	}
	s, err := dialer.Dial(ctx, dev)
	if err != nil {
		return RecoveryAction{Action: action, Err: fmt.Errorf("%s: dial: %w", d.Device, err)}
	}
	defer closeQuietly(context.WithoutCancel(ctx), s)
	if forward {
		err = s.Commit(ctx, netconf.CommitOptions{PersistID: d.PersistID})
	} else {
		err = s.CancelCommit(ctx, d.PersistID)
	}
	var rpcErr *netconf.RPCError
	switch {
	case errors.As(err, &rpcErr):
		// No confirmed commit under that persist id (see the constants).
		action = RecoveryAlreadyRolledBack
		if forward {
			action = RecoveryAlreadyConfirmed
		}
	case err != nil:
		return RecoveryAction{Action: action, Err: fmt.Errorf("%s: %s: %w", d.Device, action, err)}
	}
	if forward && desired != nil {
		if err := j.SetApplied(ctx, d.Device, desired, run.IntentCommit); err != nil {
			return RecoveryAction{Action: action, Err: err}
		}
	}
	return RecoveryAction{Action: action}
}
