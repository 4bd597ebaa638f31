package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/netrecon/netrecon/backoff"
	"github.com/netrecon/netrecon/pool"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/schema"
)

// ErrClosed is a lease asked of a pool after Close.
var ErrClosed = errors.New("session pool closed")

// errPrefetched is a prefetch that found the device's session open.
var errPrefetched = errors.New("session already open")

// DefaultConcurrency bounds the keepalives and reconnects a Pool runs at
// once, unless Options.Concurrency says otherwise.
const DefaultConcurrency = 10

// ownGrace is how long the id of a session that ended still counts as
// netrecon's own (OwnSessionIDs): a device may list a session for a while
// after its connection closed. Devices number their sessions upwards
// (yuma123, the simulator), so an id is not given to an operator meanwhile.
const ownGrace = 10 * time.Minute

// maxEnded bounds the ended session ids kept per device.
const maxEnded = 16

// Options shape a Pool. The zero value is a pool for one run: no keepalive,
// no idle timeout, no background reconnect.
type Options struct {
	// Keepalive is how long an idle session may go without an RPC before the
	// pool sends one (Probe) to keep it open and to find it dead before a
	// pass does; 0 sends none.
	Keepalive time.Duration
	// IdleTimeout closes a session nobody leased for this long, and stops
	// reconnecting a device nobody asked for; 0 keeps sessions until Close.
	IdleTimeout time.Duration
	// Reconnect is the back-off before opening a device's session again in
	// the background after it was lost or could not be opened: Base after
	// the first failure, doubled after each further one, at most Max. A zero
	// Base reconnects nothing in the background: the next lease dials.
	Reconnect backoff.Policy
	// Probe is the keepalive RPC; nil reads the device's NETCONF sessions
	// (RFC 6022 netconf-state), a small read every device the operator guard
	// reads answers.
	Probe func(ctx context.Context, d reconcile.Device) error
	// Concurrency bounds the keepalives and reconnects in flight (default
	// DefaultConcurrency): opening many sessions at once overwhelms a
	// device's SSH server (lab/NOTES.md).
	Concurrency int
	// Logger receives session events; nil discards.
	Logger *slog.Logger
	// Now is the clock of the health report and of the timeouts; nil is
	// time.Now.
	Now func() time.Time
}

func (o Options) check() error {
	var errs []error
	if o.Keepalive < 0 {
		errs = append(errs, fmt.Errorf("session: Keepalive %s is negative", o.Keepalive))
	}
	if o.IdleTimeout < 0 {
		errs = append(errs, fmt.Errorf("session: IdleTimeout %s is negative", o.IdleTimeout))
	}
	if o.Reconnect.Base < 0 || o.Reconnect.Max < o.Reconnect.Base {
		errs = append(errs, fmt.Errorf("session: Reconnect %s..%s: want 0 <= Base <= Max", o.Reconnect.Base, o.Reconnect.Max))
	}
	if o.Concurrency < 0 {
		errs = append(errs, fmt.Errorf("session: Concurrency %d is negative", o.Concurrency))
	}
	return errors.Join(errs...)
}

// background reports whether the pool has work of its own between leases.
func (o Options) background() bool {
	return o.Keepalive > 0 || o.IdleTimeout > 0 || o.Reconnect.Base > 0
}

// Pool keeps at most one session per device and leases it (see the package
// documentation). Its methods are safe for concurrent use.
type Pool struct {
	opts Options
	log  *slog.Logger
	now  func() time.Time

	ctx    context.Context // ends at Close: background work, waiting leases
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	devices map[string]*entry
	closed  bool
	stats   Stats
}

// entry is one device's session and its history. Fields are under Pool.mu.
type entry struct {
	name     string
	dev      *schema.Device   // as last leased
	dial     reconcile.Dialer // the dialer of the last lease: background reconnects use it
	identity string           // what the open session was dialed for

	sess reconcile.Device // the open session; nil when there is none
	id   string           // its session-id

	// owner is who may use or replace sess: a *lease, or maintenance; nil
	// when the entry is free. free is closed when the owner gives it back.
	owner any
	free  chan struct{}

	state       State
	opened      time.Time // when sess was opened
	lastUsed    time.Time // when a lease last handed it back
	lastActive  time.Time // when an RPC on it last succeeded (keepalive clock)
	failures    int       // in a row: dials failed, sessions lost
	reconnects  int       // sessions opened after the first
	sessions    int       // sessions opened
	lastErr     string
	nextAttempt time.Time // background reconnect, while Down
	ended       []ended

	// prefetchErr is why a Prefetch dial for identity prefetchFor failed:
	// the next lease for that identity returns it instead of dialing again.
	prefetchErr error
	prefetchFor string
}

