package orders

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// Progress is what one pass of the daemon knows about the applied branch.
type Progress struct {
	Head   string // the head it fetched
	Commit string // the commit it reconciled the network to
	// Applied is the last commit every device was brought to; "" if none.
	Applied string
	// Failed names the services on a device the pass failed on, with why.
	Failed map[string]string
	// InSync names the services whose every device is in sync with
	// Commit: applied, even while an unrelated device keeps Applied back.
	InSync map[string]bool
}

// Follow moves the orders on after a pass: pr_open → merged once the head
// holds the order's file (whatever the merge method: a squash or a rebase
// makes new commits, so the branch's own commit is not what to look for),
// merged → applied once the service's devices (or every device) were
// brought to a commit containing the merge, merged → failed when a pass at such a commit failed on a device
// of the service (and failed → applied when a later pass succeeds).
//
// Follow does not wait for a Submit in flight (which may be pushing for
// minutes): Submit writes only orders still proposing, Follow only the
// others.
func (in *Intake) Follow(ctx context.Context, p Progress) error {
	open, err := in.cfg.Journal.OrdersIn(ctx, StatePROpen, StateMerged, StateFailed)
	if err != nil || len(open) == 0 {
		return err
	}
	var headFS fs.FS
	var errs []error
	for _, o := range open {
		before := o
		if o.State == StatePROpen && p.Head != "" {
			if headFS == nil {
				rv, err := in.cfg.Mirror.Revision(p.Head)
				if err != nil {
					return fmt.Errorf("orders: follow: %w", err)
				}
				if headFS, err = rv.FS(); err != nil {
					return fmt.Errorf("orders: follow: %w", err)
				}
			}
			if _, err := fs.Stat(headFS, o.Path); err == nil {
				o.State, o.MergeCommit, o.Merged = StateMerged, p.Head, in.now()
				in.log.Info("order merged", "order", o.ID, "commit", p.Head)
			}
		}
		if o.State == StateMerged || o.State == StateFailed {
			applied, err := in.contains(ctx, p.Applied, o.MergeCommit)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			reconciled, err := in.contains(ctx, p.Commit, o.MergeCommit)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			name := strings.TrimSuffix(path.Base(o.Path), ".yaml")
			why, failed := p.Failed[name]
			switch {
			case applied || reconciled && p.InSync[name]:
				o.State, o.Applied, o.Detail = StateApplied, in.now(), ""
				in.log.Info("order applied", "order", o.ID, "commit", p.Applied)
			case reconciled && failed:
				o.State, o.Detail = StateFailed, why
				in.log.Warn("order failed to apply", "order", o.ID, "commit", p.Commit, "reason", why)
			}
		}
		if o != before {
			if err := in.cfg.Journal.UpdateOrder(ctx, o); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// contains reports whether commit is at or after ancestor on the branch.
func (in *Intake) contains(ctx context.Context, commit, ancestor string) (bool, error) {
	if commit == "" || ancestor == "" {
		return false, nil
	}
	if commit == ancestor {
		return true, nil
	}
	ok, err := in.cfg.Mirror.IsAncestor(ctx, ancestor, commit)
	if err != nil {
		return false, fmt.Errorf("orders: is %s in %s: %w", ancestor, commit, err)
	}
	return ok, nil
}
