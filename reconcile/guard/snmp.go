package guard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/schema"
)

// OIDHrSystemNumUsers is hrSystemNumUsers.0 (HOST-RESOURCES-MIB, RFC 2790):
// the number of users logged in, a Gauge32.
const OIDHrSystemNumUsers = ".1.3.6.1.2.1.25.1.5.0"

// DefaultSNMPMinInterval is the least time between two SNMP reads of one
// device when SNMPOptions.MinInterval is zero.
const DefaultSNMPMinInterval = 30 * time.Second

// SNMPReader reads one object from a device's SNMP agent at target
// (host:port); oid is numeric with a leading dot. cmd/netrecon adapts
// drivers/snmp's client to it.
type SNMPReader interface {
	Read(ctx context.Context, target, oid string) (SNMPValue, error)
}

// SNMPValue is what the guard reads: a number (of users logged in), a line of
// text (a vendor's flag, a script's output through net-snmp "extend"), or
// neither.
type SNMPValue struct {
	Type string  // the agent's type, for messages: "Gauge32", "OctetString", "IPAddress"...
	Int  *int64  // a numeric type's value
	Text *string // an OctetString's content
}

// SNMPOptions configure SNMPUsers.
type SNMPOptions struct {
	Client SNMPReader // required
	// OID is read from each device; "" means OIDHrSystemNumUsers. A numeric
	// OID gives a number; an OctetString (a vendor's flag, a script's
	// output through net-snmp "extend") is read as below.
	OID string
	// Threshold: a value above it defers the device (0: anyone logged in).
	Threshold int64
	// MinInterval is the least time between two reads of one device (0:
	// DefaultSNMPMinInterval). Checks in between reuse the last answer.
	MinInterval time.Duration
	// Target is the agent's host:port for a device; nil means the device's
	// address, port 161.
	Target func(dev *schema.Device) string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// SNMPGuard defers a device while its SNMP agent reports someone logged in.
// Make one with SNMPUsers.
type SNMPGuard struct {
	client    SNMPReader
	oid       string
	threshold int64
	interval  time.Duration
	target    func(dev *schema.Device) string
	now       func() time.Time

	mu      sync.Mutex
	devices map[string]*snmpEntry
}

// snmpEntry is the last answer of one device. sem (one slot) lets one check
// at a time poll, so concurrent checks of a device share a single read.
type snmpEntry struct {
	sem    chan struct{}
	polled time.Time // when the answer was read; zero: never
	value  SNMPValue
	err    error
	polls  atomic.Int64
}

// SNMPUsers reads opts.OID from each device's SNMP agent and defers the device
// when the value is above opts.Threshold. An OctetString is trimmed: "" passes,
// a decimal number is compared with the threshold, and any other text defers.
//
// It reads a device at most once per MinInterval and reuses that answer for
// the checks in between: SNMP costs a router CPU, and a daemon checking many
// change sets would otherwise poll it in bursts. The cache lives in this
// process only; it is a rate limit, not state.
//
// An SNMP failure (no answer, no such object, an unexpected type) defers the
// device too, wrapping the cause: the guard cannot tell whether an operator is
// logged in, and pushing a change under someone's hands is the worse mistake
// (fail closed). A failure is cached like an answer, so a silent agent is not
// hammered either.
func SNMPUsers(opts SNMPOptions) (*SNMPGuard, error) {
	var errs []error
	if opts.Client == nil {
		errs = append(errs, errors.New("guard snmp-users: Client is nil"))
	}
	oid := opts.OID
	if oid == "" {
		oid = OIDHrSystemNumUsers
	}
	oid, ok := parseOID(oid)
	if !ok {
		errs = append(errs, fmt.Errorf("guard snmp-users: OID %q is not numeric (like .1.3.6.1.2.1.1.1.0): there are no MIB files to resolve names", oid))
	}
	if opts.Threshold < 0 {
		errs = append(errs, fmt.Errorf("guard snmp-users: Threshold %d is negative", opts.Threshold))
	}
	if opts.MinInterval < 0 {
		errs = append(errs, fmt.Errorf("guard snmp-users: MinInterval %s is negative", opts.MinInterval))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	g := &SNMPGuard{
		client: opts.Client, oid: oid, threshold: opts.Threshold,
		interval: opts.MinInterval, target: opts.Target, now: opts.Now,
		devices: map[string]*snmpEntry{},
	}
	if g.interval == 0 {
		g.interval = DefaultSNMPMinInterval
	}
	if g.target == nil {
		g.target = func(dev *schema.Device) string { return net.JoinHostPort(dev.Address, "161") }
	}
	if g.now == nil {
		g.now = time.Now
	}
	return g, nil
}

// Polls returns how many SNMP reads of device the guard has started,
// answered or not.
func (g *SNMPGuard) Polls(device string) int {
	g.mu.Lock()
	e := g.devices[device]
	g.mu.Unlock()
	if e == nil {
		return 0
	}
	return int(e.polls.Load())
}

func (g *SNMPGuard) entry(device string) *snmpEntry {
	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.devices[device]
	if e == nil {
		e = &snmpEntry{sem: make(chan struct{}, 1)}
		g.devices[device] = e
	}
	return e
}

// Check implements Guard. The session d is not used: SNMP goes to the agent.
func (g *SNMPGuard) Check(ctx context.Context, dev *schema.Device, _ reconcile.Monitor) error {
	if dev == nil {
		return errNoDevice(NameSNMPUsers)
	}
	e := g.entry(dev.Name)
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("%s: guard %s: %w", dev.Name, NameSNMPUsers, context.Cause(ctx))
	}
	defer func() { <-e.sem }()

	now := g.now()
	// A clock that went back (now before the last poll) ends the cached
	// answer rather than keeping it until the clock catches up.
	if age := now.Sub(e.polled); e.polled.IsZero() || age >= g.interval || age < 0 {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: guard %s: %w", dev.Name, NameSNMPUsers, context.Cause(ctx))
		}
		e.polls.Add(1)
		v, err := g.client.Read(ctx, g.target(dev), g.oid)
		if err != nil && (ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
			// The caller stopped waiting: that says nothing about the
			// device, so nothing is cached. (The client may notice the
			// deadline a moment before ctx.Err does.)
			return fmt.Errorf("%s: guard %s: %w", dev.Name, NameSNMPUsers, err)
		}
		e.polled, e.value, e.err = now, v, err
	}
	retry := max(e.polled.Add(g.interval).Sub(now), 0)
	return g.decide(dev.Name, e.value, e.err, retry)
}

