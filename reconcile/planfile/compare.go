package planfile

import (
	"fmt"
	"slices"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/plan"
)

// ChangedError is a saved plan that a fresh plan of the same devices, from
// the same desired trees, no longer gives: a device changed since the plan
// was made (DESIGN invariant 2: apply never guesses).
type ChangedError struct {
	Device string
	Change int             // index of the first differing change in the saved plan; -1 when the changes agree
	Path   configtree.Path // its path, or the fresh plan's when the saved one has fewer changes
	Detail string
}

func (e *ChangedError) Error() string {
	if e.Change < 0 {
		return fmt.Sprintf("%s: changed since the plan was made: %s: re-run plan", e.Device, e.Detail)
	}
	return fmt.Sprintf("%s: changed since the plan was made: change %d (%s): %s: re-run plan", e.Device, e.Change, e.Path, e.Detail)
}

// Compare checks that fresh, planned again from the saved plan's desired
// trees against the devices now, is the saved plan: the same devices, the
// same fingerprints, and change by change the same action, path, values,
// owners, reason and edit-config. It returns a *ChangedError for the first
// device that differs, in name order, or nil. A device the saved plan
// could not plan is not compared: such a plan is not applied at all.
func Compare(saved, fresh *plan.Plan) error {
	for _, s := range saved.Devices {
		f := fresh.Device(s.Name)
		switch {
		case s.Err != nil:
			continue
		case f == nil:
			return &ChangedError{Device: s.Name, Change: -1, Detail: "not planned again"}
		case f.Err != nil:
			return &ChangedError{Device: s.Name, Change: -1, Detail: "reading it again: " + f.Err.Error()}
		}
		if err := compareDevice(s, f); err != nil {
			return err
		}
	}
	for _, f := range fresh.Devices {
		if saved.Device(f.Name) == nil && len(f.Changes) > 0 {
			return &ChangedError{Device: f.Name, Change: 0, Path: f.Changes[0].Path, Detail: "the saved plan does not have this device"}
		}
	}
	return nil
}

func compareDevice(s, f *plan.Device) error {
	for i := range max(len(s.Changes), len(f.Changes)) {
		switch {
		case i >= len(s.Changes):
			c := f.Changes[i]
			return &ChangedError{Device: s.Name, Change: i, Path: c.Path, Detail: fmt.Sprintf("the device now also needs %c %s", c.Action, c.Path)}
		case i >= len(f.Changes):
			return &ChangedError{Device: s.Name, Change: i, Path: s.Changes[i].Path, Detail: "no longer needed"}
		}
		if d := changeDiff(s.Changes[i], f.Changes[i]); d != "" {
			return &ChangedError{Device: s.Name, Change: i, Path: s.Changes[i].Path, Detail: d}
		}
	}
	for _, l := range []struct {
		what        string
		saved, seen []configtree.Held
	}{{"adopted", s.Adopted, f.Adopted}, {"kept", s.Kept, f.Kept}, {"claimed", s.Claimed, f.Claimed}} {
		if !samePaths(l.saved, l.seen) {
			// Applying records what a plan adopts, keeps or shares: a
			// different set is a different plan.
			return &ChangedError{Device: s.Name, Change: -1, Detail: fmt.Sprintf("the pre-existing nodes it %s differ (%d now, the plan has %d)", l.what, len(l.seen), len(l.saved))}
		}
	}
	if s.Fingerprint != f.Fingerprint {
		// Same changes from a different managed configuration: a value
		// moved and came back, or a node beside the changed ones changed.
		return &ChangedError{Device: s.Name, Change: -1, Detail: fmt.Sprintf("the managed configuration differs (fingerprint %.12s, the plan has %.12s)", f.Fingerprint, s.Fingerprint)}
	}
	return nil
}

// changeDiff says how fresh differs from saved, or "".
func changeDiff(saved, fresh plan.Change) string {
	switch {
	case saved.Action != fresh.Action || saved.Path != fresh.Path:
		return fmt.Sprintf("now %c %s", fresh.Action, fresh.Path)
	case saved.Leaf != fresh.Leaf || saved.Before != fresh.Before || saved.After != fresh.After:
		return fmt.Sprintf("now %q → %q, the plan has %q → %q", fresh.Before, fresh.After, saved.Before, saved.After)
	case !slices.Equal(saved.Owners, fresh.Owners):
		return fmt.Sprintf("now owned by %q, the plan says %q", fresh.Owners, saved.Owners)
	case saved.Reason != fresh.Reason:
		return fmt.Sprintf("now %q, the plan says %q", fresh.Reason, saved.Reason)
	}
	// What goes on the wire: namespaces, keys, values of the node and of
	// its ancestors.
	a, err1 := configtree.EditConfig([]configtree.Change{saved.Change})
	b, err2 := configtree.EditConfig([]configtree.Change{fresh.Change})
	if err1 != nil || err2 != nil || a != b {
		return "the edit it sends differs"
	}
	return ""
}

func samePaths(a, b []configtree.Held) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Path != b[i].Path || a[i].Value != b[i].Value || !slices.Equal(a[i].Owners, b[i].Owners) || !slices.Equal(a[i].Holders, b[i].Holders) {
			return false
		}
	}
	return true
}
