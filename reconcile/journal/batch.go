package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/ownership"
)

// Step is one device's phase in a batch (EnterPhases).
type Step struct {
	Device    string
	Phase     Phase
	PersistID string // "" keeps the device's persist id
	// Detail says why, or what happened; for PhaseFailed it is also the
	// device's Error.
	Detail string
	// Pending, when set, is written with the phase, as SetPending writes it:
	// the committed phase carries the pre-image and the pending record of
	// the commit it announces.
	Pending *PendingCommit
}

// PendingCommit is what a device's commit leaves behind (SetPending): the
// ownership record that holds once it lands, and the pre-image.
type PendingCommit struct {
	Record ownership.Record
	Before *configtree.Tree
}

// EnterPhases records, in one transaction, that each device of steps enters
// its step's phase in run id, with the step's pending record and pre-image
// when it has them: the write-ahead record of one phase boundary of a whole
// change set, one durable write where EnterPhase makes one per device. Call
// it before any of the devices acts.
//
// The steps are written in order, so a device may take two phases in one
// batch (failed, then mixed), as two EnterPhase calls would record them. It
// is all or nothing: an unknown phase, a device the run does not hold
// (ErrNotFound) or a finished run (ErrFinished) fails the batch and records
// nothing. The rows are per device, as EnterPhase writes them: Run,
// Unfinished and recovery read a batch and single writes alike.
func (j *Journal) EnterPhases(ctx context.Context, id RunID, steps []Step) error {
	if len(steps) == 0 {
		return nil
	}
	for _, s := range steps {
		if !s.Phase.Valid() {
			return fmt.Errorf("journal: run %d device %q: unknown phase %q", id, s.Device, s.Phase)
		}
	}
	at := j.now().UnixNano()
	err := j.write(ctx, func(t txn) error {
		if err := checkRunning(t, id); err != nil {
			return err
		}
		if t.fence != nil {
			devices := make([]string, len(steps))
			for i, s := range steps {
				devices[i] = s.Device
			}
			if err := t.fenceDevices(devices...); err != nil {
				return err
			}
		}
		b := newBatch(t)
		defer b.close()
		for _, s := range steps {
			if err := b.enter(id, s, at); err != nil {
				if len(steps) == 1 {
					return err // named below
				}
				return fmt.Errorf("device %q: enter %s: %w", s.Device, s.Phase, err)
			}
		}
		return nil
	})
	if err != nil {
		if len(steps) == 1 {
			return fmt.Errorf("journal: run %d device %q: enter %s: %w", id, steps[0].Device, steps[0].Phase, err)
		}
		return fmt.Errorf("journal: run %d: batch of %d devices: %w", id, len(steps), err)
	}
	for _, s := range steps {
		j.log.DebugContext(ctx, "phase entered", "run", id, "device", s.Device, "phase", s.Phase, "detail", s.Detail)
	}
	return nil
}

// The statements of a phase write, prepared once for a whole batch.
const (
	// NULLIF and COALESCE keep the old persist id for "": standard SQL.
	qPhase = `UPDATE device_runs SET phase = ?, persist_id = COALESCE(NULLIF(?, ''), persist_id)
		WHERE run_id = ? AND device = ?`
	qFailed = `UPDATE device_runs SET phase = ?, persist_id = COALESCE(NULLIF(?, ''), persist_id), error = ?
		WHERE run_id = ? AND device = ?`
	qTransition    = `INSERT INTO transitions (run_id, device, phase, at, detail, writer) VALUES (?, ?, ?, ?, ?, ?)`
	qPendingRecord = `INSERT INTO pending_ownership (run_id, device, record) VALUES (?, ?, ?)
		ON CONFLICT (run_id, device) DO UPDATE SET record = excluded.record`
	qPendingPreImage = `INSERT INTO pre_images (run_id, device, tree) VALUES (?, ?, ?)
		ON CONFLICT (run_id, device) DO UPDATE SET tree = excluded.tree`
)

// batch runs the statements of one write transaction, each prepared once
// however many devices it is executed for.
type batch struct {
	t     txn
	stmts map[string]stmt
}

func newBatch(t txn) *batch { return &batch{t: t, stmts: map[string]stmt{}} }

func (b *batch) exec(query string, args ...any) (sql.Result, error) {
	s, ok := b.stmts[query]
	if !ok {
		var err error
		if s, err = b.t.prepare(query); err != nil {
			return nil, err
		}
		b.stmts[query] = s
	}
	return s.ExecContext(b.t.ctx, args...)
}

func (b *batch) close() {
	for _, s := range b.stmts {
		_ = s.Close() // closed with the transaction anyway
	}
}

// enter writes one step at time at.
func (b *batch) enter(id RunID, s Step, at int64) error {
	var (
		res sql.Result
		err error
	)
	if s.Phase == PhaseFailed {
		res, err = b.exec(qFailed, string(s.Phase), s.PersistID, s.Detail, id, s.Device)
	} else {
		res, err = b.exec(qPhase, string(s.Phase), s.PersistID, id, s.Device)
	}
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("no such device in the run: %w", ErrNotFound)
	}
	if s.Pending != nil {
		if err := b.pending(id, s.Device, *s.Pending); err != nil {
			return err
		}
	}
	_, err = b.exec(qTransition, id, s.Device, string(s.Phase), at, s.Detail, b.t.writer())
	return err
}

// pending writes a device's pending record and pre-image. Each is encoded
// here, one device at a time, so that a batch never holds every device's
// encoding at once.
func (b *batch) pending(id RunID, device string, p PendingCommit) error {
	rec, err := encodeRecord(p.Record)
	if err != nil {
		return fmt.Errorf("pending record: %w", err)
	}
	img, err := json.Marshal(toJSON(p.Before.Root, "", nil))
	if err != nil {
		return fmt.Errorf("pre-image: %w", err)
	}
	if _, err := b.exec(qPendingRecord, int64(id), device, string(rec)); err != nil {
		return err
	}
	_, err = b.exec(qPendingPreImage, int64(id), device, string(img))
	return err
}
