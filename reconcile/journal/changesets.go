package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ChangeSet is the leader's decision for one intent commit when replicas
// share the journal: the devices whose desired configuration the commit
// changes, and who applies them. Replicas apply no device's intent change
// for a commit before its change set is published, so none applies its part
// of a change set that spans shards: the leader applies such a set whole
// (Coordinated), as one atomic run; a set within one shard stays with that
// shard's owner (Applier).
type ChangeSet struct {
	Commit  string
	Devices []string // sorted
	// Coordinated: the devices fall in several shards, and the leader
	// that published the set gathers and applies them all.
	Coordinated bool
	// Applier is the replica that applies the set: the leader when
	// coordinated, else the owner of the one shard (as the leader saw the
	// shards when it published).
	Applier string
	Writer  int64 // the publishing leader's lease token
	// Desired is each device's desired fingerprint at Commit: the next
	// commit's change set is the devices whose fingerprint differs.
	Desired   map[string]string
	Published time.Time
	// Settled is when the leader's run of a coordinated set settled, and
	// its devices went back to their shards; zero while open.
	Settled time.Time
}

// Has reports whether device is in the set.
func (c ChangeSet) Has(device string) bool {
	_, ok := slices.BinarySearch(c.Devices, device)
	return ok
}

// Open reports a coordinated set the leader has not settled yet: its
// devices belong to the leader until then.
func (c ChangeSet) Open() bool { return c.Coordinated && c.Settled.IsZero() }

// PublishChangeSet records cs for its commit, unless a change set for that
// commit is there already (a leader that published it before it lost its
// lease, or its successor), and returns the one stored. A fenced journal
// checks its lease in the same transaction: a replica that lost the lead's
// lease publishes nothing.
func (j *Journal) PublishChangeSet(ctx context.Context, cs ChangeSet) (ChangeSet, error) {
	if cs.Commit == "" {
		return ChangeSet{}, errors.New("journal: publish change set: empty commit")
	}
	devices := slices.Sorted(slices.Values(cs.Devices))
	devDoc, err := json.Marshal(devices)
	if err != nil {
		return ChangeSet{}, err
	}
	desired, err := json.Marshal(cs.Desired)
	if err != nil {
		return ChangeSet{}, err
	}
	var stored ChangeSet
	err = j.write(ctx, func(t txn) error {
		_, err := t.exec(`INSERT INTO change_sets (intent_commit, devices, coordinated, applier, writer, desired, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (intent_commit) DO NOTHING`,
			cs.Commit, string(devDoc), boolInt(cs.Coordinated), cs.Applier, t.writer(), string(desired), j.now().UnixNano())
		if err != nil {
			return err
		}
		stored, err = scanChangeSet(t.queryRow(changeSetFull+` WHERE intent_commit = ?`, cs.Commit), true)
		return err
	})
	if err != nil {
		return ChangeSet{}, fmt.Errorf("journal: publish change set of %s: %w", cs.Commit, err)
	}
	return stored, nil
}

// ChangeSetOf returns the change set published for commit, and false when
// none is yet. Its Desired is left out (the next commit's leader reads it,
// through LatestChangeSet).
func (j *Journal) ChangeSetOf(ctx context.Context, commit string) (ChangeSet, bool, error) {
	var cs ChangeSet
	err := j.read(ctx, func(t txn) error {
		var err error
		cs, err = scanChangeSet(t.queryRow(changeSetSelect+` WHERE intent_commit = ?`, commit), false)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return ChangeSet{}, false, nil
	}
	if err != nil {
		return ChangeSet{}, false, fmt.Errorf("journal: change set of %s: %w", commit, err)
	}
	return cs, true, nil
}

// LatestChangeSet returns the newest change set published, with Desired:
// the base against which the leader finds the next commit's changed
// devices. False when none was ever published.
func (j *Journal) LatestChangeSet(ctx context.Context) (ChangeSet, bool, error) {
	var cs ChangeSet
	err := j.read(ctx, func(t txn) error {
		var err error
		cs, err = scanChangeSet(t.queryRow(changeSetFull+` ORDER BY created_at DESC LIMIT 1`), true)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return ChangeSet{}, false, nil
	}
	if err != nil {
		return ChangeSet{}, false, fmt.Errorf("journal: latest change set: %w", err)
	}
	return cs, true, nil
}

// OpenChangeSets returns the coordinated change sets not settled yet,
// oldest first, without Desired: one statement, read by every replica at
// each pass to leave their devices to the leader.
func (j *Journal) OpenChangeSets(ctx context.Context) ([]ChangeSet, error) {
	var out []ChangeSet
	err := j.read(ctx, func(t txn) error {
		rows, err := t.query(changeSetSelect + ` WHERE coordinated = 1 AND settled_at IS NULL ORDER BY created_at`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			cs, err := scanChangeSet(rows, false)
			if err != nil {
				return err
			}
			out = append(out, cs)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("journal: open change sets: %w", err)
	}
	return out, nil
}

// SettleChangeSet marks commit's coordinated change set settled: the
// leader's run of it ended (confirmed, cancelled or failed per device) and
// its devices go back to their shards. Fenced by the writer's lease and its
// ownership of every device of the set, so that only a leader holding them
// all settles it.
func (j *Journal) SettleChangeSet(ctx context.Context, commit string) error {
	err := j.write(ctx, func(t txn) error {
		cs, err := scanChangeSet(t.queryRow(changeSetSelect+` WHERE intent_commit = ?`, commit), false)
		if err != nil {
			return err
		}
		if err := t.fenceDevices(cs.Devices...); err != nil {
			return err
		}
		_, err = t.exec(`UPDATE change_sets SET settled_at = ? WHERE intent_commit = ? AND settled_at IS NULL`,
			j.now().UnixNano(), commit)
		return err
	})
	if err != nil {
		return fmt.Errorf("journal: settle change set of %s: %w", commit, err)
	}
	return nil
}

// changeSetSelect reads a change set without its fingerprints;
// changeSetFull with them, last.
const (
	changeSetSelect = `SELECT intent_commit, devices, coordinated, applier, writer, created_at, settled_at FROM change_sets`
	changeSetFull   = `SELECT intent_commit, devices, coordinated, applier, writer, created_at, settled_at, desired FROM change_sets`
)

func scanChangeSet(row interface{ Scan(...any) error }, withDesired bool) (ChangeSet, error) {
	var cs ChangeSet
	var devices, desired string
	var coordinated int
	var created int64
	var settled sql.NullInt64
	dest := []any{&cs.Commit, &devices, &coordinated, &cs.Applier, &cs.Writer, &created, &settled}
	if withDesired {
		dest = append(dest, &desired)
	}
	if err := row.Scan(dest...); err != nil {
		return ChangeSet{}, err
	}
	if err := json.Unmarshal([]byte(devices), &cs.Devices); err != nil {
		return ChangeSet{}, fmt.Errorf("change set of %s: devices: %w", cs.Commit, err)
	}
	if withDesired {
		if err := json.Unmarshal([]byte(desired), &cs.Desired); err != nil {
			return ChangeSet{}, fmt.Errorf("change set of %s: desired: %w", cs.Commit, err)
		}
	}
	cs.Coordinated, cs.Published, cs.Settled = coordinated != 0, time.Unix(0, created).UTC(), fromNanos(settled)
	return cs, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
