package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/ownership"
)

// SetPending records, for a device of a run, what its commit about to be
// sent leaves behind: the ownership record that holds once it lands, and the
// pre-image (running, filtered to the managed subtrees, read under lock
// before the edit), in one transaction. The apply engine writes it before the
// commit (write-ahead). Recovery that rolls the run forward records r: only
// the pre-image read under lock tells what the run created. Recovery that
// rolls it back undoes a plain commit from the pre-image and checks a
// cancelled or confirmed one against it. The pre-image is stored in this
// package's tree form (see Applied trees).
func (j *Journal) SetPending(ctx context.Context, id RunID, device string, r ownership.Record, before *configtree.Tree) error {
	err := j.write(ctx, func(t txn) error {
		if err := checkRunning(t, id); err != nil {
			return err
		}
		if err := t.fenceDevices(device); err != nil {
			return err
		}
		b := newBatch(t)
		defer b.close()
		return b.pending(id, device, PendingCommit{Record: r, Before: before})
	})
	if err != nil {
		return fmt.Errorf("journal: pending %q: %w", device, err)
	}
	return nil
}

// PendingOwnership returns the record SetPending wrote for a device
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

// PreImage returns the pre-image SetPending wrote for a device of a run; ok is
// false when there is none.
func (j *Journal) PreImage(ctx context.Context, id RunID, device string) (before *configtree.Tree, ok bool, err error) {
	var doc string
	err = j.db.QueryRowContext(ctx, j.d.rebind(`SELECT tree FROM pre_images WHERE run_id = ? AND device = ?`), int64(id), device).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("journal: pre-image %q: %w", device, err)
	}
	var n *jsonNode
	if err := json.Unmarshal([]byte(doc), &n); err != nil {
		return nil, false, fmt.Errorf("journal: pre-image %q: %w", device, err)
	}
	if root := fromJSON(n, "", nil); root != nil {
		return &configtree.Tree{Root: root}, true, nil
	}
	return configtree.New(), true, nil
}