// decide turns an answer into the guard's result.
func (g *SNMPGuard) decide(device string, v SNMPValue, err error, retry time.Duration) error {
	deferred := func(reason string, cause error) error {
		return &DeferredError{Guard: NameSNMPUsers, Device: device, Reason: reason, RetryAfter: retry, Err: cause}
	}
	if err != nil {
		return deferred("cannot tell whether an operator is logged in (SNMP read failed)", err)
	}
	switch {
	case v.Int != nil:
		if n := *v.Int; n > g.threshold {
			return deferred(fmt.Sprintf("SNMP reports %d logged in (%s %s = %d, threshold %d)", n, g.oid, v.Type, n, g.threshold), nil)
		}
		return nil
	case v.Text != nil:
		s := strings.TrimSpace(*v.Text)
		if s == "" {
			return nil
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			if n > g.threshold {
				return deferred(fmt.Sprintf("SNMP reports an operator logged in (%s = %q, threshold %d)", g.oid, s, g.threshold), nil)
			}
			return nil
		}
		return deferred(fmt.Sprintf("SNMP reports an operator logged in (%s = %q)", g.oid, s), nil)
	default:
		return deferred(fmt.Sprintf("cannot tell whether an operator is logged in: %s is %s, want a number or a string", g.oid, v.Type), nil)
	}
}

// parseOID returns oid in numeric dotted form with a leading dot: at least two
// arcs (X.690 8.19), each a decimal number that fits 32 bits.
func parseOID(oid string) (string, bool) {
	s := strings.TrimPrefix(oid, ".")
	parts := strings.Split(s, ".")
	for _, p := range parts {
		if _, err := strconv.ParseUint(p, 10, 32); err != nil || p == "" || len(p) > 10 {
			return oid, false
		}
	}
	return "." + s, len(parts) >= 2
}
