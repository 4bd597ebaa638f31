package usage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/netrecon/netrecon/reconcile/guard"
)

// IF-MIB (RFC 2863) columns a poll reads.
const (
	OIDIfName        = ".1.3.6.1.2.1.31.1.1.1.1"
	OIDIfHCInOctets  = ".1.3.6.1.2.1.31.1.1.1.6"
	OIDIfHCOutOctets = ".1.3.6.1.2.1.31.1.1.1.10"
	OIDIfOperStatus  = ".1.3.6.1.2.1.2.2.1.8"
)

var columns = []string{OIDIfName, OIDIfHCInOctets, OIDIfHCOutOctets, OIDIfOperStatus}

// Value is one object an agent answered.
type Value struct {
	Type string  // the agent's type: "Counter64", "OctetString", "Integer"...
	Uint *uint64 // a non-negative number (counters, gauges, status codes)
	Text *string // an OctetString
}

// Table is what one table read returns: scalars by OID, rows by index,
// each row's values by column OID, and how many requests it cost.
type Table struct {
	Scalars  map[string]Value
	Rows     map[string]map[string]Value
	Requests int
}

// TableReader reads table columns (and scalars, in the same first request)
// from the agent at target with GETBULK; cmd/netrecon adapts
// drivers/snmp's client to it.
type TableReader interface {
	Table(ctx context.Context, target string, scalars, columns []string) (Table, error)
}

// Interface is one interface of a device, as a poll saw it.
type Interface struct {
	Name      string
	InOctets  uint64
	OutOctets uint64
	OperUp    bool
	OperState int64 // ifOperStatus: 1 up, 2 down, 7 lowerLayerDown...
}

// Snapshot is one poll of a device.
type Snapshot struct {
	At         time.Time
	Interfaces map[string]Interface // by ifName
	Scalars    map[string]Value
}

// Poller does every SNMP read of one device, at most once per interval.
type Poller struct {
	reader   TableReader
	device   string
	target   string
	interval time.Duration
	scalars  []string
	now      func() time.Time

	mu    sync.Mutex // held during a read: callers in the meantime share it
	snap  Snapshot
	err   error
	read  time.Time // when the last read started; zero: never
	polls int
	reqs  int
}

// Poll returns the device's last snapshot, reading the device first when
// the last read is at least interval old. A failed read is kept as long as
// an answer would be, so that a silent agent is not hammered either.
func (p *Poller) Poll(ctx context.Context) (Snapshot, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if age := now.Sub(p.read); !p.read.IsZero() && age >= 0 && age < p.interval {
		return p.snap, p.err
	}
	p.read = now
	p.polls++
	t, err := p.reader.Table(ctx, p.target, p.scalars, columns)
	p.reqs += t.Requests
	if err != nil && ctx.Err() != nil {
		p.read = time.Time{} // the caller gave up: that says nothing of the device
		return p.snap, fmt.Errorf("%s: snmp: %w", p.device, err)
	}
	if err != nil {
		p.err = fmt.Errorf("%s: snmp: %w", p.device, err)
		return p.snap, p.err
	}
	p.snap, p.err = snapshot(now, t), nil
	return p.snap, nil
}

func snapshot(at time.Time, t Table) Snapshot {
	s := Snapshot{At: at, Interfaces: map[string]Interface{}, Scalars: t.Scalars}
	for _, row := range t.Rows {
		name := row[OIDIfName].Text
		if name == nil || *name == "" {
			continue
		}
		i := Interface{Name: *name}
		if v := row[OIDIfHCInOctets].Uint; v != nil {
			i.InOctets = *v
		}
		if v := row[OIDIfHCOutOctets].Uint; v != nil {
			i.OutOctets = *v
		}
		if v := row[OIDIfOperStatus].Uint; v != nil {
			i.OperState = int64(*v)
			i.OperUp = *v == 1
		}
		s.Interfaces[i.Name] = i
	}
	return s
}

// Stats are a poller's counts: polls started, and requests sent.
func (p *Poller) Stats() (polls, requests int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.polls, p.reqs
}

// Set is the pollers of every device, by SNMP target. It satisfies
// guard.SNMPReader, so the SNMP guard reads through the same poller as the
// usage collection.
type Set struct {
	reader   TableReader
	scalars  []string
	interval func(device string) time.Duration
	now      func() time.Time

	mu      sync.Mutex
	byDev   map[string]*Poller
	targets map[string]*Poller
}

// SetOptions configure NewSet.
type SetOptions struct {
	Reader TableReader // required
	// Scalars are read along with every poll: the SNMP guard's OID.
	Scalars []string
	// Interval is the least time between two reads of a device; required.
	Interval func(device string) time.Duration
	Now      func() time.Time
}

// NewSet returns a set without pollers; Poller adds them.
func NewSet(o SetOptions) (*Set, error) {
	if o.Reader == nil || o.Interval == nil {
		return nil, errors.New("usage: Reader and Interval are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Set{reader: o.Reader, scalars: o.Scalars, interval: o.Interval, now: o.Now,
		byDev: map[string]*Poller{}, targets: map[string]*Poller{}}, nil
}

// Poller returns device's poller, made on first use for its target.
func (s *Set) Poller(device, target string) *Poller {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.byDev[device]; p != nil && p.target == target {
		return p
	}
	if p := s.targets[target]; p != nil && p.device == target {
		// The guard asked first: the device's poller is that one.
		p.mu.Lock()
		p.device, p.interval = device, s.interval(device)
		p.mu.Unlock()
		s.byDev[device] = p
		return p
	}
	p := &Poller{reader: s.reader, device: device, target: target, interval: s.interval(device), scalars: s.scalars, now: s.now}
	s.byDev[device], s.targets[target] = p, p
	return p
}

// Read implements guard.SNMPReader: the scalar oid from the last poll of
// the device at target (polling when it is due).
func (s *Set) Read(ctx context.Context, target, oid string) (guard.SNMPValue, error) {
	s.mu.Lock()
	p := s.targets[target]
	if p == nil {
		// A device with no measured service is still guarded: it gets a
		// poller of its own, named by its target.
		p = &Poller{reader: s.reader, device: target, target: target, interval: s.interval(""), scalars: s.scalars, now: s.now}
		s.targets[target] = p
	}
	s.mu.Unlock()
	snap, err := p.Poll(ctx)
	if err != nil {
		return guard.SNMPValue{}, err
	}
	v, ok := snap.Scalars[oid]
	if !ok {
		return guard.SNMPValue{}, fmt.Errorf("%s: snmp: %s was not read (the poller reads %v)", p.device, oid, s.scalars)
	}
	out := guard.SNMPValue{Type: v.Type, Text: v.Text}
	if v.Uint != nil {
		n := int64(min(*v.Uint, 1<<63-1))
		out.Int = &n
	}
	return out, nil
}
