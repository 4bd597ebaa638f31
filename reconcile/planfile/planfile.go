package planfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/plan"
)

// FormatVersion is the version of the file format Write and WriteSigned
// produce. Version 2 replaced version 1's plain checksum with the MAC;
// version 3 lets a change leave out the node and ancestors that Read
// rebuilds from the file's trees anyway (Write, the journal's copy, does).
// Read accepts versions 2 and 3: the journal holds the runs of earlier
// netrecons.
const FormatVersion = 3

// oldestVersion is the oldest format Read accepts.
const oldestVersion = 2

// MaxSize bounds the file Read accepts: a plan for thousands of devices stays
// well below it, and a wrong file must not exhaust memory.
const MaxSize = 256 << 20

// FormatError is a file Read cannot accept.
type FormatError struct {
	Msg string
	Err error
}

func (e *FormatError) Error() string {
	if e.Err != nil {
		return "plan file: " + e.Msg + ": " + e.Err.Error()
	}
	return "plan file: " + e.Msg
}

func (e *FormatError) Unwrap() error { return e.Err }

// file is the format. New fields go at the end of a struct, with
// omitempty where an older file lacks them; the MAC covers them as it covers
// every byte. MAC comes first: sign and verify find it at a fixed offset.
type file struct {
	MAC           string      `json:"mac"`
	FormatVersion int         `json:"format_version"`
	Mode          plan.Mode   `json:"mode"`
	IntentCommit  string      `json:"intent_commit"`
	Base          plan.Source `json:"base"`
	Head          plan.Source `json:"head"`
	Devices       []device    `json:"devices"`
}

type device struct {
	Name        string           `json:"name"`
	Platform    string           `json:"platform"`
	Fingerprint string           `json:"fingerprint,omitempty"`
	Error       string           `json:"error,omitempty"`
	Desired     *configtree.Tree `json:"desired,omitempty"`
	Live        *configtree.Tree `json:"live,omitempty"`
	Changes     []change         `json:"changes"`
	// Pre-existing nodes (live plans): they change nothing on the device,
	// but applying records them as shared, so they are part of the plan.
	Adopted []held `json:"adopted,omitempty"`
	Kept    []held `json:"kept,omitempty"`
	Claimed []held `json:"claimed,omitempty"`
}

type held struct {
	Path    configtree.Path `json:"path"`
	Leaf    bool            `json:"leaf,omitempty"`
	Value   string          `json:"value,omitempty"`
	Owners  []string        `json:"owners,omitempty"`
	Holders []string        `json:"holders,omitempty"`
}

func heldOut(hs []configtree.Held) []held {
	var out []held
	for _, h := range hs {
		out = append(out, held{Path: h.Path, Leaf: h.Leaf, Value: h.Value, Owners: h.Owners, Holders: h.Holders})
	}
	return out
}

func heldIn(hs []held) []configtree.Held {
	var out []configtree.Held
	for _, h := range hs {
		out = append(out, configtree.Held{Path: h.Path, Leaf: h.Leaf, Value: h.Value, Owners: h.Owners, Holders: h.Holders})
	}
	return out
}

type change struct {
	Action    string             `json:"action"` // "+", "~", "-"
	Path      configtree.Path    `json:"path"`
	Leaf      bool               `json:"leaf,omitempty"`
	Before    string             `json:"before,omitempty"`
	After     string             `json:"after,omitempty"`
	Owners    []string           `json:"owners,omitempty"`
	Reason    string             `json:"reason,omitempty"`
	Node      *configtree.Node   `json:"node,omitempty"`
	Ancestors []*configtree.Node `json:"ancestors,omitempty"`
}

