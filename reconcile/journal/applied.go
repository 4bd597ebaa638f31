package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/netrecon/netrecon/configtree"
)

// SetApplied records t as the configuration netrecon applied to device (the
// desired tree of the run, with owners), from intent commit, replacing the
// previous record. A nil t forgets the device: netrecon owns nothing there
// any more.
func (j *Journal) SetApplied(ctx context.Context, device string, t *configtree.Tree, commit string) error {
	if device == "" {
		return errors.New("journal: set applied: empty device name")
	}
	var doc []byte
	if t != nil {
		var err error
		if doc, err = json.Marshal(treeDoc{Format: treeFormat, Root: toJSON(t.Root, "", nil)}); err != nil {
			return fmt.Errorf("journal: set applied %q: %w", device, err)
		}
	}
	at := j.now().UnixNano()
	err := j.write(ctx, func(tx txn) error {
		if t == nil {
			_, err := tx.exec(`DELETE FROM applied WHERE device = ?`, device)
			return err
		}
		_, err := tx.exec(`INSERT INTO applied (device, tree, intent_commit, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (device) DO UPDATE SET tree = excluded.tree, intent_commit = excluded.intent_commit,
				updated_at = excluded.updated_at`,
			device, string(doc), commit, at)
		return err
	})
	if err != nil {
		return fmt.Errorf("journal: set applied %q: %w", device, err)
	}
	return nil
}

// Applied returns the configuration last recorded for device and the intent
// commit it came from; (nil, "", nil) when nothing is recorded.
func (j *Journal) Applied(ctx context.Context, device string) (*configtree.Tree, string, error) {
	var doc, commit string
	err := j.db.QueryRowContext(ctx, j.d.rebind(`SELECT tree, intent_commit FROM applied WHERE device = ?`), device).
		Scan(&doc, &commit)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("journal: applied %q: %w", device, err)
	}
	var td treeDoc
	if err := json.Unmarshal([]byte(doc), &td); err != nil {
		return nil, "", fmt.Errorf("journal: applied %q: stored tree: %w", device, err)
	}
	if td.Format != treeFormat {
		return nil, "", fmt.Errorf("journal: applied %q: stored tree has format %d, this netrecon reads format %d",
			device, td.Format, treeFormat)
	}
	t := &configtree.Tree{Root: fromJSON(td.Root, "", nil)}
	if t.Root == nil {
		t = configtree.New()
	}
	return t, commit, nil
}

// treeFormat is the version of treeDoc. The stored form is this package's
// own, not configtree.Node's field names, so that a field renamed there is a
// compile error here instead of a field silently lost from every journal.
const treeFormat = 1

type treeDoc struct {
	Format int       `json:"format"`
	Root   *jsonNode `json:"root"`
}

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
