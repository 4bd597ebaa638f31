package journal

import (
	"context"
	"database/sql"
	"encoding/json"
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
	// Nodes are the nodes the device's last plan found different from the
	// intent (drift, or changes pending), at most MaxNodes; SetDeviceStates
	// replaces the device's list with them.
	Nodes []Node
}

// MaxNodes bounds the nodes kept per device: a device whose first apply is
// deferred may have thousands of changes pending, and the count (DriftNodes)
// says how many there are.
const MaxNodes = 500

// NodeKind says why a node differs from the intent.
type NodeKind string

const (
	// NodeDrift is a managed node changed on the device by hand.
	NodeDrift NodeKind = "drift"
	// NodePending is a change the intent asks for that is not applied yet
	// (deferred, failing).
	NodePending NodeKind = "pending"
)

// Node is one node that differs: what the device holds (Live) and what the
// intent wants (Desired), "" where the node is absent; values of secret
// leaves are redacted by the daemon before they get here.
type Node struct {
	Kind    NodeKind
	Action  string // create, update, delete: what applying the intent does
	Path    string
	Owners  []string // the services that render the node
	Live    string
	Desired string
	Leaf    bool
}

// SetDeviceStates writes the states of the devices given, one row each, in
// one transaction (one sync for a pass of thousands of devices).
func (j *Journal) SetDeviceStates(ctx context.Context, states []DeviceState) error {
	at := j.now().UnixNano()
	err := j.write(ctx, func(t txn) error {
		if t.fence != nil {
			devices := make([]string, len(states))
			for i, s := range states {
				devices[i] = s.Device
			}
			if err := t.fenceDevices(devices...); err != nil {
				return err
			}
		}
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
		del, err := t.prepare(`DELETE FROM device_nodes WHERE device = ?`)
		if err != nil {
			return err
		}
		defer del.Close()
		ins, err := t.prepare(`INSERT INTO device_nodes (device, seq, kind, action, path, owners, live, desired, leaf)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for _, s := range states {
			if _, err := st.ExecContext(ctx, s.Device, s.State, s.Commit, s.Failures, s.LastError, nanos(s.NextRetry),
				nanos(s.Changed), s.DriftNodes, s.DeferGuard, s.DeferReason, nanos(s.DeferUntil), at); err != nil {
				return fmt.Errorf("%q: %w", s.Device, err)
			}
			if _, err := del.ExecContext(ctx, s.Device); err != nil {
				return fmt.Errorf("%q: %w", s.Device, err)
			}
			for i, n := range s.Nodes[:min(len(s.Nodes), MaxNodes)] {
				owners, err := json.Marshal(n.Owners)
				if err != nil {
					return err
				}
				leaf := 0
				if n.Leaf {
					leaf = 1
				}
				if _, err := ins.ExecContext(ctx, s.Device, i, string(n.Kind), n.Action, n.Path, string(owners), n.Live, n.Desired, leaf); err != nil {
					return fmt.Errorf("%q: node %s: %w", s.Device, n.Path, err)
				}
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
		if err := t.fenceDevices(devices...); err != nil {
			return err
		}
		for _, d := range devices {
			for _, q := range []string{`DELETE FROM device_state WHERE device = ?`, `DELETE FROM device_nodes WHERE device = ?`,
				`DELETE FROM device_controls WHERE device = ?`} {
				if _, err := t.exec(q, d); err != nil {
					return err
				}
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
		if err := rows.Err(); err != nil {
			return err
		}
		return fillNodes(t, out)
	})
	if err != nil {
		return nil, fmt.Errorf("journal: device states: %w", err)
	}
	return out, nil
}

// fillNodes adds its nodes to each state of out (sorted by device).
func fillNodes(t txn, out []DeviceState) error {
	index := make(map[string]int, len(out))
	for i, s := range out {
		index[s.Device] = i
	}
	rows, err := t.query(`SELECT device, kind, action, path, owners, live, desired, leaf FROM device_nodes ORDER BY device, seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			dev, kind, owners string
			n                 Node
			leaf              int
		)
		if err := rows.Scan(&dev, &kind, &n.Action, &n.Path, &owners, &n.Live, &n.Desired, &leaf); err != nil {
			return err
		}
		n.Kind, n.Leaf = NodeKind(kind), leaf != 0
		if err := json.Unmarshal([]byte(owners), &n.Owners); err != nil {
			return fmt.Errorf("device %q node %s: owners: %w", dev, n.Path, err)
		}
		if i, ok := index[dev]; ok {
			out[i].Nodes = append(out[i].Nodes, n)
		}
	}
	return rows.Err()
}

// Control is what operators set on a device: a pause, and a request to
// heal it now. Passes read it and never write it, except to settle a heal.
type Control struct {
	Device       string
	PausedBy     string // "" when not paused
	PausedReason string
	PausedAt     time.Time
	HealBy       string // "" when no heal is asked for
	HealReason   string
	HealAt       time.Time
}

// Paused reports whether an operator paused the device.
func (c Control) Paused() bool { return c.PausedBy != "" }

// Heal reports whether an operator asked to heal the device.
func (c Control) Heal() bool { return c.HealBy != "" }

// SetControl writes c as the device's controls; one that sets nothing
// removes the row.
func (j *Journal) SetControl(ctx context.Context, c Control) error {
	err := j.write(ctx, func(t txn) error {
		if !c.Paused() && !c.Heal() {
			_, err := t.exec(`DELETE FROM device_controls WHERE device = ?`, c.Device)
			return err
		}
		_, err := t.exec(`INSERT INTO device_controls (device, paused_by, paused_reason, paused_at, heal_by, heal_reason, heal_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (device) DO UPDATE SET paused_by = excluded.paused_by, paused_reason = excluded.paused_reason,
				paused_at = excluded.paused_at, heal_by = excluded.heal_by, heal_reason = excluded.heal_reason, heal_at = excluded.heal_at`,
			c.Device, c.PausedBy, c.PausedReason, nanos(c.PausedAt), c.HealBy, c.HealReason, nanos(c.HealAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("journal: set controls of %q: %w", c.Device, err)
	}
	return nil
}

// HealDone settles the heal asked for at at on device: a heal asked for
// again since (another at) stays.
func (j *Journal) HealDone(ctx context.Context, device string, at time.Time) error {
	err := j.write(ctx, func(t txn) error {
		if err := t.fenceDevices(device); err != nil {
			return err
		}
		if _, err := t.exec(`UPDATE device_controls SET heal_by = '', heal_reason = '', heal_at = NULL
			WHERE device = ? AND heal_at = ?`, device, nanos(at)); err != nil {
			return err
		}
		_, err := t.exec(`DELETE FROM device_controls WHERE device = ? AND paused_by = '' AND heal_by = ''`, device)
		return err
	})
	if err != nil {
		return fmt.Errorf("journal: settle heal of %q: %w", device, err)
	}
	return nil
}

// Controls returns every device's controls, by device name.
func (j *Journal) Controls(ctx context.Context) ([]Control, error) {
	var out []Control
	err := j.read(ctx, func(t txn) error {
		rows, err := t.query(`SELECT device, paused_by, paused_reason, paused_at, heal_by, heal_reason, heal_at
			FROM device_controls ORDER BY device`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c Control
			var paused, heal sql.NullInt64
			if err := rows.Scan(&c.Device, &c.PausedBy, &c.PausedReason, &paused, &c.HealBy, &c.HealReason, &heal); err != nil {
				return err
			}
			c.PausedAt, c.HealAt = fromNanos(paused), fromNanos(heal)
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("journal: device controls: %w", err)
	}
	return out, nil
}

// ActionID identifies an operator action.
type ActionID int64

// Action is one thing an operator did through the daemon: who, why, to what.
type Action struct {
	ID     ActionID
	At     time.Time
	Action string // accept-history, heal, acknowledge, pause, resume
	Target string // a device, an alarm id, a commit; "" for all devices
	Who    string // the person: --as, $USER, or the token's name
	Token  string // the name of the API token it came with
	Reason string
	Detail string // what the daemon did, in a line
}

// RecordAction appends a to the audit trail and returns its id; a zero At
// is now.
func (j *Journal) RecordAction(ctx context.Context, a Action) (ActionID, error) {
	if a.At.IsZero() {
		a.At = j.now()
	}
	var id ActionID
	err := j.write(ctx, func(t txn) error {
		return t.queryRow(`INSERT INTO actions (at, action, target, who, token, reason, detail) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.At.UnixNano(), a.Action, a.Target, a.Who, a.Token, a.Reason, a.Detail).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("journal: record action %s: %w", a.Action, err)
	}
	return id, nil
}

// Actions returns the actions before id (all when id <= 0), newest first,
// at most limit (all when limit <= 0).
func (j *Journal) Actions(ctx context.Context, before ActionID, limit int) ([]Action, error) {
	q := `SELECT id, at, action, target, who, token, reason, detail FROM actions`
	var args []any
	if before > 0 {
		q += ` WHERE id < ?`
		args = append(args, before)
	}
	q += ` ORDER BY id DESC`
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	var out []Action
	err := j.read(ctx, func(t txn) error {
		rows, err := t.query(q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a Action
			var at sql.NullInt64
			if err := rows.Scan(&a.ID, &at, &a.Action, &a.Target, &a.Who, &a.Token, &a.Reason, &a.Detail); err != nil {
				return err
			}
			a.At = fromNanos(at)
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("journal: actions: %w", err)
	}
	return out, nil
}

// Alarm is a condition that needed a human: active while Cleared is zero,
// kept after it clears as the alarm history. One alarm is active per kind and
// device; Device is "" for an alarm about no device.
type Alarm struct {
	ID       int64 // filled by Alarms
	Kind     string
	Device   string
	Commit   string
	Message  string
	Failures int
	Since    time.Time // when the condition began
	Raised   time.Time // when it was last news (new, or raised for another commit)
	Cleared  time.Time
	// An operator's acknowledgement: the alarm stays active until its
	// condition ends, known to be in hand.
	AckBy     string
	AckReason string
	AckAt     time.Time
}

// RaiseAlarm records a as the active alarm of its kind and device: a new row,
// or the active one updated (its Since and acknowledgement kept, and its
// Raised when a.Raised is zero: the same alarm again is no news). It returns
// the alarm's id.
func (j *Journal) RaiseAlarm(ctx context.Context, a Alarm) (int64, error) {
	var id int64
	err := j.write(ctx, func(t txn) error {
		if err := t.fenceDevices(a.Device); err != nil {
			return err
		}
		err := t.queryRow(`SELECT id FROM alarms WHERE kind = ? AND device = ? AND cleared_at IS NULL`, a.Kind, a.Device).Scan(&id)
		switch {
		case err == nil:
			_, err = t.exec(`UPDATE alarms SET intent_commit = ?, message = ?, failures = ?, raised_at = COALESCE(?, raised_at)
				WHERE id = ?`, a.Commit, a.Message, a.Failures, nanos(a.Raised), id)
			return err
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		raised := a.Raised
		if raised.IsZero() {
			raised = a.Since // a new row is news whatever the caller says
		}
		return t.queryRow(`INSERT INTO alarms (kind, device, intent_commit, message, failures, since, raised_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, a.Kind, a.Device, a.Commit, a.Message, a.Failures, a.Since.UnixNano(), raised.UnixNano()).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("journal: raise alarm %s %q: %w", a.Kind, a.Device, err)
	}
	return id, nil
}

// ClearAlarm ends the active alarm of kind and device, if there is one.
func (j *Journal) ClearAlarm(ctx context.Context, kind, device string) error {
	at := j.now().UnixNano()
	err := j.write(ctx, func(t txn) error {
		if err := t.fenceDevices(device); err != nil {
			return err
		}
		_, err := t.exec(`UPDATE alarms SET cleared_at = ? WHERE kind = ? AND device = ? AND cleared_at IS NULL`, at, kind, device)
		return err
	})
	if err != nil {
		return fmt.Errorf("journal: clear alarm %s %q: %w", kind, device, err)
	}
	return nil
}

// AcknowledgeAlarm records who acknowledged the active alarm id and why;
// ErrNotFound when id is no active alarm.
func (j *Journal) AcknowledgeAlarm(ctx context.Context, id int64, who, reason string) error {
	at := j.now().UnixNano()
	err := j.write(ctx, func(t txn) error {
		res, err := t.exec(`UPDATE alarms SET ack_by = ?, ack_reason = ?, ack_at = ? WHERE id = ? AND cleared_at IS NULL`, who, reason, at, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("no active alarm %d: %w", id, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("journal: acknowledge alarm %d: %w", id, err)
	}
	return nil
}

// Alarms returns the active alarms, or with all every alarm ever raised, by
// kind, device and time.
func (j *Journal) Alarms(ctx context.Context, all bool) ([]Alarm, error) {
	where := ` WHERE cleared_at IS NULL`
	if all {
		where = ""
	}
	return j.alarms(ctx, where+` ORDER BY kind, device, id`)
}

// PastAlarms returns the cleared alarms before id (all when id <= 0),
// newest first, at most limit (all when limit <= 0).
func (j *Journal) PastAlarms(ctx context.Context, before int64, limit int) ([]Alarm, error) {
	tail := ` WHERE cleared_at IS NOT NULL`
	var args []any
	if before > 0 {
		tail += ` AND id < ?`
		args = append(args, before)
	}
	tail += ` ORDER BY id DESC`
	if limit > 0 {
		tail += ` LIMIT ?`
		args = append(args, limit)
	}
	return j.alarms(ctx, tail, args...)
}

func (j *Journal) alarms(ctx context.Context, tail string, args ...any) ([]Alarm, error) {
	q := `SELECT id, kind, device, intent_commit, message, failures, since, raised_at, cleared_at, ack_by, ack_reason, ack_at FROM alarms`
	var out []Alarm
	err := j.read(ctx, func(t txn) error {
		rows, err := t.query(q+tail, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a Alarm
			var since, raised, cleared, ack sql.NullInt64
			if err := rows.Scan(&a.ID, &a.Kind, &a.Device, &a.Commit, &a.Message, &a.Failures, &since, &raised, &cleared,
				&a.AckBy, &a.AckReason, &ack); err != nil {
				return err
			}
			a.Since, a.Raised, a.Cleared, a.AckAt = fromNanos(since), fromNanos(raised), fromNanos(cleared), fromNanos(ack)
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
	Deferred []string // held back by a guard
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
		for result, devs := range map[string][]string{"applied": p.Applied, "healed": p.Healed, "failed": p.Failed, "drift": p.Drift, "deferred": p.Deferred} {
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
	return j.PassesBefore(ctx, "", limit)
}

// PassesBefore is Passes from the pass before the one with id on ("": from
// the newest): the pages of a list.
func (j *Journal) PassesBefore(ctx context.Context, id string, limit int) ([]Pass, error) {
	tail, args := `ORDER BY seq DESC LIMIT ?`, []any{limit}
	if id != "" {
		tail = `WHERE seq < (SELECT seq FROM passes WHERE id = ?) ORDER BY seq DESC LIMIT ?`
		args = []any{id, limit}
	}
	ps, err := j.passes(ctx, tail, args...)
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
	lists := map[string]*[]string{"applied": &p.Applied, "healed": &p.Healed, "failed": &p.Failed, "drift": &p.Drift, "deferred": &p.Deferred}
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