// Write saves p with the desired tree of each device and, when live is not
// nil, the live trees (with adopted owners) the changes were computed from.
// The file is not signed: this is the copy the journal keeps, inside the
// state folder. A file for people to carry around is written by WriteSigned.
//
// A change keeps its node and ancestors only where Read cannot rebuild them
// from the trees (a delete without the live tree): Read takes the nodes an
// edit sends from the trees in any case, and the stored copies made most of
// the file. Each change's ancestors repeat the owners of every node above
// it, so a device's top container listed all its services once per change:
// 116 KB a device for ten interfaces, 1 MB per run of ten devices, written
// and fsync'd before the first lock and copied again at the checkpoint
// (issue 14). Without them it is a sixth of that.
//
// It is compact JSON, without the indentation WriteSigned's file has for
// people: the journal keeps one per run, and a change set of 1,000 devices
// with ten interfaces each made a 65 MB indented plan (40 MB compact), held
// in memory several times over while it was encoded and stored.
//
// The devices are encoded one at a time, straight into w: marshalling the
// whole file at once grew one buffer to the size of the file (doubling, so
// twice that allocated) and held it and two more copies at once, at the
// moment apply starts with every session open; at 1,000 devices that set
// the process's peak memory (issue 14).
func Write(w io.Writer, p *plan.Plan, desired, live map[string]*configtree.Tree) error {
	f, err := fileOf(p, desired, live, "", false)
	if err != nil {
		return err
	}
	if len(f.Devices) == 0 {
		b, err := json.Marshal(f)
		if err != nil {
			return fmt.Errorf("plan file: encode: %w", err)
		}
		return write(w, append(b, '\n'))
	}
	devices := f.Devices
	f.Devices = nil
	head, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("plan file: encode: %w", err)
	}
	// Devices is the last field: the head ends with its null, which the
	// list replaces.
	head, ok := bytes.CutSuffix(head, []byte(`"devices":null}`))
	if !ok {
		return errors.New("plan file: devices is not the file's last field") // a bug, not input
	}
	if err := write(w, append(head, `"devices":[`...)); err != nil {
		return err
	}
	// Encode ends each device with a newline: JSON whitespace between the
	// list's elements.
	enc := json.NewEncoder(w)
	for i, d := range devices {
		if i > 0 {
			if err := write(w, []byte{','}); err != nil {
				return err
			}
		}
		if err := enc.Encode(d); err != nil {
			return fmt.Errorf("plan file: encode %s: %w", d.Name, err)
		}
	}
	return write(w, []byte("]}\n"))
}

// WriteSigned saves p as Write does, with an HMAC-SHA256 under k over the
// whole file, so that ReadSigned refuses a file edited outside netrecon or
// made with another state folder's key.
func WriteSigned(w io.Writer, k *Key, p *plan.Plan, desired, live map[string]*configtree.Tree) error {
	if k == nil {
		return errors.New("plan file: no key")
	}
	b, err := encode(p, desired, live, macScheme+strings.Repeat("0", macHexLen))
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(b, []byte(macHeader)) {
		return errors.New("plan file: encoder did not put the MAC first") // a bug, not input
	}
	copy(b[len(macHeader):], k.mac(b))
	return write(w, b)
}

func write(w io.Writer, b []byte) error {
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("plan file: write: %w", err)
	}
	return nil
}

// encode is the signed file's bytes, indented for people, its MAC field
// holding mac. It keeps every change's node and ancestors: a person reading
// the file sees the edit each change sends, where it sends it.
func encode(p *plan.Plan, desired, live map[string]*configtree.Tree, mac string) ([]byte, error) {
	f, err := fileOf(p, desired, live, mac, true)
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		return nil, fmt.Errorf("plan file: encode: %w", err)
	}
	return append(b, '\n'), nil
}

// fileOf is p in its saved form. Without nodes, a change's node and
// ancestors are left out where decode rebuilds them from the trees.
func fileOf(p *plan.Plan, desired, live map[string]*configtree.Tree, mac string, nodes bool) (file, error) {
	if p == nil {
		return file{}, errors.New("plan file: no plan")
	}
	f := file{MAC: mac, FormatVersion: FormatVersion, Mode: p.Mode, IntentCommit: p.Head.Commit, Base: p.Base, Head: p.Head}
	for _, d := range p.Devices {
		if d == nil {
			continue
		}
		fd := device{Name: d.Name, Platform: d.Platform, Fingerprint: d.Fingerprint, Desired: desired[d.Name], Live: live[d.Name], Changes: []change{},
			Adopted: heldOut(d.Adopted), Kept: heldOut(d.Kept), Claimed: heldOut(d.Claimed)}
		if d.Err != nil {
			fd.Error = d.Err.Error()
		}
		for _, c := range d.Changes {
			fc := change{Action: string(c.Action), Path: c.Path, Leaf: c.Leaf, Before: c.Before, After: c.After, Owners: c.Owners, Reason: c.Reason}
			if nodes || !rebuilt(c.Action, fd.Desired != nil, fd.Live != nil) {
				fc.Node, fc.Ancestors = c.Node, c.Ancestors
			}
			fd.Changes = append(fd.Changes, fc)
		}
		f.Devices = append(f.Devices, fd)
	}
	return f, nil
}

