package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile"
)

// lease is a session handed out by a Pool: a reconcile.Device that tracks
// what its holder did with it, so that Close can tell whether the session
// may serve the next lease.
type lease struct {
	p    *Pool
	e    *entry
	name string

	mu       sync.Mutex
	s        reconcile.Device
	reused   bool  // s was open before this lease
	calls    int   // RPCs sent on this lease
	broken   error // the failure that made s unusable
	released bool
	locks    []string // datastores locked through this lease
	dirty    bool     // the candidate holds an edit not committed nor discarded
	pending  bool     // a confirmed commit of this lease is not confirmed nor cancelled
}

// retryable names the operations a lease may send again on a new session when
// its first RPC finds the pooled session dead: reads, and a lock (a lock
// taken by a dead session ended with it).
var retryable = map[string]bool{"get-config": true, "sessions": true, "lock": true}

// call runs fn on the lease's session and records a failure that makes the
// session unusable.
func (l *lease) call(ctx context.Context, op string, fn func(s reconcile.Device) error) error {
	l.mu.Lock()
	if l.released {
		l.mu.Unlock()
		return fmt.Errorf("%s: %s: %w (the session was handed back)", l.name, op, reconcile.ErrSessionLost)
	}
	s, first, reused := l.s, l.calls == 0, l.reused
	l.calls++
	l.mu.Unlock()
	err := fn(s)
	if err == nil || !unusable(err) {
		return err
	}
	if first && reused && retryable[op] && !timedOut(err) && ctx.Err() == nil {
		ns, derr := l.p.replace(ctx, l, err)
		if derr != nil {
			err = fmt.Errorf("%w; opening a new session: %w", err, derr)
		} else {
			l.mu.Lock()
			l.s, l.reused = ns, false
			l.mu.Unlock()
			if err = fn(ns); err == nil || !unusable(err) {
				return err
			}
		}
	}
	l.mu.Lock()
	if l.broken == nil {
		l.broken = err
	}
	l.mu.Unlock()
	return err
}

// unusable reports an error after which the session must not be used again:
// the session is lost (no answer in time, transport gone), or the RPC was
// cut by its context, which the driver answers by closing the session.
func unusable(err error) bool {
	return errors.Is(err, reconcile.ErrSessionLost) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// timedOut reports an RPC that got no answer in time, as the driver's
// timeout errors say (net.Error's Timeout): the device may have carried it
// out, so it is not sent again.
func timedOut(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

func (l *lease) failed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.broken != nil
}

func (l *lease) err() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.broken == nil {
		return ""
	}
	return l.broken.Error()
}

func (l *lease) session() reconcile.Device {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s
}

// GetConfig implements reconcile.Reader.
func (l *lease) GetConfig(ctx context.Context, source string, filter *configtree.Tree) (*configtree.Tree, error) {
	var t *configtree.Tree
	err := l.call(ctx, "get-config", func(s reconcile.Device) (err error) {
		t, err = s.GetConfig(ctx, source, filter)
		return err
	})
	return t, err
}

// GetConfigDigest implements reconcile.DigestReader. A session without it
// is read in full, with the zero digest: nothing is taken as known.
func (l *lease) GetConfigDigest(ctx context.Context, source string, filter *configtree.Tree, known reconcile.Digest) (*configtree.Tree, reconcile.Digest, error) {
	var t *configtree.Tree
	var sum reconcile.Digest
	err := l.call(ctx, "get-config", func(s reconcile.Device) (err error) {
		if r, ok := s.(reconcile.DigestReader); ok {
			t, sum, err = r.GetConfigDigest(ctx, source, filter, known)
			return err
		}
		t, err = s.GetConfig(ctx, source, filter)
		return err
	})
	return t, sum, err
}

// Lock implements reconcile.Transaction.
func (l *lease) Lock(ctx context.Context, target string) error {
	err := l.call(ctx, "lock", func(s reconcile.Device) error { return s.Lock(ctx, target) })
	if err == nil {
		l.mu.Lock()
		l.locks = append(l.locks, target)
		l.mu.Unlock()
	}
	return err
}

// Unlock implements reconcile.Transaction.
func (l *lease) Unlock(ctx context.Context, target string) error {
	err := l.call(ctx, "unlock", func(s reconcile.Device) error { return s.Unlock(ctx, target) })
	if err == nil {
		l.mu.Lock()
		if i := slices.Index(l.locks, target); i >= 0 {
			l.locks = slices.Delete(l.locks, i, i+1)
		}
		l.mu.Unlock()
	}
	return err
}

