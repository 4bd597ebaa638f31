package journal

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/ownership"
)

// SetOwnership records what netrecon holds on device (see package ownership),
// from intent commit, replacing the previous record. A zero r forgets the
// device: netrecon holds nothing there any more.
func (j *Journal) SetOwnership(ctx context.Context, device string, r ownership.Record, commit string) error {
	if device == "" {
		return errors.New("journal: set ownership: empty device name")
	}
	err := j.SetOwnerships(ctx, []Owned{{Device: device, Record: r}}, commit)
	if err != nil {
		return fmt.Errorf("journal: set ownership %q: %w", device, err)
	}
	return nil
}

// Owned is what netrecon holds on one device, for SetOwnerships.
type Owned struct {
	Device string
	Record ownership.Record // zero: netrecon holds nothing there any more
	// FromRun, when set, says that Record is the pending record the
	// device's commit in that run left (Step.Pending): it is copied from
	// there in the database instead of being encoded again, which cost a
	// 100-device apply a third of its last write. A device without a
	// pending record in that run has Record encoded, as without FromRun.
	FromRun RunID
}

// SetOwnerships records, in one transaction, what netrecon holds on each
// device of records, as SetOwnership does for one: after the confirming
// commits of a change set, one durable write instead of one per device. All
// or nothing.
func (j *Journal) SetOwnerships(ctx context.Context, records []Owned, commit string) error {
	seen := make(map[string]bool, len(records))
	for _, o := range records {
		if o.Device == "" {
			return errors.New("journal: set ownership: empty device name")
		}
		if seen[o.Device] {
			return fmt.Errorf("journal: set ownership: device %q is twice in one batch", o.Device)
		}
		seen[o.Device] = true
	}
	if len(records) == 0 {
		return nil
	}
	at := j.now().UnixNano()
	return j.write(ctx, func(t txn) error {
		if t.fence != nil {
			devices := make([]string, len(records))
			for i, o := range records {
				devices[i] = o.Device
			}
			if err := t.fenceDevices(devices...); err != nil {
				return err
			}
		}
		b := newBatch(t)
		defer b.close()
		for _, o := range records {
			if err := b.owned(o, commit, at); err != nil {
				if len(records) == 1 {
					return err // SetOwnership names the device
				}
				return fmt.Errorf("journal: set ownership %q: %w", o.Device, err)
			}
		}
		return nil
	})
}

// owned writes one device's record. It is encoded here, one device at a
// time, so that a batch never holds every device's encoding at once.
func (b *batch) owned(o Owned, commit string, at int64) error {
	if o.Record.IsZero() {
		_, err := b.exec(`DELETE FROM applied WHERE device = ?`, o.Device)
		return err
	}
	if o.FromRun != 0 {
		res, err := b.exec(`INSERT INTO applied (device, tree, intent_commit, updated_at)
			SELECT device, record, ?, ? FROM pending_ownership WHERE run_id = ? AND device = ?
			ON CONFLICT (device) DO UPDATE SET tree = excluded.tree, intent_commit = excluded.intent_commit,
				updated_at = excluded.updated_at`,
			commit, at, o.FromRun, o.Device)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
	}
	doc, err := encodeRecord(o.Record)
	if err != nil {
		return err
	}
	_, err = b.exec(`INSERT INTO applied (device, tree, intent_commit, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (device) DO UPDATE SET tree = excluded.tree, intent_commit = excluded.intent_commit,
			updated_at = excluded.updated_at`,
		o.Device, string(doc), commit, at)
	return err
}

// Ownership returns what netrecon holds on device and the intent commit it
// was recorded for; a zero Record and "" when nothing is recorded.
func (j *Journal) Ownership(ctx context.Context, device string) (ownership.Record, string, error) {
	var doc, commit string
	err := j.db.QueryRowContext(ctx, j.d.rebind(`SELECT tree, intent_commit FROM applied WHERE device = ?`), device).
		Scan(&doc, &commit)
	if errors.Is(err, sql.ErrNoRows) {
		return ownership.Record{}, "", nil
	}
	if err != nil {
		return ownership.Record{}, "", fmt.Errorf("journal: ownership %q: %w", device, err)
	}
	r, err := decodeRecord([]byte(doc))
	if err != nil {
		return ownership.Record{}, "", fmt.Errorf("journal: ownership %q: %w", device, err)
	}
	return r, commit, nil
}

