package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Order is an order of the order API as the journal keeps it: what was
// asked (Digest, Body), where it went (Branch, PRURL, Commit) and how far it
// got (State). The orders package owns the meaning of State.
type Order struct {
	ID     string
	Digest string // of the order's canonical body
	Body   string // the order as received, canonical JSON
	State  string
	Path   string // the service file it adds, repo-relative
	Branch string
	PRURL  string // "" for a plain Git remote
	Commit string // the branch's commit
	// MergeCommit is the first head of the applied branch seen holding the
	// order's file (the merge, whether merged, squashed or rebased).
	MergeCommit string
	Detail      string // why it failed, or what it waits for
	Created     time.Time
	Updated     time.Time
	Merged      time.Time
	Applied     time.Time
}

const orderCols = `id, digest, body, state, path, branch, pr_url, commit_id, merge_commit, detail, created_at, updated_at, merged_at, applied_at`

// AddOrder records o unless an order with its id is there already; either
// way it returns the order the journal holds, and whether it was o. Two
// requests with one id at once make one row.
func (j *Journal) AddOrder(ctx context.Context, o Order) (_ Order, added bool, err error) {
	now := j.now()
	if o.Created.IsZero() {
		o.Created = now
	}
	o.Updated = o.Created
	var got Order
	err = j.write(ctx, func(t txn) error {
		res, err := t.exec(`INSERT INTO orders (`+orderCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			o.ID, o.Digest, o.Body, o.State, o.Path, o.Branch, o.PRURL, o.Commit, o.MergeCommit, o.Detail,
			o.Created.UnixNano(), o.Updated.UnixNano(), nanos(o.Merged), nanos(o.Applied))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		added = n == 1
		got, err = scanOrder(t.queryRow(`SELECT `+orderCols+` FROM orders WHERE id = ?`, o.ID))
		return err
	})
	if err != nil {
		return Order{}, false, fmt.Errorf("journal: add order %s: %w", o.ID, err)
	}
	return got, added, nil
}

// UpdateOrder writes o's state, branch, pull request, commits, detail and
// times; Updated becomes now.
func (j *Journal) UpdateOrder(ctx context.Context, o Order) error {
	err := j.write(ctx, func(t txn) error {
		res, err := t.exec(`UPDATE orders SET state = ?, branch = ?, pr_url = ?, commit_id = ?, merge_commit = ?, detail = ?, updated_at = ?, merged_at = ?, applied_at = ? WHERE id = ?`,
			o.State, o.Branch, o.PRURL, o.Commit, o.MergeCommit, o.Detail, j.now().UnixNano(), nanos(o.Merged), nanos(o.Applied), o.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("journal: update order %s: %w", o.ID, err)
	}
	return nil
}

// Order returns the order id, or ErrNotFound.
func (j *Journal) Order(ctx context.Context, id string) (Order, error) {
	var o Order
	err := j.read(ctx, func(t txn) error {
		var err error
		o, err = scanOrder(t.queryRow(`SELECT `+orderCols+` FROM orders WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		return err
	})
	if err != nil {
		return Order{}, fmt.Errorf("journal: order %s: %w", id, err)
	}
	return o, nil
}

// OrdersIn returns the orders in any of states, oldest first.
func (j *Journal) OrdersIn(ctx context.Context, states ...string) ([]Order, error) {
	if len(states) == 0 {
		return nil, nil
	}
	args := make([]any, len(states))
	for i, s := range states {
		args[i] = s
	}
	q := `SELECT ` + orderCols + ` FROM orders WHERE state IN (?` + strings.Repeat(", ?", len(states)-1) + `) ORDER BY created_at, id`
	var out []Order
	err := j.read(ctx, func(t txn) error {
		rows, err := t.query(q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			o, err := scanOrder(rows)
			if err != nil {
				return err
			}
			out = append(out, o)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("journal: orders: %w", err)
	}
	return out, nil
}

func scanOrder(r interface{ Scan(...any) error }) (Order, error) {
	var o Order
	var created, updated, merged, applied sql.NullInt64
	err := r.Scan(&o.ID, &o.Digest, &o.Body, &o.State, &o.Path, &o.Branch, &o.PRURL, &o.Commit, &o.MergeCommit, &o.Detail, &created, &updated, &merged, &applied)
	o.Created, o.Updated, o.Merged, o.Applied = fromNanos(created), fromNanos(updated), fromNanos(merged), fromNanos(applied)
	return o, err
}
