package snmp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"
)

// DefaultTimeout is how long one request waits for its answer when
// Options.Timeout is zero.
const DefaultTimeout = 2 * time.Second

// Options configure New. Their String, GoString, Format and LogValue leave the
// community out.
type Options struct {
	// Community is the SNMPv2c community: a secret, never logged or put in
	// an error. Required.
	Community string
	// Timeout bounds each request (attempt); zero means DefaultTimeout. A
	// GET waits at most Timeout × (Retries+1), or until its context ends.
	Timeout time.Duration
	// Retries is the number of requests sent again after the first gets no
	// answer; zero means none. SNMP runs over UDP, so one lost datagram
	// should not fail a check: 1 or 2 is usual.
	Retries int
	// Logger receives one debug line per GET; nil discards.
	Logger *slog.Logger
}

func (o Options) check() error {
	var errs []error
	if o.Community == "" {
		errs = append(errs, errors.New("snmp: Community is empty"))
	}
	if o.Timeout < 0 {
		errs = append(errs, fmt.Errorf("snmp: Timeout %s is negative", o.Timeout))
	}
	if o.Retries < 0 {
		errs = append(errs, fmt.Errorf("snmp: Retries %d is negative", o.Retries))
	}
	return errors.Join(errs...)
}

// String describes the options without the community.
func (o Options) String() string {
	return fmt.Sprintf("snmp.Options{Community: %s, Timeout: %s, Retries: %d}", redacted(o.Community), o.Timeout, o.Retries)
}

// GoString is String: %#v must not reveal the community.
func (o Options) GoString() string { return o.String() }

// Format writes String for every verb.
func (o Options) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(o.String())) }

// LogValue logs the options without the community.
func (o Options) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("community", redacted(o.Community)),
		slog.Duration("timeout", o.Timeout),
		slog.Int("retries", o.Retries),
	)
}

func redacted(s string) string {
	if s == "" {
		return "(none)"
	}
	return "(redacted)"
}

// Client reads values from SNMP agents. It holds no connection: each Get uses
// its own UDP socket, so a Client is safe for concurrent use and costs nothing
// while idle.
type Client struct {
	opts Options
	log  *slog.Logger
}

// New checks opts and returns a Client.
func New(opts Options) (*Client, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	l := opts.Logger
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &Client{opts: opts, log: l}, nil
}

// String describes the client without the community.
func (c *Client) String() string {
	return "snmp.Client" + strings.TrimPrefix(c.opts.String(), "snmp.Options")
}

// GoString is String: %#v must not reveal the community.
func (c *Client) GoString() string { return c.String() }

// Format writes String for every verb.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// Get reads one numeric OID from the agent at target ("host:port"; SNMP's port
// is 161) with an SNMPv2c GET (RFC 3416 4.2.1).
//
// [RFC3416 4.2.1]: https://www.rfc-editor.org/rfc/rfc3416#section-4.2.1
func (c *Client) Get(ctx context.Context, target, oid string) (Value, error) {
	oid, err := ParseOID(oid)
	if err != nil {
		return Value{}, err
	}
	host, port, err := splitTarget(target)
	if err != nil {
		return Value{}, err
	}
	if err := ctx.Err(); err != nil {
		return Value{}, fmt.Errorf("snmp get %s from %s: %w", oid, target, context.Cause(ctx))
	}

	attempts := 0
	g := &gosnmp.GoSNMP{
		Target:    host,
		Port:      port,
		Transport: "udp",
		Community: c.opts.Community,
		Version:   gosnmp.Version2c,
		Context:   ctx,
		Timeout:   c.opts.Timeout,
		Retries:   c.opts.Retries,
		// A fixed timeout keeps the worst case at Timeout × (Retries+1),
		// which callers can reason about.
		ExponentialTimeout: false,
		MaxOids:            1,
		OnSent:             func(*gosnmp.GoSNMP) { attempts++ },
	}
	start := time.Now()
	if err := g.Connect(); err != nil {
		return Value{}, fmt.Errorf("snmp get %s from %s: %w", oid, target, err)
	}
	conn := g.Conn
	defer func() { _ = conn.Close() }()
	// gosnmp checks the context only between attempts; a read deadline in
	// the past ends the attempt in flight at once when ctx ends.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()

	pkt, err := g.Get([]string{oid})
	took := time.Since(start)
	if err != nil {
		err = c.classify(ctx, target, oid, err, attempts, took)
		c.log.DebugContext(ctx, "snmp get failed", "target", target, "oid", oid, "attempts", attempts, "took_seconds", took.Seconds(), "err", err)
		return Value{}, err
	}
	v, err := result(target, oid, pkt)
	c.log.DebugContext(ctx, "snmp get", "target", target, "oid", oid, "attempts", attempts, "took_seconds", took.Seconds(), "err", err)
	return v, err
}