// ended is a session of the device that netrecon closed or lost.
type ended struct {
	id string
	at time.Time
}

// maintenance is the owner of an entry the pool itself works on.
type maintenance struct{}

// New returns a pool. With background work in o (keepalive, idle timeout,
// reconnect) it starts one goroutine, which Close ends.
func New(o Options) (*Pool, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Probe == nil {
		o.Probe = readSessions
	}
	p := &Pool{opts: o, log: o.Logger, now: o.Now, devices: map[string]*entry{}}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	if o.background() {
		p.wg.Go(p.maintain)
	}
	return p, nil
}

func readSessions(ctx context.Context, d reconcile.Device) error {
	_, err := d.Sessions(ctx)
	return err
}

// DeviceIdentity is what a session to dev depends on in the inventory: a
// device whose platform, address, port or credential references changed
// gets a new session.
func DeviceIdentity(dev *schema.Device) string {
	c := dev.Credentials
	return fmt.Sprintf("%s|%s|%d|%s|%s|%s|%s", dev.Platform, dev.Address, dev.Port, c.Username, c.PasswordEnv, c.PasswordFile, c.KeyFile)
}

// Dialer returns a reconcile.Dialer that leases each device's session from
// p, opening it with dial when none is open. identity tells what a session
// depends on besides the device's name (nil: DeviceIdentity); a session
// opened for another identity is closed and replaced. The leases' Close
// hands the session back.
func (p *Pool) Dialer(dial reconcile.Dialer, identity func(*schema.Device) string) reconcile.Dialer {
	if identity == nil {
		identity = DeviceIdentity
	}
	return reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
		return p.lease(ctx, dial, identity, dev, false)
	})
}

