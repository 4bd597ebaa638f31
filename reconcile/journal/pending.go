package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/netrecon/netrecon/reconcile/ownership"
)

// SetPendingOwnership records, for a device of a run, the ownership record
// that holds once the device's commit lands. The apply engine writes it
// before the commit (write-ahead), and recovery reads it when it rolls the
// run forward: only the pre-image read under lock tells what the run created.
func (j *Journal) SetPendingOwnership(ctx context.Context, id RunID, device string, r ownership.Record) error {
	doc, err := encodeRecord(r)
	if err != nil {
		return fmt.Errorf("journal: pending ownership %q: %w", device, err)
	}
	err = j.write(ctx, func(t txn) error {
		if err := checkRunning(t, id); err != nil {
			return err
		}
		_, err := t.exec(`INSERT INTO pending_ownership (run_id, device, record) VALUES (?, ?, ?)
			ON CONFLICT (run_id, device) DO UPDATE SET record = excluded.record`, int64(id), device, string(doc))
		return err
	})
	if err != nil {
		return fmt.Errorf("journal: pending ownership %q: %w", device, err)
	}
	return nil
}

// PendingOwnership returns the record SetPendingOwnership wrote for a device
// of a run; ok is false when there is none.
func (j *Journal) PendingOwnership(ctx context.Context, id RunID, device string) (r ownership.Record, ok bool, err error) {
	var doc string
	err = j.db.QueryRowContext(ctx, j.d.rebind(`SELECT record FROM pending_ownership WHERE run_id = ? AND device = ?`), int64(id), device).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return ownership.Record{}, false, nil
	}
	if err != nil {
		return ownership.Record{}, false, fmt.Errorf("journal: pending ownership %q: %w", device, err)
	}
	if r, err = decodeRecord([]byte(doc)); err != nil {
		return ownership.Record{}, false, fmt.Errorf("journal: pending ownership %q: %w", device, err)
	}
	return r, true, nil
}