// EditConfig implements reconcile.Transaction. A failed edit may have left
// part of itself in the candidate, so it counts as an edit too.
func (l *lease) EditConfig(ctx context.Context, target string, changes []configtree.Change) error {
	err := l.call(ctx, "edit-config", func(s reconcile.Device) error { return s.EditConfig(ctx, target, changes) })
	if target == reconcile.Candidate {
		l.mu.Lock()
		l.dirty = true
		l.mu.Unlock()
	}
	return err
}

// Discard implements reconcile.Transaction.
func (l *lease) Discard(ctx context.Context) error {
	err := l.call(ctx, "discard-changes", func(s reconcile.Device) error { return s.Discard(ctx) })
	if err == nil {
		l.mu.Lock()
		l.dirty = false
		l.mu.Unlock()
	}
	return err
}

// Validate implements reconcile.Transaction.
func (l *lease) Validate(ctx context.Context, source string) error {
	return l.call(ctx, "validate", func(s reconcile.Device) error { return s.Validate(ctx, source) })
}

// Commit implements reconcile.Transaction. A confirmed commit leaves this
// lease's commit pending; a commit without <confirmed/> confirms it (RFC
// 6241 8.4.1).
func (l *lease) Commit(ctx context.Context, o reconcile.CommitOptions) error {
	err := l.call(ctx, "commit", func(s reconcile.Device) error { return s.Commit(ctx, o) })
	if err == nil {
		l.mu.Lock()
		l.dirty = false
		l.pending = o.Confirmed
		l.mu.Unlock()
	}
	return err
}

// CancelCommit implements reconcile.Transaction.
func (l *lease) CancelCommit(ctx context.Context, persistID string) error {
	err := l.call(ctx, "cancel-commit", func(s reconcile.Device) error { return s.CancelCommit(ctx, persistID) })
	if err == nil {
		l.mu.Lock()
		l.pending, l.dirty = false, false
		l.mu.Unlock()
	}
	return err
}

// Sessions implements reconcile.Monitor.
func (l *lease) Sessions(ctx context.Context) ([]reconcile.MonitoringSession, error) {
	var ss []reconcile.MonitoringSession
	err := l.call(ctx, "sessions", func(s reconcile.Device) (err error) {
		ss, err = s.Sessions(ctx)
		return err
	})
	return ss, err
}

// SessionID implements reconcile.Monitor.
func (l *lease) SessionID() string { return l.session().SessionID() }

// OwnSessionIDs names every session on the device that is netrecon's: this
// one, and the ones the pool closed or lost lately, which the device may
// still list. The operator-session guard skips them.
func (l *lease) OwnSessionIDs() []string { return l.p.ownIDs(l.e) }

// Capabilities implements reconcile.Device.
func (l *lease) Capabilities() reconcile.Capabilities { return l.session().Capabilities() }

// End hands the session back to be ended, with whatever locks it holds:
// they end with it (RFC 6241 §7.5). It is for a holder done with the device
// for good (a CLI apply's device that confirmed), which spares the unlocks.
// A confirmed commit still pending survives only with a persist id, and
// rolls back at its timeout. Ending twice, or after Close, is harmless.
func (l *lease) End(ctx context.Context) error {
	l.mu.Lock()
	if l.released {
		l.mu.Unlock()
		return nil
	}
	l.released = true
	s, why := l.s, ""
	if l.broken != nil {
		why = l.broken.Error()
	}
	l.mu.Unlock()
	return l.p.release(ctx, l, s, false, why)
}

// Close hands the session back to the pool: kept for the next lease when it
// works and holds nothing of this lease (no lock, no candidate edit, no
// confirmed commit pending), closed otherwise. Closing twice is harmless.
func (l *lease) Close(ctx context.Context) error {
	l.mu.Lock()
	if l.released {
		l.mu.Unlock()
		return nil
	}
	l.released = true
	s := l.s
	keep := l.broken == nil && len(l.locks) == 0 && !l.dirty && !l.pending
	why := ""
	if l.broken != nil {
		why = l.broken.Error()
	}
	if !keep && why == "" {
		l.p.log.Info("session: closing a session handed back with state on it", "device", l.name,
			"locks", l.locks, "candidate_edited", l.dirty, "confirmed_commit_pending", l.pending)
	}
	l.mu.Unlock()
	return l.p.release(ctx, l, s, keep, why)
}
