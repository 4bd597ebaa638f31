package session

import (
	"slices"
	"strings"
	"time"
)

// State is where a device's session stands.
type State string

const (
	// StateIdle: open, in the pool, waiting for a lease.
	StateIdle State = "idle"
	// StateLeased: open and in use by a step (plan, apply, recovery).
	StateLeased State = "leased"
	// StateConnecting: being opened.
	StateConnecting State = "connecting"
	// StateKeepalive: open; the pool is sending it its keepalive.
	StateKeepalive State = "keepalive"
	// StateDown: lost or not opened; the pool opens it again after
	// Health.NextAttempt (with Options.Reconnect), or the next lease does.
	StateDown State = "down"
	// StateClosed: closed on purpose (idle timeout, the pool closing), or
	// never opened.
	StateClosed State = "closed"
)

// Health is one device's session as the pool sees it.
type Health struct {
	Device    string
	State     State
	SessionID string    // the open session's id; "" without one
	Opened    time.Time // when the open session was opened; zero without one
	LastUsed  time.Time // when a lease last handed it back; zero before
	// Failures counts, in a row, the dials that failed and the sessions
	// lost (no answer in time, transport gone, keepalive failed); 0 once a
	// session opens.
	Failures int
	// Reconnects counts the sessions opened after the device's first one.
	Reconnects  int
	LastError   string    // the last failure, kept after a recovery
	NextAttempt time.Time // the next background reconnect, while down
}

// Age is how long the open session has been open at now; 0 without one.
func (h Health) Age(now time.Time) time.Duration {
	if h.Opened.IsZero() {
		return 0
	}
	return now.Sub(h.Opened)
}

// Health returns every device's session, by device name.
func (p *Pool) Health() []Health {
	p.mu.Lock()
	out := make([]Health, 0, len(p.devices))
	for _, e := range p.devices {
		h := Health{Device: e.name, State: e.state, SessionID: e.id, Opened: e.opened, LastUsed: e.lastUsed,
			Failures: e.failures, Reconnects: e.reconnects, LastError: e.lastErr}
		if e.state == StateDown && p.opts.Reconnect.Base > 0 {
			h.NextAttempt = e.nextAttempt
		}
		out = append(out, h)
	}
	p.mu.Unlock()
	slices.SortFunc(out, func(a, b Health) int { return strings.Compare(a.Device, b.Device) })
	return out
}

// Stats are the pool's counters since New, and its sessions now.
type Stats struct {
	Open   int // sessions open (idle, leased or in keepalive)
	Leased int // of which leased
	Down   int // devices whose session is lost or could not be opened

	Leases            uint64 // sessions handed out
	Dials             uint64 // sessions opened
	Reconnects        uint64 // sessions opened for a device that had one before
	DialFailures      uint64 // dials that failed
	Lost              uint64 // sessions discarded after a failure (keepalive ones included)
	KeepaliveFailures uint64 // keepalives that failed
	Keepalives        uint64 // keepalives sent
	IdleClosed        uint64 // sessions closed by the idle timeout
}

// Stats returns the counters and the sessions open now.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.stats
	for _, e := range p.devices {
		if e.sess != nil {
			st.Open++
		}
		switch e.state {
		case StateLeased:
			st.Leased++
		case StateDown:
			st.Down++
		}
	}
	return st
}
