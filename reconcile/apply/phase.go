package apply

import (
	"context"
	"errors"
	"fmt"

	"github.com/netrecon/netrecon/reconcile/journal"
)

// phase is where one device's transaction stands: a journal phase, or one
// of the two states only memory holds. It changes only through engine.to
// (one device), engine.enter (the devices of a change set at a phase
// boundary) and engine.record (devices' outcomes, or their rollback steps),
// which journal it first; the rollback step (rollbackStep)
// and the run's outcome (outcome) are read from it.
type phase journal.Phase

const (
	pending    = phase(journal.Pending)     // nothing sent
	locked     = phase(journal.Locked)      // locking began
	edited     = phase(journal.Edited)      // the candidate holds the edit, or may
	committed  = phase(journal.Committed)   // a commit was sent: it may have landed
	verified   = phase(journal.Verified)    // journaled once every device verified: phase 2
	confirming = phase(journal.Confirmed)   // the confirming commit is on its way
	skipped    = phase(journal.Skipped)     // settled, untouched
	cancelled  = phase(journal.Cancelled)   // settled: cancel-commit sent, or candidate discarded
	undone     = phase(journal.Undone)      // settled: the inverse edit from the pre-image sent
	failed     = phase(journal.PhaseFailed) // this device failed, and was rolled back
	mixed      = phase(journal.PhaseMixed)  // on neither side after the rollback: a human must look
	// Memory only: nothing recovery could act on.
	done    phase = "done"            // confirmed (or committed for good): on the new configuration
	unknown phase = "rollback-failed" // the rollback itself failed: state unknown
)

// to moves t to p. A phase the journal holds is written before the device
// enters it (write-ahead: after a crash the last phase says where the device
// was left), and t stays where it was when that write fails — except that a
// mixed device is mixed whatever the journal says: a human must look.
func (e *engine) to(ctx context.Context, t *txn, p phase, detail string) error {
	var err error
	if jp := journal.Phase(p); p != done && p != unknown {
		if err = e.opts.Journal.EnterPhase(ctx, e.id, t.name, jp, t.persist, detail); err != nil {
			err = fmt.Errorf("%s: %w", t.name, err) // the journal's error says "enter <phase>"
			if p != mixed {
				return err
			}
		}
	}
	t.phase = p
	e.event(t, string(p), detail)
	return err
}

// enter moves every device of txs to s's phase, journaled for all of them
// in one transaction before any takes it (write-ahead); the committed phase
// carries each device's pre-image and pending record, which recovery needs
// before the commit is sent. When the write fails no device moves, and each
// gets the error.
func (e *engine) enter(ctx context.Context, txs []*txn, s step) error {
	jp := journal.Phase(s.phase)
	if s.phase == committed {
		// Recovery of a commit needs the run's plan.
		if err := e.planWritten(); err != nil {
			for _, t := range txs {
				if t.err == nil {
					t.err = fmt.Errorf("%s: journal: the run's plan: %w", t.name, err)
				}
			}
			return err
		}
	}
	steps := make([]journal.Step, len(txs))
	for i, t := range txs {
		steps[i] = journal.Step{Device: t.name, Phase: jp, PersistID: t.persist, Detail: s.detailOf(t)}
		if s.phase == committed {
			// The persist id is journaled from the commit on, never with a
			// phase that sent none (recovery would cancel what never was).
			if t.confirmed {
				steps[i].PersistID = e.persist
			}
			steps[i].Pending = &journal.PendingCommit{Record: t.next, Before: t.before}
		}
	}
	e.batchEvent(string(jp), len(txs))
	if err := e.opts.Journal.EnterPhases(ctx, e.id, steps); err != nil {
		for _, t := range txs {
			if t.err == nil {
				t.err = fmt.Errorf("%s: journal: enter %s: %w", t.name, jp, err)
			}
		}
		return err
	}
	for i, t := range txs {
		t.phase, t.persist = s.phase, steps[i].PersistID
		if s.act == nil {
			e.event(t, string(s.phase), s.detailOf(t)) // a marker: taken as journaled
		}
	}
	return nil
}

// mark is a device's next phase, with its journal detail.
type mark struct {
	t      *txn
	p      phase
	detail string
}

// record moves the devices of marks to their phases, journaled in one
// transaction (the batch named batch) before any takes it; a device may be
// marked twice (failed, then mixed), in order. When the write fails no
// device moves — except that a mixed device is mixed whatever the journal
// says: a human must look — and the error is returned.
func (e *engine) record(ctx context.Context, batch string, marks []mark) error {
	if len(marks) == 0 {
		return nil
	}
	steps := make([]journal.Step, len(marks))
	for i, m := range marks {
		steps[i] = journal.Step{Device: m.t.name, Phase: journal.Phase(m.p), PersistID: m.t.persist, Detail: m.detail}
	}
	e.batchEvent(batch, len(marks))
	err := e.opts.Journal.EnterPhases(ctx, e.id, steps)
	for _, m := range marks {
		if err == nil || m.p == mixed {
			m.t.phase = m.p
			e.event(m.t, string(m.p), m.detail)
		}
	}
	if err != nil {
		return fmt.Errorf("journal: %s: %w", batch, err)
	}
	return nil
}

// rollbackStep is what brings t back, told from how far it went: a commit
// sent is cancelled (confirmed commit) or undone (plain); a locked
// candidate is discarded; an untouched device is skipped.
func (t *txn) rollbackStep() string {
	switch t.phase {
	case committed, verified:
		if t.confirmed {
			return "cancel-commit"
		}
		return "undo"
	case locked, edited:
		return "discard"
	}
	return "skip"
}

// outcome decides the run's outcome from its devices' phases.
// A stop that left every device back (or untouched) is rolled back, device
// by device too: the devices did not fail.
func outcome(txs []*txn, noAtomic, stopped bool) journal.Outcome {
	nDone, nBack, nOpen, nMixed := 0, 0, 0, 0
	// A run that only a guard held back is deferred, not rolled back: it
	// failed nothing, and history must not show it as a failure.
	deferred, onlyDeferred := false, true
	for _, t := range txs {
		var de *DeferredError
		var rb *RolledBackError
		switch {
		case errors.As(t.err, &de):
			deferred = true
		case t.err != nil && !errors.As(t.err, &rb):
			onlyDeferred = false
		}
		switch t.phase {
		case done:
			nDone++
		case mixed:
			nMixed++
		case cancelled, undone, skipped, failed:
			nBack++
		default:
			nOpen++
		}
	}
	switch {
	case nMixed > 0:
		return journal.Mixed // before anything else: a human must look
	case deferred && onlyDeferred && nDone == 0 && nOpen == 0:
		return journal.Deferred
	case nDone == len(txs):
		return journal.Applied
	case nOpen > 0:
		return journal.Failed // a rollback or a confirm failed: look at the devices
	case noAtomic && nDone > 0:
		return journal.Partial
	case noAtomic && !stopped:
		return journal.Failed
	case nDone > 0:
		return journal.Failed // confirmed on some devices, not others
	}
	return journal.RolledBack
}

// settled reports whether nothing is left to do on the device for this run:
// it is on its new configuration, back on its old one, known mixed, or was
// never touched. Any other phase is one Recover has to finish.
func (p phase) settled() bool {
	switch p {
	case done, cancelled, undone, skipped, failed, mixed:
		return true
	}
	return false
}
