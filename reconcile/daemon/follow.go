package daemon

import (
	"context"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/schema"
)

// Follower keeps something outside the network in step with main after each
// pass: IRR registration (package irr). It is told the intent and commit the
// pass reconciled to once the devices are done, and may raise alarms; it
// applies nothing to a device (DESIGN.md: no second apply path). Follow is
// called every pass, so it must be level-triggered: the same intent again
// only moves its own work on.
type Follower interface {
	Follow(ctx context.Context, in *schema.Intent, commit string) error
	// Status is its part of the status document.
	Status(ctx context.Context) ([]api.IRRRegistration, error)
}

// FollowerAlarms lets a Follower raise and clear the daemon's alarms, which
// are journaled, notified and shown like the daemon's own. The subject takes
// the place of a device ("JPIRR/AS-EXAMPLE").
type FollowerAlarms struct{ s *alarmSet }

// Raise raises the alarm kind about subject, or updates the active one.
func (a FollowerAlarms) Raise(ctx context.Context, kind, subject, message string) {
	a.s.raise(ctx, Alarm{Kind: AlarmKind(kind), Device: subject, Message: message})
}

// Clear ends the alarm kind about subject, if it is active.
func (a FollowerAlarms) Clear(ctx context.Context, kind, subject string) {
	a.s.clear(ctx, AlarmKind(kind), subject)
}

// follow runs the Follower after a pass that loaded an intent, and keeps
// its status for the status document. Its failure is logged, never the
// pass's: the devices are reconciled either way.
func (d *Daemon) follow(ctx context.Context, s *passState) {
	if d.follower == nil || s.intent == nil || s.commit == "" {
		return
	}
	if err := d.follower.Follow(ctx, s.intent, s.commit); err != nil {
		s.log.Warn("irr: follow", "commit", s.commit, "err", err)
	}
	st, err := d.follower.Status(ctx)
	if err != nil {
		s.log.Warn("irr: status", "err", err)
		return
	}
	d.mu.Lock()
	d.irr = st
	d.mu.Unlock()
	d.changed()
}

// newFollower builds Options.Follower's follower once the journal is open.
func (d *Daemon) newFollower(j *journal.Journal) {
	if d.opts.Follower != nil {
		d.follower = d.opts.Follower(j, FollowerAlarms{d.alarms}, d.cfg)
	}
}
