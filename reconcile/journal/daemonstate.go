package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// DeviceState is what the daemon knows of one device between passes: a row
// of its own, so that replicas sharing a database write only the devices
// they hold.
type DeviceState struct {
	Device string
	// State is the daemon's word for where the device stands (in-sync,
	// applied, drift, deferred, failing, backoff, unknown); opaque here.
	State      string
	Commit     string // the intent commit last applied to or checked against the device
	Failures   int    // consecutive failed attempts; 0 after a success
	LastError  string
	NextRetry  time.Time
	Changed    time.Time // when State last changed
	DriftNodes int
	// A guard's deferral; DeferGuard is "" when there is none.
	DeferGuard  string
	DeferReason string
	DeferUntil  time.Time
}

// SetDeviceStates writes the states of the devices given, one row each, in
// one transaction (one sync for a pass of thousands of devices).
func (j *Journal) SetDeviceStates(ctx context.Context, states []DeviceState) error {
	at := j.now().UnixNano()
	err := j.write(ctx, func(t txn) error {
		st, err := t.prepare(`INSERT INTO device_state (device, state, intent_commit, failures, last_error, next_retry,
				changed_at, drift_nodes, defer_guard, defer_reason, defer_until, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (device) DO UPDATE SET state = excluded.state, intent_commit = excluded.intent_commit,
				failures = excluded.failures, last_error = excluded.last_error, next_retry = excluded.next_retry,
				changed_at = excluded.changed_at, drift_nodes = excluded.drift_nodes, defer_guard = excluded.defer_guard,
				defer_reason = excluded.defer_reason, defer_until = excluded.defer_until, updated_at = excluded.updated_at`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, s := range states {
			if _, err := st.ExecContext(ctx, s.Device, s.State, s.Commit, s.Failures, s.LastError, nanos(s.NextRetry),
				nanos(s.Changed), s.DriftNodes, s.DeferGuard, s.DeferReason, nanos(s.DeferUntil), at); err != nil {
				return fmt.Errorf("%q: %w", s.Device, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("journal: set device states: %w", err)
	}
	return nil
}

// RemoveDeviceStates forgets devices that left the inventory.
func (j *Journal) RemoveDeviceStates(ctx context.Context, devices []string) error {
	err := j.write(ctx, func(t txn) error {
		for _, d := range devices {
			if _, err := t.exec(`DELETE FROM device_state WHERE device = ?`, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("journal: remove device states: %w", err)
	}
	return nil
}

// DeviceStates returns every device's state, by device name.
func (j *Journal) DeviceStates(ctx context.Context) ([]DeviceState, error) {
	var out []DeviceState
	err := j.read(ctx, func(t txn) error {
		rows, err := t.query(`SELECT device, state, intent_commit, failures, last_error, next_retry, changed_at,
			drift_nodes, defer_guard, defer_reason, defer_until FROM device_state ORDER BY device`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s DeviceState
			var next, changed, until sql.NullInt64
			if err := rows.Scan(&s.Device, &s.State, &s.Commit, &s.Failures, &s.LastError, &next, &changed,
				&s.DriftNodes, &s.DeferGuard, &s.DeferReason, &until); err != nil {
				return err
			}
			s.NextRetry, s.Changed, s.DeferUntil = fromNanos(next), fromNanos(changed), fromNanos(until)
			out = append(out, s)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("journal: device states: %w", err)
	}
	return out, nil
}

// Alarm is a condition that needed a human: active while Cleared is zero,
// kept after it clears as the alarm history. One alarm is active per kind and
// device; Device is "" for an alarm about no device.
type Alarm struct {
	Kind     string
	Device   string
	Commit   string
	Message  string
	Failures int
	Since    time.Time // when the condition began
	Raised   time.Time // when it was last news (new, or raised for another commit)
	Cleared  time.Time
}

// RaiseAlarm records a as the active alarm of its kind and device: a new row,
// or the active one updated (its Since kept, and its Raised when a.Raised is
// zero: the same alarm again is no news).
func (j *Journal) RaiseAlarm(ctx context.Context, a Alarm) error {
	err := j.write(ctx, func(t txn) error {
		res, err := t.exec(`UPDATE alarms SET intent_commit = ?, message = ?, failures = ?, raised_at = COALESCE(?, raised_at)
			WHERE kind = ? AND device = ? AND cleared_at IS NULL`,
			a.Commit, a.Message, a.Failures, nanos(a.Raised), a.Kind, a.Device)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		raised := a.Raised
		if raised.IsZero() {
			raised = a.Since // a new row is news whatever the caller says
		}
		_, err = t.exec(`INSERT INTO alarms (kind, device, intent_commit, message, failures, since, raised_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, a.Kind, a.Device, a.Commit, a.Message, a.Failures, a.Since.UnixNano(), raised.UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("journal: raise alarm %s %q: %w", a.Kind, a.Device, err)
	}
	return nil
}

// ClearAlarm ends the active alarm of kind and device, if there is one.
func (j *Journal) ClearAlarm(ctx context.Context, kind, device string) error {
	at := j.now().UnixNano()
	err := j.write(ctx, func(t txn) error {
		_, err := t.exec(`UPDATE alarms SET cleared_at = ? WHERE kind = ? AND device = ? AND cleared_at IS NULL`, at, kind, device)
		return err
	})
	if err != nil {
		return fmt.Errorf("journal: clear alarm %s %q: %w", kind, device, err)
	}
	return nil
}

// Alarms returns the active alarms, or with all every alarm ever raised, by
// kind, device and time.
func (j *Journal) Alarms(ctx context.Context, all bool) ([]Alarm, error) {
	q := `SELECT kind, device, intent_commit, message, failures, since, raised_at, cleared_at FROM alarms`
	if !all {
		q += ` WHERE cleared_at IS NULL`
	}
	var out []Alarm
	err := j.read(ctx, func(t txn) error {
		rows, err := t.query(q + ` ORDER BY kind, device, id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a Alarm
			var since, raised, cleared sql.NullInt64
			if err := rows.Scan(&a.Kind, &a.Device, &a.Commit, &a.Message, &a.Failures, &since, &raised, &cleared); err != nil {
				return err
			}
			a.Since, a.Raised, a.Cleared = fromNanos(since), fromNanos(raised), fromNanos(cleared)
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("journal: alarms: %w", err)
	}
	return out, nil
}

// Pass is one reconcile pass of the daemon and its outcome.
type Pass struct {
	ID       string
	Reason   string
	Started  time.Time
	Finished time.Time // zero while it runs (or when its process died)
	Head     string
	Commit   string
	Error    string
	RunIDs   []RunID // the apply runs of the pass
	Applied  []string
	Healed   []string // drift healed; also in Applied
	Failed   []string
	Drift    []string // drift reported, left in place
}

// KeepPasses is how many passes the journal keeps: SavePass forgets the
// oldest beyond it.
const KeepPasses = 1000

// SavePass writes p (when it starts, and again when it ends).
func (j *Journal) SavePass(ctx context.Context, p Pass) error {
	err := j.write(ctx, func(t txn) error {
		if _, err := t.exec(`INSERT INTO passes (id, reason, started_at, finished_at, head, intent_commit, error)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET finished_at = excluded.finished_at, head = excluded.head,
				intent_commit = excluded.intent_commit, error = excluded.error`,
			p.ID, p.Reason, p.Started.UnixNano(), nanos(p.Finished), p.Head, p.Commit, p.Error); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM pass_devices WHERE pass_id = ?`, `DELETE FROM pass_runs WHERE pass_id = ?`} {
			if _, err := t.exec(q, p.ID); err != nil {
				return err
			}
		}
		for result, devs := range map[string][]string{"applied": p.Applied, "healed": p.Healed, "failed": p.Failed, "drift": p.Drift} {
			for _, d := range devs {
				if _, err := t.exec(`INSERT INTO pass_devices (pass_id, result, device) VALUES (?, ?, ?)`, p.ID, result, d); err != nil {
					return err
				}
			}
		}
		for _, r := range p.RunIDs {
			if _, err := t.exec(`INSERT INTO pass_runs (pass_id, run_id) VALUES (?, ?)`, p.ID, int64(r)); err != nil {
				return err
			}
		}
		_, err := t.exec(`DELETE FROM passes WHERE seq <= (SELECT MAX(seq) FROM passes) - ?`, KeepPasses)
		return err
	})
	if err != nil {
		return fmt.Errorf("journal: save pass %s: %w", p.ID, err)
	}
	return nil
}

// Pass returns the pass with id; ErrNotFound when the journal does not hold it.
func (j *Journal) Pass(ctx context.Context, id string) (*Pass, error) {
	ps, err := j.passes(ctx, `WHERE id = ?`, id)
	if err == nil && len(ps) == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("journal: pass %s: %w", id, err)
	}
	return &ps[0], nil
}

// Passes returns the last limit passes, newest first.
func (j *Journal) Passes(ctx context.Context, limit int) ([]Pass, error) {
	ps, err := j.passes(ctx, `ORDER BY seq DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("journal: passes: %w", err)
	}
	return ps, nil
}

func (j *Journal) passes(ctx context.Context, tail string, args ...any) ([]Pass, error) {
	var out []Pass
	err := j.read(ctx, func(t txn) error {
		rows, err := t.query(`SELECT id, reason, started_at, finished_at, head, intent_commit, error FROM passes `+tail, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p Pass
			var started, finished sql.NullInt64
			if err := rows.Scan(&p.ID, &p.Reason, &started, &finished, &p.Head, &p.Commit, &p.Error); err != nil {
				return err
			}
			p.Started, p.Finished = fromNanos(started), fromNanos(finished)
			out = append(out, p)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range out {
			if err := fillPass(t, &out[i]); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

func fillPass(t txn, p *Pass) error {
	rows, err := t.query(`SELECT result, device FROM pass_devices WHERE pass_id = ? ORDER BY result, device`, p.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	lists := map[string]*[]string{"applied": &p.Applied, "healed": &p.Healed, "failed": &p.Failed, "drift": &p.Drift}
	for rows.Next() {
		var result, device string
		if err := rows.Scan(&result, &device); err != nil {
			return err
		}
		l, ok := lists[result]
		if !ok {
			return errors.New("pass " + p.ID + ": unknown device result " + result)
		}
		*l = append(*l, device)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	runs, err := t.query(`SELECT run_id FROM pass_runs WHERE pass_id = ? ORDER BY run_id`, p.ID)
	if err != nil {
		return err
	}
	defer runs.Close()
	for runs.Next() {
		var id int64
		if err := runs.Scan(&id); err != nil {
			return err
		}
		p.RunIDs = append(p.RunIDs, RunID(id))
	}
	return runs.Err()
}