// StoredRecord is a device's ownership record as the journal holds it, not
// yet decoded: Digest names its stored bytes, so a reader that decoded the
// same row before can tell, without decoding it again, that the record did
// not change (the daemon's no-op pass). The journal stays the truth: the
// row is read every time, only its decoding is spared.
type StoredRecord struct {
	Device string
	Commit string // the intent commit it was recorded for
	Digest [32]byte
	doc    []byte
}

// Decode returns the record.
func (s StoredRecord) Decode() (ownership.Record, error) {
	if s.doc == nil {
		return ownership.Record{}, nil
	}
	r, err := decodeRecord(s.doc)
	if err != nil {
		return ownership.Record{}, fmt.Errorf("journal: ownership %q: %w", s.Device, err)
	}
	return r, nil
}

// StoredOwnerships reads the ownership records of devices in one query, as
// StoredRecords keyed by device. A device with nothing recorded has none;
// its zero StoredRecord decodes to the zero Record.
func (j *Journal) StoredOwnerships(ctx context.Context, devices []string) (map[string]StoredRecord, error) {
	want := make(map[string]bool, len(devices))
	for _, d := range devices {
		want[d] = true
	}
	out := make(map[string]StoredRecord, len(devices))
	// One scan of the table rather than an IN list: the list's length is
	// bounded differently by each database, and a pass asks for most rows.
	rows, err := j.db.QueryContext(ctx, `SELECT device, tree, intent_commit FROM applied`)
	if err != nil {
		return nil, fmt.Errorf("journal: ownerships: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var device, commit string
		var doc []byte
		if err := rows.Scan(&device, &doc, &commit); err != nil {
			return nil, fmt.Errorf("journal: ownerships: %w", err)
		}
		if !want[device] {
			continue
		}
		out[device] = StoredRecord{Device: device, Commit: commit, Digest: sha256.Sum256(doc), doc: doc}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: ownerships: %w", err)
	}
	return out, nil
}

// recordDoc is the stored form of an ownership.Record (format 2).
type recordDoc struct {
	Format  int       `json:"format"`
	Created *jsonNode `json:"created,omitempty"`
	Shared  *jsonNode `json:"shared,omitempty"`
	Restore *jsonNode `json:"restore,omitempty"`
	Desired string    `json:"desired,omitempty"`
	// Root is format 1's one tree: the whole desired tree, all of it taken
	// as owned. Read only.
	Root *jsonNode `json:"root,omitempty"`
}

func encodeRecord(r ownership.Record) ([]byte, error) {
	d := recordDoc{Format: treeFormat, Desired: r.Desired}
	for _, x := range []struct {
		t   *configtree.Tree
		dst **jsonNode
	}{{r.Created, &d.Created}, {r.Shared, &d.Shared}, {r.Restore, &d.Restore}} {
		if x.t.Len() > 0 {
			*x.dst = toJSON(x.t.Root, "", nil)
		}
	}
	return json.Marshal(d)
}

func decodeRecord(doc []byte) (ownership.Record, error) {
	var d recordDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return ownership.Record{}, fmt.Errorf("stored tree: %w", err)
	}
	tree := func(n *jsonNode) *configtree.Tree {
		if t := (&configtree.Tree{Root: fromJSON(n, "", nil)}); t.Root != nil {
			return t
		}
		return configtree.New()
	}
	switch d.Format {
	case treeFormat:
		return ownership.Record{Created: tree(d.Created), Shared: tree(d.Shared), Restore: tree(d.Restore), Desired: d.Desired}, nil
	case 1:
		// Format 1 recorded the whole desired tree as owned, including
		// what was on the device before netrecon: which nodes netrecon
		// really created cannot be told any more. Read it as shared, the
		// safe side: nothing of it is deleted on removal (a node netrecon
		// did create stays behind, visible as kept in the plan), and drift
		// is still told from an intent change.
		old := tree(d.Root)
		return ownership.Record{Created: configtree.New(), Shared: old, Restore: configtree.New(), Desired: old.Fingerprint()}, nil
	}
	return ownership.Record{}, fmt.Errorf("stored record has format %d, this netrecon reads formats 1 and %d", d.Format, treeFormat)
}