// Read loads a plan saved by Write (or WriteSigned, without checking its
// MAC: the journal's own copies), and the desired trees by device.
func Read(r io.Reader) (*plan.Plan, map[string]*configtree.Tree, error) {
	b, err := readAll(r)
	if err != nil {
		return nil, nil, err
	}
	return decode(b)
}

// ReadSigned loads a plan saved by WriteSigned, refusing a file whose MAC
// does not verify under k: one edited outside netrecon, or signed with
// another state folder's key.
func ReadSigned(r io.Reader, k *Key) (*plan.Plan, map[string]*configtree.Tree, error) {
	if k == nil {
		return nil, nil, errors.New("plan file: no key")
	}
	b, err := readAll(r)
	if err != nil {
		return nil, nil, err
	}
	if !k.verify(b) {
		// Say what helps: a file of another netrecon, or not a plan file,
		// rather than a MAC that cannot match.
		v, ok := peekVersion(b)
		switch {
		case !ok:
			return nil, nil, &FormatError{Msg: "not a netrecon plan file"}
		case v < oldestVersion || v > FormatVersion:
			return nil, nil, versionError(v)
		}
		return nil, nil, &FormatError{Msg: "edited outside netrecon or made with another state folder: re-run plan"}
	}
	return decode(b)
}

// peekVersion finds the top-level format_version without parsing the whole
// file: it comes first or second in every version.
func peekVersion(b []byte) (int, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return 0, false
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return 0, false
		}
		if k == "format_version" {
			var v int
			if dec.Decode(&v) != nil {
				return 0, false
			}
			return v, true
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return 0, false
		}
	}
	return 0, false
}

func versionError(v int) error {
	return &FormatError{Msg: fmt.Sprintf("format_version %d, this netrecon reads %d to %d: re-plan with this version", v, oldestVersion, FormatVersion)}
}

func readAll(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, &FormatError{Msg: "read", Err: err}
	}
	if len(b) > MaxSize {
		return nil, &FormatError{Msg: fmt.Sprintf("larger than %d bytes", MaxSize)}
	}
	return b, nil
}