// classify turns gosnmp's error into one of this package's.
func (c *Client) classify(ctx context.Context, target, oid string, err error, attempts int, took time.Duration) error {
	if ctx.Err() != nil {
		// Cancelled or past the caller's deadline: the caller stopped
		// waiting, which says nothing about the agent.
		return fmt.Errorf("snmp get %s from %s: %w", oid, target, context.Cause(ctx))
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		// gosnmp cut the last attempt at the context's deadline, a moment
		// before the context's own timer marks it done.
		return fmt.Errorf("snmp get %s from %s: %w", oid, target, context.DeadlineExceeded)
	}
	var ne net.Error
	if errors.Is(err, gosnmp.ErrMaxRetriesExceeded) || (errors.As(err, &ne) && ne.Timeout()) || strings.Contains(err.Error(), "timeout") {
		return &TimeoutError{Target: target, OID: oid, Attempts: attempts, After: took}
	}
	return fmt.Errorf("snmp get %s from %s: %w", oid, target, err)
}

// result checks the response and extracts the one value.
func result(target, oid string, pkt *gosnmp.SnmpPacket) (Value, error) {
	if pkt.Error != gosnmp.NoError {
		return Value{}, &AgentError{Target: target, OID: oid, Status: pkt.Error.String(), Index: int(pkt.ErrorIndex)}
	}
	if len(pkt.Variables) != 1 {
		return Value{}, fmt.Errorf("snmp get %s from %s: agent returned %d values for one OID", oid, target, len(pkt.Variables))
	}
	vb := pkt.Variables[0]
	if name, _ := ParseOID(vb.Name); name != oid {
		return Value{}, fmt.Errorf("snmp get %s from %s: agent answered for %s", oid, target, vb.Name)
	}
	switch vb.Type {
	case gosnmp.NoSuchObject:
		return Value{}, &NoSuchError{Target: target, OID: oid, Kind: NoSuchObject}
	case gosnmp.NoSuchInstance:
		return Value{}, &NoSuchError{Target: target, OID: oid, Kind: NoSuchInstance}
	case gosnmp.EndOfMibView:
		return Value{}, &NoSuchError{Target: target, OID: oid, Kind: EndOfMIBView}
	}
	return newValue(vb), nil
}

// ParseOID checks a numeric OID ("1.3.6..." or ".1.3.6...") and returns it
// with a leading dot, the form Get and Value use. A name such as
// "sysDescr.0" is an *OIDError: there are no MIB files to resolve it.
func ParseOID(oid string) (string, error) {
	s := strings.TrimPrefix(oid, ".")
	parts := strings.Split(s, ".")
	// An OID has at least two arcs (X.690 8.19), each a decimal number.
	if len(parts) < 2 {
		return "", &OIDError{OID: oid}
	}
	for _, p := range parts {
		if p == "" || len(p) > 10 {
			return "", &OIDError{OID: oid}
		}
		if _, err := strconv.ParseUint(p, 10, 32); err != nil {
			return "", &OIDError{OID: oid}
		}
	}
	return "." + s, nil
}

func splitTarget(target string) (string, uint16, error) {
	host, p, err := net.SplitHostPort(target)
	if err != nil {
		return "", 0, fmt.Errorf("snmp: target %q: want host:port (SNMP's port is 161): %w", target, err)
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil || port == 0 || host == "" {
		return "", 0, fmt.Errorf("snmp: target %q: want host:port with a port from 1 to 65535", target)
	}
	return host, uint16(port), nil
}