// treeFormat is the version of recordDoc. The stored form is this package's
// own, not configtree.Node's field names, so that a field renamed there is a
// compile error here instead of a field silently lost from every journal.
// Format 2 splits format 1's one tree into created, shared and restore.
const treeFormat = 2

// jsonNode mirrors configtree.Node with short names and empty fields left
// out: a PE's applied tree has tens of thousands of nodes. A namespace or an
// owner list equal to the parent's is left out too (nil: inherited), as XML
// does with xmlns: most nodes share both with their parent, and writing them
// on every node tripled the size.
type jsonNode struct {
	Name        string      `json:"n,omitempty"`
	Space       *string     `json:"ns,omitempty"`
	Leaf        bool        `json:"leaf,omitempty"`
	Value       string      `json:"v,omitempty"`
	ValueSpace  string      `json:"vns,omitempty"`
	ValuePrefix string      `json:"vp,omitempty"`
	Keys        []string    `json:"keys,omitempty"`
	Children    []*jsonNode `json:"c,omitempty"`
	Owners      *[]string   `json:"o,omitempty"`
}

// toJSON converts n, a child of a node with namespace space and owners.
func toJSON(n *configtree.Node, space string, owners []string) *jsonNode {
	if n == nil {
		return nil
	}
	j := &jsonNode{
		Name: n.Name, Leaf: n.Leaf, Value: n.Value,
		ValueSpace: n.ValueSpace, ValuePrefix: n.ValuePrefix, Keys: n.Keys,
	}
	if n.Space != space {
		j.Space = &n.Space
	}
	if !slices.Equal(n.Owners, owners) {
		o := n.Owners
		if o == nil {
			o = []string{} // explicit "none", unlike an absent (inherited) list
		}
		j.Owners = &o
	}
	if len(n.Children) > 0 {
		j.Children = make([]*jsonNode, 0, len(n.Children))
		for _, c := range n.Children {
			if c != nil {
				j.Children = append(j.Children, toJSON(c, n.Space, n.Owners))
			}
		}
	}
	return j
}

// fromJSON converts j, a child of a node with namespace space and owners.
func fromJSON(j *jsonNode, space string, owners []string) *configtree.Node {
	if j == nil {
		return nil
	}
	n := &configtree.Node{
		Name: j.Name, Space: space, Leaf: j.Leaf, Value: j.Value,
		ValueSpace: j.ValueSpace, ValuePrefix: j.ValuePrefix, Keys: j.Keys,
	}
	if j.Space != nil {
		n.Space = *j.Space
	}
	if j.Owners != nil {
		owners = *j.Owners
	}
	// Each node gets its own slice: Merge and AdoptOwners change a node's
	// owners in place.
	if len(owners) > 0 {
		n.Owners = slices.Clone(owners)
	}
	if len(j.Children) > 0 {
		n.Children = make([]*configtree.Node, 0, len(j.Children))
		for _, c := range j.Children {
			if c != nil {
				n.Children = append(n.Children, fromJSON(c, n.Space, n.Owners))
			}
		}
	}
	return n
}

// SetState sets the daemon's state value for key ("last-applied-commit").
func (j *Journal) SetState(ctx context.Context, key, value string) error {
	if key == "" {
		return errors.New("journal: set state: empty key")
	}
	at := j.now().UnixNano()
	err := j.write(ctx, func(t txn) error {
		_, err := t.exec(`INSERT INTO state (key, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
			key, value, at)
		return err
	})
	if err != nil {
		return fmt.Errorf("journal: set state %q: %w", key, err)
	}
	return nil
}

// State returns the value of key, "" when it is not set.
func (j *Journal) State(ctx context.Context, key string) (string, error) {
	var v string
	err := j.db.QueryRowContext(ctx, j.d.rebind(`SELECT value FROM state WHERE key = ?`), key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("journal: state %q: %w", key, err)
	}
	return v, nil
}