// Prefetch opens the sessions of devs in the background, at most
// Options.Concurrency at once, in the order given, with dial and identity as
// Dialer takes them; a device whose session is open or leased is left as it
// is. A short run spends most of its time setting sessions up (SSH, the
// NETCONF subsystem, the hellos: lab/NOTES.md), so opening them while the
// caller still reads its journal or settles a crashed run overlaps the two.
// Only what the caller will lease belongs in devs: a prefetched session is a
// session on the device, if only for the run's length.
//
// A prefetch that fails is not repeated: the next lease of that device (for
// the same identity) gets its error, as if it had dialed itself, so a device
// that does not answer costs one dial timeout, not two. Close stops the
// prefetch, waits for it and closes what it opened.
func (p *Pool) Prefetch(dial reconcile.Dialer, identity func(*schema.Device) string, devs []*schema.Device) {
	if identity == nil {
		identity = DeviceIdentity
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(devs) == 0 {
		return
	}
	devs = slices.Clone(devs)
	p.wg.Go(func() {
		pool.Pool{Limit: p.opts.Concurrency}.Run(p.ctx, len(devs), func(ctx context.Context, _, i int) {
			s, err := p.lease(ctx, dial, identity, devs[i], true)
			if errors.Is(err, errPrefetched) {
				return
			}
			if err != nil {
				p.log.Debug("session: prefetch failed", "device", devs[i].Name, "err", err)
				return
			}
			// Handing the lease back keeps the session (nothing was done
			// on it) for the caller's first lease.
			_ = s.Close(ctx)
		}, func(i int, err error) {
			p.log.Error("session: prefetch", "device", devs[i].Name, "err", err)
		})
	})
}

// lease hands out dev's session, dialing when there is none. prefetch marks
// the lease Prefetch takes: its dial failure is kept for the next lease.
func (p *Pool) lease(ctx context.Context, dial reconcile.Dialer, identity func(*schema.Device) string, dev *schema.Device, prefetch bool) (reconcile.Device, error) {
	if dev == nil {
		return nil, errors.New("session: no device given")
	}
	ident := identity(dev)
	l := &lease{p: p, name: dev.Name}
	var toClose []reconcile.Device
	p.mu.Lock()
	for {
		if p.closed {
			p.mu.Unlock()
			return nil, fmt.Errorf("%s: dial: %w", dev.Name, ErrClosed)
		}
		e := p.entry(dev.Name)
		if e.owner == nil {
			break
		}
		if old, ok := e.owner.(*lease); ok && old.failed() {
			// The lease that holds the device lost its session: the
			// session is dead, and the new lease takes the device over
			// (apply redials before it lets go of the old lease).
			if e.sess != nil {
				toClose = append(toClose, e.sess)
				p.endLocked(e, old.err())
			}
			p.give(e)
			break
		}
		free := e.free
		p.mu.Unlock()
		select {
		case <-free:
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: waiting for its session: %w", dev.Name, context.Cause(ctx))
		case <-p.ctx.Done():
			return nil, fmt.Errorf("%s: dial: %w", dev.Name, ErrClosed)
		}
		p.mu.Lock()
	}
	e := p.devices[dev.Name]
	p.take(e, l)
	l.e = e
	e.dev, e.dial = dev, dial
	if e.sess != nil && e.identity != ident {
		p.log.Info("session: the device's settings changed; closing its session", "device", dev.Name)
		toClose = append(toClose, e.sess)
		p.endLocked(e, "")
	}
	e.identity = ident
	s := e.sess
	if prefetch && s != nil {
		// Open already: nothing to prefetch, and no lease to count.
		p.give(e)
		p.mu.Unlock()
		closeAll(toClose)
		return nil, errPrefetched
	}
	if fetched := e.prefetchErr; fetched != nil {
		e.prefetchErr = nil
		if s == nil && e.prefetchFor == ident && !prefetch {
			p.give(e)
			p.mu.Unlock()
			closeAll(toClose)
			return nil, fetched
		}
	}
	p.stats.Leases++
	if s != nil {
		e.state = StateLeased
	}
	p.mu.Unlock()
	closeAll(toClose)

	if s == nil {
		var err error
		if s, err = p.open(ctx, e, dial, dev, StateLeased); err != nil {
			p.mu.Lock()
			if prefetch && ctx.Err() == nil {
				e.prefetchErr, e.prefetchFor = err, ident
			}
			p.give(e)
			p.mu.Unlock()
			return nil, err
		}
	} else {
		l.reused = true
		p.log.Debug("session: reused", "device", dev.Name, "session-id", s.SessionID())
	}
	l.s = s
	return l, nil
}

// entry returns name's entry, made on first use; p.mu must be held.
func (p *Pool) entry(name string) *entry {
	e := p.devices[name]
	if e == nil {
		e = &entry{name: name, state: StateClosed}
		p.devices[name] = e
	}
	return e
}

// take makes owner the entry's owner; p.mu must be held and the entry free.
func (p *Pool) take(e *entry, owner any) {
	e.owner = owner
	e.free = make(chan struct{})
}

// give frees the entry; p.mu must be held.
func (p *Pool) give(e *entry) {
	e.owner = nil
	if e.free != nil {
		close(e.free)
		e.free = nil
	}
}

// open dials the device for the entry's owner and records the session. The
// caller owns e and does not hold p.mu.
func (p *Pool) open(ctx context.Context, e *entry, dial reconcile.Dialer, dev *schema.Device, state State) (reconcile.Device, error) {
	p.mu.Lock()
	e.state = StateConnecting
	p.mu.Unlock()
	start := time.Now()
	s, err := dial.Dial(ctx, dev)
	p.mu.Lock()
	now := p.now()
	if err != nil {
		e.failures++
		e.lastErr = err.Error()
		e.state = StateDown
		e.nextAttempt = now.Add(p.opts.Reconnect.Delay(e.failures))
		p.stats.DialFailures++
		p.mu.Unlock()
		return nil, err
	}
	if p.closed {
		p.mu.Unlock()
		closeAll([]reconcile.Device{s})
		return nil, fmt.Errorf("%s: dial: %w", dev.Name, ErrClosed)
	}
	if e.sessions > 0 {
		e.reconnects++
		p.stats.Reconnects++
	}
	e.sessions++
	p.stats.Dials++
	e.sess, e.id = s, s.SessionID()
	e.opened, e.lastActive = now, now
	e.failures = 0
	e.state = state
	p.mu.Unlock()
	p.log.Debug("session: opened", "device", dev.Name, "session-id", e.id, "took_seconds", time.Since(start).Seconds())
	return s, nil
}

// endLocked forgets the entry's session (the caller closes it), keeping
// its id as netrecon's own for a while. why is the failure that ended it,
// "" for a planned end. p.mu must be held.
func (p *Pool) endLocked(e *entry, why string) {
	now := p.now()
	if e.id != "" {
		e.ended = append(e.ended, ended{id: e.id, at: now})
	}
	if len(e.ended) > maxEnded {
		e.ended = slices.Delete(e.ended, 0, len(e.ended)-maxEnded)
	}
	e.sess, e.id = nil, ""
	e.opened = time.Time{}
	if why == "" {
		e.state = StateClosed
		return
	}
	e.failures++
	e.lastErr = why
	e.state = StateDown
	e.nextAttempt = now.Add(p.opts.Reconnect.Delay(e.failures))
	p.stats.Lost++
}

// release takes back l's session: into the pool when keep, else closed.
// why says why a session that failed is dropped ("" when it did not fail).
func (p *Pool) release(ctx context.Context, l *lease, s reconcile.Device, keep bool, why string) error {
	p.mu.Lock()
	e := l.e
	if e.owner != l {
		// A newer lease took the device over after this one's session
		// failed; the dead session was closed then.
		p.mu.Unlock()
		return nil
	}
	e.lastUsed = p.now()
	if keep && !p.closed {
		e.lastActive = e.lastUsed
		e.state = StateIdle
		p.give(e)
		p.mu.Unlock()
		return nil
	}
	if e.sess != nil {
		p.endLocked(e, why)
	}
	if why == "" && p.opts.Reconnect.Base > 0 && !p.closed {
		// Closed for what the lease left on it, not for a fault: open it
		// again at the next round to stay warm.
		e.state, e.nextAttempt = StateDown, e.lastUsed
	}
	p.give(e)
	p.mu.Unlock()
	if why != "" {
		p.log.Info("session: discarded after a failure", "device", l.name, "err", why)
		// The session is broken; closing it only tears down what is left,
		// at once when the caller's ctx is done: an apply stopped at once
		// (a second Ctrl-C) must not wait for a device that answers slowly.
		_ = s.Close(ctx)
		return nil
	}
	if err := s.Close(context.WithoutCancel(ctx)); err != nil && !errors.Is(err, reconcile.ErrSessionLost) {
		return err
	}
	return nil
}

// replace swaps the lease's dead session for a new one, for the lease's
// first RPC (see lease.call).
func (p *Pool) replace(ctx context.Context, l *lease, why error) (reconcile.Device, error) {
	p.mu.Lock()
	e := l.e
	if e.owner != l || p.closed {
		p.mu.Unlock()
		return nil, errors.New("the pool took the device back")
	}
	old := e.sess
	p.endLocked(e, why.Error())
	dev, dial := e.dev, e.dial
	p.mu.Unlock()
	closeAll([]reconcile.Device{old})
	p.log.Info("session: the pooled session died while idle; opening a new one", "device", l.name, "err", why)
	return p.open(ctx, e, dial, dev, StateLeased)
}

// ownIDs are the ids of the device's sessions that are netrecon's: the open
// one and those that ended within ownGrace.
func (p *Pool) ownIDs(e *entry) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ids []string
	if e.id != "" {
		ids = append(ids, e.id)
	}
	cutoff := p.now().Add(-ownGrace)
	for _, x := range e.ended {
		if x.at.After(cutoff) && x.id != "" {
			ids = append(ids, x.id)
		}
	}
	return ids
}

