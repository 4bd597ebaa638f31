package apply

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/schema"
)

// Defaults of Options.
const (
	DefaultConcurrency    = 10
	DefaultLockWait       = 60 * time.Second
	DefaultConfirmTimeout = 120 * time.Second
)

// Back-off between lock attempts: doubling from lockBackoffMin up to
// lockBackoffMax, each pause drawn from [d/2, d] so that several netrecon
// runs waiting for one operator do not retry in step.
const (
	lockBackoffMin = 250 * time.Millisecond
	lockBackoffMax = 5 * time.Second
)

// cleanupTimeout bounds the rollback of one device. Without Options.Stop,
// rollback runs on a context detached from the caller's: a cancelled apply
// must still cancel its confirmed commits rather than wait for the
// confirm-timeout. With Options.Stop, Stop is that request, and the caller's
// context is the hard cancel that bounds the rollback too.
const cleanupTimeout = 60 * time.Second

// stepTimeout, on top of the lock waits, bounds one step of one device (open,
// prepare, stage, confirm): each RPC has the driver's deadline already; this
// is the guard rail for a device that answers every RPC just in time.
const stepTimeout = 5 * time.Minute

// Options shape Apply. The zero value of each field but Dialer and Journal
// is usable.
type Options struct {
	// Dialer opens sessions to the devices. Required.
	Dialer reconcile.Dialer
	// Journal records the run, write-ahead, for Recover. Required.
	Journal *journal.Journal
	// Concurrency bounds the devices worked on at once (default 10).
	Concurrency int
	// LockWait bounds the time spent waiting for a lock another session holds
	// (the sum of the back-off pauses; default 60 s).
	LockWait time.Duration
	// ConfirmTimeout is the confirm-timeout of the confirmed commit: how long a
	// device keeps an unconfirmed change if netrecon dies (default 120 s,
	// rounded up to whole seconds on the wire).
	ConfirmTimeout time.Duration
	// NoAtomic applies device by device, each committed and confirmed alone.
	NoAtomic bool
	// EndSessions says that nothing uses the devices' sessions after the run
	// (a CLI apply): a device confirmed on its new configuration ends its
	// session at once, which releases its locks (RFC 6241 §7.5, checked on
	// yuma123 by drivers/netconf's TestLabCloseReleasesLocks), instead of
	// unlocking first and leaving the session to the caller: two requests
	// fewer per device, and the session's end overlaps the journal's last
	// writes. A device that failed still discards and unlocks before its
	// session goes. Off, a daemon's pool keeps the unlocked sessions warm.
	EndSessions bool
	// Validate says, per platform, whether to send <validate> before the
	// commit. A platform not listed validates, except "ietf": the lab's
	// yuma123 netconfd voids a commit that follows <validate> (lab/NOTES.md).
	Validate map[string]bool
	// Guard, when set, is asked before a device is changed (operator logged
	// in, freeze window). An error defers the device, and the whole change set
	// when atomic (*DeferredError).
	Guard func(ctx context.Context, dev *schema.Device, d reconcile.Monitor) error
	// Stop, when set and done, stops the apply gracefully (an operator's
	// first Ctrl-C): before the confirm step (phase 2) nothing new starts,
	// the steps in flight are cut short and every device of the change set is
	// rolled back, each read back; once the confirm step has begun it is
	// finished, since stopping there would split the change set. The result
	// says Stopped.
	//
	// With Stop set, Apply's ctx is the hard cancel (a second Ctrl-C): when it
	// ends, Apply returns at once, rollbacks included, leaving each device
	// with an unconfirmed commit to its confirm-timeout and the run
	// unfinished in the journal for Recover (the result says Abandoned).
	// Without Stop, ending ctx stops and rolls back as Stop does, on a
	// context detached from ctx (bounded by a cleanup timeout), except that
	// the confirm step is cut too.
	Stop context.Context
	// Summary words the run's one-line summary, journaled with its outcome
	// and logged; nil journals none. It is injected because wording is the
	// views' job (cmd/netrecon passes views.ApplySummary).
	Summary func(*Result) string
	// Reporter receives progress events; nil sends none. Calls are serialised.
	Reporter Reporter
	// Logger receives one line per event and error; nil discards.
	Logger *slog.Logger
	// StartedBy and IntentCommit are recorded with the run; IntentCommit is
	// also recorded with each device's applied tree.
	StartedBy, IntentCommit string
	// Sleep pauses between lock attempts; nil waits on a timer. Tests inject it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// check fills the defaults and reports every invalid field at once.
func (o Options) check() (Options, error) {
	var errs []error
	if o.Dialer == nil {
		errs = append(errs, errors.New("Options.Dialer is required"))
	}
	if o.Journal == nil {
		errs = append(errs, errors.New("Options.Journal is required"))
	}
	if o.Concurrency < 0 {
		errs = append(errs, fmt.Errorf("Options.Concurrency %d is negative", o.Concurrency))
	}
	if o.LockWait < 0 {
		errs = append(errs, fmt.Errorf("Options.LockWait %s is negative", o.LockWait))
	}
	if o.ConfirmTimeout < 0 {
		errs = append(errs, fmt.Errorf("Options.ConfirmTimeout %s is negative", o.ConfirmTimeout))
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.LockWait == 0 {
		o.LockWait = DefaultLockWait
	}
	if o.ConfirmTimeout == 0 {
		o.ConfirmTimeout = DefaultConfirmTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return o, errors.Join(errs...)
}

// validates reports whether to send <validate> on platform.
func (o Options) validates(platform string) bool {
	if v, ok := o.Validate[platform]; ok {
		return v
	}
	return platform != "ietf"
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
