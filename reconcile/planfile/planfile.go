package planfile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/plan"
)

// FormatVersion is the version of the file format Write produces and Read
// accepts.
const FormatVersion = 1

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

type file struct {
	FormatVersion int         `json:"format_version"`
	Mode          plan.Mode   `json:"mode"`
	IntentCommit  string      `json:"intent_commit"`
	Base          plan.Source `json:"base"`
	Head          plan.Source `json:"head"`
	Devices       []device    `json:"devices"`
	Checksum      string      `json:"checksum"`
}

type device struct {
	Name        string           `json:"name"`
	Platform    string           `json:"platform"`
	Fingerprint string           `json:"fingerprint,omitempty"`
	Error       string           `json:"error,omitempty"`
	Desired     *configtree.Tree `json:"desired,omitempty"`
	Live        *configtree.Tree `json:"live,omitempty"`
	Changes     []change         `json:"changes"`
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
func Write(w io.Writer, p *plan.Plan, desired, live map[string]*configtree.Tree) error {
	if p == nil {
		return errors.New("plan file: no plan")
	}
	f := file{FormatVersion: FormatVersion, Mode: p.Mode, IntentCommit: p.Head.Commit, Base: p.Base, Head: p.Head}
	for _, d := range p.Devices {
		if d == nil {
			continue
		}
		fd := device{Name: d.Name, Platform: d.Platform, Fingerprint: d.Fingerprint, Desired: desired[d.Name], Live: live[d.Name], Changes: []change{}}
		if d.Err != nil {
			fd.Error = d.Err.Error()
		}
		for _, c := range d.Changes {
			fd.Changes = append(fd.Changes, change{
				Action: string(c.Action), Path: c.Path, Leaf: c.Leaf, Before: c.Before, After: c.After,
				Owners: c.Owners, Reason: c.Reason, Node: c.Node, Ancestors: c.Ancestors,
			})
		}
		f.Devices = append(f.Devices, fd)
	}
	sum, err := checksum(f)
	if err != nil {
		return err
	}
	f.Checksum = sum
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("plan file: write: %w", err)
	}
	return nil
}

// checksum hashes the file's content with the checksum field empty.
func checksum(f file) (string, error) {
	f.Checksum = ""
	b, err := json.Marshal(f)
	if err != nil {
		return "", fmt.Errorf("plan file: encode: %w", err)
	}
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:]), nil
}

// Read loads a plan saved by Write, and the desired trees by device.
func Read(r io.Reader) (*plan.Plan, map[string]*configtree.Tree, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, nil, &FormatError{Msg: "read", Err: err}
	}
	if len(b) > MaxSize {
		return nil, nil, &FormatError{Msg: fmt.Sprintf("larger than %d bytes", MaxSize)}
	}
	var f file
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, nil, &FormatError{Msg: "not a netrecon plan file", Err: err}
	}
	if f.FormatVersion != FormatVersion {
		return nil, nil, &FormatError{Msg: fmt.Sprintf("format_version %d, this netrecon reads %d: re-plan with this version", f.FormatVersion, FormatVersion)}
	}
	sum, err := checksum(f)
	if err != nil {
		return nil, nil, err
	}
	if sum != f.Checksum {
		return nil, nil, &FormatError{Msg: "checksum mismatch: the file was changed or truncated after it was written; re-plan"}
	}
	p := &plan.Plan{Mode: f.Mode, Base: f.Base, Head: f.Head}
	desired := map[string]*configtree.Tree{}
	var errs []error
	for i, fd := range f.Devices {
		if fd.Name == "" {
			errs = append(errs, fmt.Errorf("device %d has no name", i))
			continue
		}
		d := &plan.Device{Name: fd.Name, Platform: fd.Platform, Fingerprint: fd.Fingerprint}
		if fd.Error != "" {
			d.Err = errors.New(fd.Error)
		}
		for j, c := range fd.Changes {
			a, err := action(c.Action)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: change %d: %w", fd.Name, j, err))
				continue
			}
			if _, err := configtree.ParsePath(c.Path); err != nil {
				errs = append(errs, fmt.Errorf("%s: change %d: %w", fd.Name, j, err))
				continue
			}
			if c.Node == nil || slices.Contains(c.Ancestors, nil) {
				errs = append(errs, fmt.Errorf("%s: change %d (%s): node missing", fd.Name, j, c.Path))
				continue
			}
			d.Changes = append(d.Changes, plan.Change{Reason: c.Reason, Change: configtree.Change{
				Action: a, Path: c.Path, Leaf: c.Leaf, Before: c.Before, After: c.After,
				Owners: c.Owners, Node: c.Node, Ancestors: c.Ancestors,
			}})
		}
		if fd.Live != nil {
			if err := sameChanges(fd.Name, configtree.Diff(nonNil(fd.Live), nonNil(fd.Desired)), d.Changes); err != nil {
				errs = append(errs, err)
			}
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

// sameChanges checks that the stored changes are the diff of the stored trees.
func sameChanges(dev string, recomputed []configtree.Change, stored []plan.Change) error {
	if len(recomputed) != len(stored) {
		return fmt.Errorf("%s: %d changes stored, the trees give %d", dev, len(stored), len(recomputed))
	}
	for i, c := range recomputed {
		s := stored[i]
		if c.Action != s.Action || c.Path != s.Path || c.After != s.After || c.Before != s.Before {
			return fmt.Errorf("%s: change %d is %c %s, the trees give %c %s", dev, i, s.Action, s.Path, c.Action, c.Path)
		}
	}
	return nil
}
