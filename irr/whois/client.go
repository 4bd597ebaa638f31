package whois

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// Defaults for Options' zero values.
const (
	DefaultTimeout     = 30 * time.Second
	DefaultMaxResponse = 16 << 20
)

// Options tune a client. The zero value is ready to use.
type Options struct {
	// Timeout bounds each query (and the dial) when the context has no
	// earlier deadline; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxResponse is the largest answer read, in bytes; 0 means
	// DefaultMaxResponse. A registry that sends more is refused, not
	// buffered.
	MaxResponse int
	// Dialer dials TCP; nil means a net.Dialer.
	Dialer interface {
		DialContext(ctx context.Context, network, addr string) (net.Conn, error)
	}
}

func (o Options) timeout() time.Duration {
	if o.Timeout <= 0 {
		return DefaultTimeout
	}
	return o.Timeout
}

func (o Options) max() int {
	if o.MaxResponse <= 0 {
		return DefaultMaxResponse
	}
	return o.MaxResponse
}

func (o Options) dial(ctx context.Context, addr string) (net.Conn, error) {
	if o.Dialer != nil {
		return o.Dialer.DialContext(ctx, "tcp", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// QueryError is a query that failed, with the server and the query.
type QueryError struct {
	Server string
	Query  string
	Err    error
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("whois %s: %q: %v", e.Server, e.Query, e.Err)
}

func (e *QueryError) Unwrap() error { return e.Err }

// Query sends one text query (a RIPE-style query such as "-r -T as-set
// AS-EXAMPLE") on a connection of its own and returns everything the server
// sends until it closes the connection ([RFC 3912 2]).
//
// [RFC 3912 2]: https://www.rfc-editor.org/rfc/rfc3912#section-2
func Query(ctx context.Context, addr, query string, opts Options) ([]byte, error) {
	fail := func(err error) ([]byte, error) { return nil, &QueryError{Server: addr, Query: query, Err: err} }
	if strings.ContainsAny(query, "\r\n") {
		return fail(errors.New("a query is one line"))
	}
	ctx, cancel := context.WithTimeout(ctx, opts.timeout())
	defer cancel()
	conn, err := opts.dial(ctx, addr)
	if err != nil {
		return fail(err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if _, err := io.WriteString(conn, query+"\r\n"); err != nil {
		return fail(ctxErr(ctx, err))
	}
	max := opts.max()
	b, err := io.ReadAll(io.LimitReader(conn, int64(max)+1))
	if err != nil {
		return fail(ctxErr(ctx, err))
	}
	if len(b) > max {
		return fail(fmt.Errorf("answer is over the limit of %d bytes", max))
	}
	return b, nil
}

// Session is IRRd's multiple-command mode: one connection, "!!" sent once,
// then queries answered in order. A Session is not safe for concurrent use.
type Session struct {
	addr string
	conn net.Conn
	r    *bufio.Reader
	opts Options
	// broken is set after an error that may leave an answer unread: the
	// next answer on the connection would belong to the wrong query.
	broken error
}

// Dial opens a session with the server at addr (host:port) and switches it
// to multiple-command mode. "!!" has no answer, so the first query is the
// first thing read.
func Dial(ctx context.Context, addr string, opts Options) (*Session, error) {
	dctx, cancel := context.WithTimeout(ctx, opts.timeout())
	defer cancel()
	conn, err := opts.dial(dctx, addr)
	if err != nil {
		return nil, &QueryError{Server: addr, Query: "!!", Err: err}
	}
	s := &Session{addr: addr, conn: conn, r: bufio.NewReader(conn), opts: opts}
	conn.SetWriteDeadline(time.Now().Add(opts.timeout()))
	if _, err := io.WriteString(conn, "!!\n"); err != nil {
		conn.Close()
		return nil, &QueryError{Server: addr, Query: "!!", Err: err}
	}
	return s, nil
}

// Close ends the session.
func (s *Session) Close() error { return s.conn.Close() }

// Addr is the server's address.
func (s *Session) Addr() string { return s.addr }

// Do sends one IRRd query (starting with "!") and returns its data: nil for
// "C", ErrNotFound for "D", *ServerError for "E"/"F".
func (s *Session) Do(ctx context.Context, query string) ([]byte, error) {
	fail := func(err error) ([]byte, error) { return nil, &QueryError{Server: s.addr, Query: query, Err: err} }
	if s.broken != nil {
		return fail(fmt.Errorf("session unusable after an earlier failure: %w", s.broken))
	}
	if !strings.HasPrefix(query, "!") || strings.ContainsAny(query, "\r\n") {
		return fail(errors.New("an IRRd query is one line starting with !"))
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.timeout())
	defer cancel()
	stop := context.AfterFunc(ctx, func() { s.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		s.conn.SetDeadline(dl)
	}
	if _, err := io.WriteString(s.conn, query+"\n"); err != nil {
		s.broken = err
		return fail(ctxErr(ctx, err))
	}
	data, err := readFramed(s.r, s.opts.max())
	if err != nil {
		var se *ServerError
		if !errors.Is(err, ErrNotFound) && !errors.As(err, &se) {
			s.broken = err
		}
		return fail(ctxErr(ctx, err))
	}
	return data, nil
}

// Sources restricts the session's later queries to these sources, in this
// order of preference (!s).
func (s *Session) Sources(ctx context.Context, sources ...string) error {
	_, err := s.Do(ctx, "!s"+strings.Join(sources, ","))
	return err
}

// Members returns the members of an as-set, resolved recursively by the
// server to AS numbers (!i<set>,1), as written ("AS64500"). A set the
// database does not have gives ErrNotFound.
func (s *Session) Members(ctx context.Context, set string) ([]string, error) {
	data, err := s.Do(ctx, "!i"+set+",1")
	return strings.Fields(string(data)), err
}

// DirectMembers returns the members: of an as-set as written, not
// resolved (!i<set>).
func (s *Session) DirectMembers(ctx context.Context, set string) ([]string, error) {
	data, err := s.Do(ctx, "!i"+set)
	return strings.Fields(string(data)), err
}

// Routes returns the prefixes of the route (IPv4, !g) or route6 (!6)
// objects whose origin is asn ("AS64500"). An AS with none gives an empty
// list, not an error.
func (s *Session) Routes(ctx context.Context, asn string, v6 bool) ([]string, error) {
	q := "!g"
	if v6 {
		q = "!6"
	}
	data, err := s.Do(ctx, q+asn)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return strings.Fields(string(data)), err
}

// ctxErr prefers the context's cause to the I/O error a deadline caused.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", context.Cause(ctx), err)
	}
	return err
}