// Retain closes the idle sessions of devices not in names and forgets them
// (a device that left the inventory). A session leased at the time goes
// back to the pool and is closed by the next Retain, or by the idle timeout.
func (p *Pool) Retain(names []string) {
	keep := map[string]bool{}
	for _, n := range names {
		keep[n] = true
	}
	var toClose []reconcile.Device
	p.mu.Lock()
	for name, e := range p.devices {
		if keep[name] || e.owner != nil {
			continue
		}
		if e.sess != nil {
			toClose = append(toClose, e.sess)
		}
		delete(p.devices, name)
	}
	p.mu.Unlock()
	closeAll(toClose)
}

// Close ends every idle session and the background work, and makes every
// later lease fail with ErrClosed. A lease still out is ended when it is
// handed back. Closing twice is harmless.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.cancel()
	p.mu.Unlock()
	// Background work in flight ends first: it sees the pool closed and
	// closes what it holds.
	p.wg.Wait()
	var toClose []reconcile.Device
	p.mu.Lock()
	for _, e := range p.devices {
		if e.owner == nil && e.sess != nil {
			toClose = append(toClose, e.sess)
			p.endLocked(e, "")
		}
	}
	p.mu.Unlock()
	return closeAll(toClose)
}

// closeAll ends sessions, several at once: each close-session waits for its
// answer.
func closeAll(ss []reconcile.Device) error {
	errs := make([]error, len(ss))
	pool.Pool{Limit: DefaultConcurrency}.Run(context.Background(), len(ss), func(_ context.Context, _, i int) {
		// Bounded by the driver's RPC deadline.
		if err := ss[i].Close(context.Background()); err != nil && !errors.Is(err, reconcile.ErrSessionLost) {
			errs[i] = err
		}
	}, func(i int, err error) { errs[i] = err })
	return errors.Join(errs...)
}