func version(b []byte) (int, error) {
	var v struct {
		FormatVersion int `json:"format_version"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return 0, &FormatError{Msg: "not a netrecon plan file", Err: err}
	}
	if v.FormatVersion < oldestVersion || v.FormatVersion > FormatVersion {
		return 0, versionError(v.FormatVersion)
	}
	return v.FormatVersion, nil
}

// rebuilt reports whether decode takes a change's node and ancestors from
// the file's trees rather than from the change: every change when the file
// has the live tree (the diff is recomputed), a create or an update from
// the desired tree; only a delete without the live tree keeps its own.
func rebuilt(a configtree.Action, hasDesired, hasLive bool) bool {
	return hasLive || (hasDesired && a != configtree.Delete)
}

// decode rebuilds the plan from the file's data. A change is an address
// (its path) and values; the nodes an edit sends are taken from the trees
// the file holds, never from the change itself: from the desired tree for a
// create or an update, from the live tree, when the file has it, for a
// delete. A change whose stored node or ancestors differ from the trees',
// or do not spell its path, or whose values disagree with its node, is
// refused, naming the device, the change and its path.
func decode(b []byte) (*plan.Plan, map[string]*configtree.Tree, error) {
	v, err := version(b)
	if err != nil {
		return nil, nil, err
	}
	var f file
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, nil, &FormatError{Msg: "not a netrecon plan file", Err: err}
	}
	p := &plan.Plan{Mode: f.Mode, Base: f.Base, Head: f.Head}
	desired := map[string]*configtree.Tree{}
	var errs []error
	for i, fd := range f.Devices {
		if fd.Name == "" {
			errs = append(errs, fmt.Errorf("device %d has no name", i))
			continue
		}
		d := &plan.Device{Name: fd.Name, Platform: fd.Platform, Fingerprint: fd.Fingerprint,
			Adopted: heldIn(fd.Adopted), Kept: heldIn(fd.Kept), Claimed: heldIn(fd.Claimed)}
		if fd.Error != "" {
			d.Err = errors.New(fd.Error)
		}
		var fromDesired map[configtree.Path]configtree.Change
		if fd.Desired != nil {
			fromDesired = index(configtree.Diff(configtree.New(), fd.Desired))
		}
		var recomputed []configtree.Change
		if fd.Live != nil {
			recomputed = configtree.Diff(nonNil(fd.Live), nonNil(fd.Desired))
			if len(recomputed) != len(fd.Changes) {
				errs = append(errs, fmt.Errorf("%s: the file stores changes: %d, its trees give: %d", fd.Name, len(fd.Changes), len(recomputed)))
				recomputed = nil
			}
		}
		for j, c := range fd.Changes {
			var from *configtree.Change
			if recomputed != nil {
				from = &recomputed[j]
			}
			// Version 2 stored every change's nodes; from 3 on a change
			// may leave out those the trees rebuild.
			pc, err := rebuild(c, fromDesired, from, v >= 3)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: change %d (%s): %w", fd.Name, j, c.Path, err))
				continue
			}
			d.Changes = append(d.Changes, plan.Change{Reason: c.Reason, Change: pc})
		}
		if fd.Desired != nil {
			desired[fd.Name] = fd.Desired
		}
		p.Devices = append(p.Devices, d)
	}
	if !slices.IsSortedFunc(p.Devices, func(a, b *plan.Device) int { return strings.Compare(a.Name, b.Name) }) {
		errs = append(errs, errors.New("devices are not sorted by name"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, &FormatError{Msg: "invalid content", Err: err}
	}
	return p, desired, nil
}

// index maps the changes that create a whole tree by path: every node a
// create or an update of that tree can name, with its ancestors.
func index(cs []configtree.Change) map[configtree.Path]configtree.Change {
	m := make(map[configtree.Path]configtree.Change, len(cs))
	for _, c := range cs {
		m[c.Path] = c
	}
	return m
}

// rebuild checks one stored change and returns it with its node and
// ancestors taken from the trees: recomputed (the diff of the stored live
// and desired trees) when there is one, else the desired tree for a create
// or an update; a delete without a live tree keeps its stored nodes, once
// they are shown to spell its path. Apply re-checks a delete against the
// device (re-diff, and the read filter). From version 3 (omitting) a change
// the trees rebuild may come without its nodes; its path, values, leaf and
// owners are still checked against the trees'.
func rebuild(c change, fromDesired map[configtree.Path]configtree.Change, recomputed *configtree.Change, omitting bool) (configtree.Change, error) {
	a, err := action(c.Action)
	if err != nil {
		return configtree.Change{}, err
	}
	mayOmit := omitting && rebuilt(a, fromDesired != nil, recomputed != nil)
	steps, err := configtree.ParsePath(c.Path)
	if err != nil {
		return configtree.Change{}, err
	}
	if len(steps) == 0 {
		return configtree.Change{}, errors.New("a change cannot name the root")
	}
	hasNodes := c.Node != nil
	switch {
	case !hasNodes && len(c.Ancestors) > 0:
		return configtree.Change{}, errors.New("ancestors without a node")
	case !hasNodes && !mayOmit, slices.Contains(c.Ancestors, nil):
		return configtree.Change{}, errors.New("node missing")
	}
	stored := configtree.Change{Action: a, Path: c.Path, Leaf: c.Leaf, Before: c.Before, After: c.After, Owners: c.Owners, Node: c.Node, Ancestors: c.Ancestors}
	if hasNodes {
		if err := checkStored(steps, stored); err != nil {
			return configtree.Change{}, err
		}
	}
	var from configtree.Change
	switch {
	case recomputed != nil:
		from = *recomputed
		if from.Action != a || from.Path != c.Path || from.Before != c.Before || from.After != c.After {
			return configtree.Change{}, fmt.Errorf("is %c %s, the trees give %c %s", a, c.Path, from.Action, from.Path)
		}
	case a == configtree.Delete:
		return stored, nil // has its nodes: mayOmit is false for it
	default:
		var ok bool
		if from, ok = fromDesired[c.Path]; !ok {
			return configtree.Change{}, errors.New("names no node of the desired tree")
		}
		if from.After != c.After {
			return configtree.Change{}, fmt.Errorf("after is %q, the desired tree has %q", c.After, from.After)
		}
		from.Action, from.Before = a, c.Before
	}
	if from.Leaf != c.Leaf || !slices.Equal(from.Owners, c.Owners) {
		return configtree.Change{}, fmt.Errorf("leaf or owners differ from the trees' (%t %q, stored %t %q)", from.Leaf, from.Owners, c.Leaf, c.Owners)
	}
	if !hasNodes {
		return from, nil
	}
	if !sameJSON(from.Node, c.Node) {
		return configtree.Change{}, errors.New("its node differs from the trees'")
	}
	if !sameJSON(from.Ancestors, c.Ancestors) {
		return configtree.Change{}, fmt.Errorf("its ancestors differ from the trees' (%s)", addressed(from))
	}
	return from, nil
}

// checkStored checks a change's own node and ancestors: they spell its
// path, and its leaf and values are its node's.
func checkStored(steps []configtree.Step, c configtree.Change) error {
	if err := spells(steps, c); err != nil {
		return err
	}
	if c.Leaf != c.Node.Leaf {
		return fmt.Errorf("leaf is %t, its node's is %t", c.Leaf, c.Node.Leaf)
	}
	if !c.Leaf {
		return nil
	}
	v := displayValue(c.Node)
	switch {
	case c.Action != configtree.Delete && c.After != v:
		return fmt.Errorf("after is %q, its node's value %q", c.After, v)
	case c.Action == configtree.Delete && c.Before != v:
		return fmt.Errorf("before is %q, its node's value %q", c.Before, v)
	}
	return nil
}

// spells checks that the ancestors and the node, which address the edit
// sent to the device, name the steps of the change's path.
func spells(steps []configtree.Step, c configtree.Change) error {
	if len(c.Ancestors) != len(steps)-1 {
		return fmt.Errorf("ancestors and path disagree (ancestors: %d, path steps: %d)", len(c.Ancestors), len(steps))
	}
	nodes := append(slices.Clone(c.Ancestors), c.Node)
	for i, s := range steps {
		if got := nodes[i].PathStep(); got != s.String() {
			return fmt.Errorf("its ancestors and node address %s, not its path", addressed(c))
		}
	}
	return nil
}

func addressed(c configtree.Change) string {
	var b strings.Builder
	for _, n := range append(slices.Clone(c.Ancestors), c.Node) {
		b.WriteString("/" + n.PathStep())
	}
	return b.String()
}

func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// displayValue is a leaf's value as Diff writes it in Before and After: an
// identity with the prefix its source used.
func displayValue(n *configtree.Node) string {
	if n.ValueSpace != "" && n.ValuePrefix != "" {
		return n.ValuePrefix + ":" + n.Value
	}
	return n.Value
}

func nonNil(t *configtree.Tree) *configtree.Tree {
	if t == nil || t.Root == nil {
		return configtree.New()
	}
	return t
}

func action(s string) (configtree.Action, error) {
	switch a := configtree.Action([]rune(s + " ")[0]); {
	case len(s) == 1 && (a == configtree.Create || a == configtree.Update || a == configtree.Delete):
		return a, nil
	}
	return 0, fmt.Errorf("unknown action %q (want +, ~ or -)", s)
}
