package netconf

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
	nc "nemith.io/netconf"
	sshtr "nemith.io/netconf/transport/ssh"

	"github.com/netrecon/netrecon/reconcile"
)

// baseNS is the NETCONF base namespace (RFC 6241 3.1).
const baseNS = "urn:ietf:params:xml:ns:netconf:base:1.0"

// Target is a device to dial.
type Target struct {
	Device     string // name, used in errors and logs
	Address    string
	Port       int
	Username   string
	Auth       Auth
	KnownHosts string // path of a known_hosts file; required
}

func (t Target) hostport() string { return net.JoinHostPort(t.Address, strconv.Itoa(t.Port)) }

// String describes the target; the Auth is redacted.
func (t Target) String() string {
	return fmt.Sprintf("Target(%s %s@%s %s known_hosts=%s)", t.Device, t.Username, t.hostport(), t.Auth, t.KnownHosts)
}

// GoString is String: %#v must not reveal the secret.
func (t Target) GoString() string { return t.String() }

// Format writes String for every verb.
func (t Target) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(t.String())) }

// LogValue logs the target as a group without the secret.
func (t Target) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("device", t.Device),
		slog.String("address", t.hostport()),
		slog.String("username", t.Username),
		slog.String("auth", t.Auth.String()),
	)
}

// Session is one NETCONF session to one device. Its methods may be called from
// several goroutines; each RPC has its own deadline. After a timeout or a
// transport failure the session is closed and every method returns an error
// wrapping reconcile.ErrSessionLost.
type Session struct {
	device string
	client *ssh.Client
	nc     *nc.Session
	cfg    config
	log    *slog.Logger
	caps   reconcile.Capabilities

	// quietLib demotes the library's log records once the session is being
	// closed on purpose (see libHandler).
	quietLib *atomic.Bool

	mu     sync.Mutex
	broken error // why the session became unusable; nil while it works
	closed bool
}

// Dial connects to t, checks its host key, authenticates and exchanges hellos.
// The dial timeout (WithDialTimeout) bounds all of it, within ctx.
func Dial(ctx context.Context, t Target, opts ...Option) (*Session, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	dev := t.Device
	if dev == "" {
		dev = t.hostport()
	}
	switch {
	case t.Address == "":
		return nil, fmt.Errorf("%s: dial: no address", dev)
	case t.Port < 1 || t.Port > 65535:
		return nil, fmt.Errorf("%s: dial: port %d out of range", dev, t.Port)
	case t.Username == "":
		return nil, fmt.Errorf("%s: dial: no username", dev)
	case t.Auth.IsZero():
		return nil, fmt.Errorf("%s: dial: no credentials", dev)
	}
	hostport := t.hostport()
	check, algos, err := hostKeyCheck(dev, hostport, t.KnownHosts, cfg.knownHosts)
	if err != nil {
		return nil, err
	}
	log := cfg.logger.With("device", dev)
	start := time.Now()

	dctx, cancel := context.WithTimeout(ctx, cfg.dialTimeout)
	defer cancel()
	timedOut := func(op string) error {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %s: %w", dev, op, ctx.Err())
		}
		return &TimeoutError{Device: dev, Op: op, After: cfg.dialTimeout}
	}

	var d net.Dialer
	conn, err := d.DialContext(dctx, "tcp", hostport)
	if err != nil {
		if dctx.Err() != nil {
			return nil, timedOut("dial")
		}
		return nil, fmt.Errorf("%s: dial: %w", dev, err)
	}
	// x/crypto/ssh has no context: closing the connection is how a deadline
	// interrupts the handshake and the hello.
	stop := context.AfterFunc(dctx, func() { _ = conn.Close() })

	var hostErr error
	sshCfg := &ssh.ClientConfig{
		User: t.Username,
		Auth: t.Auth.methods(),
		HostKeyCallback: func(h string, r net.Addr, k ssh.PublicKey) error {
			err := check(h, r, k)
			hostErr = err
			return err
		},
		HostKeyAlgorithms: algos,
	}
	sc, chans, reqs, err := ssh.NewClientConn(conn, hostport, sshCfg)
	if err != nil {
		stop()
		_ = conn.Close()
		var he *HostKeyError
		switch {
		case errors.As(hostErr, &he):
			return nil, he
		case dctx.Err() != nil:
			return nil, timedOut("ssh handshake")
		case strings.Contains(err.Error(), "unable to authenticate"):
			// x/crypto/ssh has no typed error for a refused login.
			return nil, &AuthError{Device: dev, Username: t.Username, Err: err}
		}
		return nil, fmt.Errorf("%s: ssh: %w", dev, err)
	}
	client := ssh.NewClient(sc, chans, reqs)
	tr, err := sshtr.NewTransport(client)
	if err != nil {
		stop()
		_ = client.Close()
		if dctx.Err() != nil {
			return nil, timedOut("netconf subsystem")
		}
		return nil, fmt.Errorf("%s: %w", dev, err)
	}
	helloTimeout := cfg.dialTimeout - time.Since(start)
	if helloTimeout <= 0 {
		helloTimeout = time.Millisecond
	}
	quiet := new(atomic.Bool)
	libLog := slog.New(libHandler{h: log.Handler(), quiet: quiet})
	session, err := nc.NewSession(&onceTransport{Transport: tr, client: client}, nc.WithLogger(libLog), nc.WithHelloTimeout(helloTimeout))
	if !stop() || err != nil {
		_ = client.Close()
		if session != nil {
			quiet.Store(true)
			closeNow(session)
		}
		if err == nil || dctx.Err() != nil || errors.Is(err, nc.ErrHandshakeTimeout) {
			return nil, timedOut("hello")
		}
		return nil, fmt.Errorf("%s: hello: %w", dev, err)
	}
	s := &Session{device: dev, client: client, nc: session, cfg: cfg, log: log, quietLib: quiet}
	s.caps = parseCapabilities(collect(session.ServerCaps()))
	log.Debug("netconf session open", "session-id", session.SessionID(), "took_seconds", time.Since(start).Seconds())
	if cfg.onHello != nil {
		cfg.onHello()
	}

	if cfg.settle > 0 {
		timer := time.NewTimer(cfg.settle)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-ctx.Done():
			_ = s.Close(context.Background())
			return nil, fmt.Errorf("%s: hello: %w", dev, ctx.Err())
		}
	}
	return s, nil
}

// onceTransport closes the whole SSH connection, once, instead of the
// library's Transport.Close. The library closes its transport both from its
// receive loop (when the peer hangs up, as after close-session) and from
// Session.Close, while its send loop may be writing; x/crypto/ssh's
// channel CloseWrite is not safe against either (data races the race detector
// reported in TestRepliesFromFake and TestCallerCancel). Closing the network
// connection is safe from any goroutine and unblocks every reader and writer.
// A session owns its connection, so nothing else is lost.
type onceTransport struct {
	*sshtr.Transport
	client *ssh.Client
	once   sync.Once
}

func (t *onceTransport) Close() error {
	var err error
	t.once.Do(func() { err = t.client.Close() })
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

func collect(cs *nc.CapabilitySet) []string {
	var out []string
	for c := range cs.All() {
		out = append(out, c)
	}
	return out
}

// closeNow ends a library session whose transport is already closed: with a
// done context its close-session is not waited for, and its send loop exits.
func closeNow(s *nc.Session) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = s.Close(ctx)
}

// Device is the name of the device the session talks to.
func (s *Session) Device() string { return s.device }

// SessionID is the session-id the device gave in its hello (RFC 6241 8.1).
func (s *Session) SessionID() string { return strconv.FormatUint(s.nc.SessionID(), 10) }

// Capabilities are what the device announced in its hello.
func (s *Session) Capabilities() reconcile.Capabilities { return cloneCapabilities(s.caps) }

// Close ends the session with <close-session> (bounded by the RPC timeout) and
// closes the SSH connection. Closing twice is harmless.
func (s *Session) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.quietLib.Store(true)
	broken := s.broken
	if broken == nil {
		s.broken = reconcile.ErrSessionLost
	}
	s.mu.Unlock()

	var err error
	if broken != nil {
		_ = s.client.Close()
		closeNow(s.nc)
	} else {
		cctx, cancel := context.WithTimeout(ctx, s.cfg.rpcTimeout)
		// The library's Close waits for its send loop, which a device that
		// stopped reading can block; closing the connection ends that wait.
		stop := context.AfterFunc(cctx, func() { _ = s.client.Close() })
		err = s.nc.Close(cctx)
		stop()
		cancel()
		_ = s.client.Close()
	}
	if err != nil {
		return fmt.Errorf("%s: close-session: %w", s.device, err)
	}
	return nil
}

// fail marks the session unusable and tears the transport down, which unblocks
// every goroutine of the library waiting on it.
func (s *Session) fail(why error) {
	s.mu.Lock()
	if s.broken == nil {
		s.broken = why
	}
	s.mu.Unlock()
	s.quietLib.Store(true)
	_ = s.client.Close()
}

func (s *Session) usable(op string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken != nil {
		if errors.Is(s.broken, reconcile.ErrSessionLost) && !errors.As(s.broken, new(*TimeoutError)) {
			return fmt.Errorf("%s: %s: %w", s.device, op, s.broken)
		}
		return fmt.Errorf("%s: %s: %w (%v)", s.device, op, reconcile.ErrSessionLost, s.broken)
	}
	return nil
}

type result struct {
	raw []byte
	err error
}

// rpc sends body and returns the raw <rpc-reply>, or an error: *RPCError(s)
// for rpc-errors of severity error, *TimeoutError when the reply is late, an
// reconcile.ErrSessionLost wrap when the transport died.
//
// The library's Do honours a context only until the reply starts; reading the
// rest of it blocks on the transport. So the RPC runs in a goroutine and the
// deadline is enforced here by closing the transport, which ends that goroutine
// (and the library's loops) promptly, whatever state they were in.
func (s *Session) rpc(ctx context.Context, op string, body any) ([]byte, error) {
	if err := s.usable(op); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		// Nothing was sent: the session stays usable.
		return nil, fmt.Errorf("%s: %s: %w", s.device, op, err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.rpcTimeout)
	defer cancel()
	start := time.Now()
	done := make(chan result, 1)
	go func() {
		// Not ctx: cancelling Do while its reply is being delivered leaves the
		// library's receive loop waiting forever for the message to be closed.
		// Closing the transport (below) is what ends this call.
		msg, err := s.nc.Do(context.Background(), nc.NewRPC(body))
		if err != nil {
			done <- result{err: err}
			return
		}
		raw, err := io.ReadAll(msg)
		_ = msg.Close()
		done <- result{raw: raw, err: err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		after := time.Since(start)
		var err error
		if errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
			err = &TimeoutError{Device: s.device, Op: op, After: after.Round(time.Millisecond)}
		} else {
			err = fmt.Errorf("%s: %s: %w", s.device, op, ctx.Err())
		}
		s.log.Warn("netconf rpc abandoned: closing the session", "op", op, "after", after, "error", err)
		s.fail(err)
		<-done // returns promptly now that the transport is closed
		return nil, err
	}
	if r.err != nil {
		err := fmt.Errorf("%s: %s: %w (%v)", s.device, op, reconcile.ErrSessionLost, r.err)
		s.fail(err)
		return nil, err
	}
	s.log.Debug("netconf rpc", "op", op, "took_seconds", time.Since(start).Seconds(), "bytes", len(r.raw))
	if err := s.replyErrors(op, r.raw); err != nil {
		return r.raw, err
	}
	return r.raw, nil
}

type rpcErrorXML struct {
	Type     string `xml:"error-type"`
	Tag      string `xml:"error-tag"`
	Severity string `xml:"error-severity"`
	AppTag   string `xml:"error-app-tag"`
	Path     string `xml:"error-path"`
	Message  string `xml:"error-message"`
	Info     struct {
		SessionID string `xml:"session-id"`
		Inner     string `xml:",innerxml"`
	} `xml:"error-info"`
}

// replyErrors turns the reply's <rpc-error>s of severity error into errors;
// warnings are logged (RFC 6241 4.3 lets a successful reply carry them).
func (s *Session) replyErrors(op string, raw []byte) error {
	if !bytes.Contains(raw, []byte("rpc-error")) {
		// No element of that name, with or without a prefix: only the root
		// needs checking. Decoding a whole get-config reply into the struct
		// below cost a warm daemon pass a sixth of its CPU.
		if err := replyRoot(raw); err != nil {
			return fmt.Errorf("%s: %s: malformed rpc-reply: %w", s.device, op, err)
		}
		return nil
	}
	var reply struct {
		XMLName xml.Name      `xml:"rpc-reply"`
		Errors  []rpcErrorXML `xml:"rpc-error"`
	}
	if err := xml.Unmarshal(raw, &reply); err != nil {
		return fmt.Errorf("%s: %s: malformed rpc-reply: %w", s.device, op, err)
	}
	var errs []error
	for _, e := range reply.Errors {
		if e.Severity == "warning" {
			s.log.Warn("netconf rpc warning", "op", op, "tag", e.Tag, "path", e.Path, "message", strings.TrimSpace(e.Message))
			continue
		}
		errs = append(errs, &RPCError{
			Device: s.device, Op: op,
			Type: e.Type, Tag: e.Tag, Severity: e.Severity, AppTag: e.AppTag,
			Path: strings.TrimSpace(e.Path), Message: strings.TrimSpace(e.Message),
			Info: strings.TrimSpace(e.Info.Inner),
		})
	}
	return errors.Join(errs...)
}

// replyRoot checks that raw's first element is <rpc-reply>, as decoding it
// into a struct named so does.
func replyRoot(raw []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(raw))
	for {
		tok, err := dec.RawToken()
		if err != nil {
			return err
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local != "rpc-reply" {
				return fmt.Errorf("expected element type <rpc-reply> but have <%s>", se.Name.Local)
			}
			return nil
		}
	}
}

// replyDigest names the configuration in a reply without reading it: the
// SHA-256 of the namespace declarations replyData would carry (those on the
// start tags up to and including <data>'s) and of every byte after <data>'s
// start tag. Only those start tags are tokenized, so a known reply costs a
// hash, not a parse. What replyData returns is a function of exactly these
// bytes: two replies that differ only in message-id (or another attribute of
// <rpc-reply>) have one digest, and a reply whose data could differ has
// another. ok is false for a reply without <data>; replyData then says why.
func replyDigest(raw []byte) (_ reconcile.Digest, ok bool) {
	dec := xml.NewDecoder(bytes.NewReader(raw))
	h := sha256.New()
	depth := 0
	for {
		tok, err := dec.RawToken()
		if err != nil {
			return reconcile.Digest{}, false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > 2 {
				continue
			}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					// Lengths first: no two lists of declarations hash alike.
					fmt.Fprintf(h, "%d:%s %d:%s %d:%s\n", len(a.Name.Space), a.Name.Space, len(a.Name.Local), a.Name.Local, len(a.Value), a.Value)
				}
			}
			if depth == 2 && t.Name.Local == "data" {
				h.Write([]byte{0})
				h.Write(raw[dec.InputOffset():])
				return reconcile.Digest(h.Sum(nil)), true
			}
		case xml.EndElement:
			depth--
		}
	}
}

// replyData returns the <data> element of a reply as a document of its own,
// carrying the namespace declarations in scope for it, so that prefixes a
// device declared on <rpc-reply> still resolve.
func replyData(raw []byte) ([]byte, error) {
	dec := xml.NewDecoder(bytes.NewReader(raw))
	var decls []xml.Attr
	depth, begin := 0, -1
	for {
		off := int(dec.InputOffset())
		tok, err := dec.RawToken()
		if err == io.EOF {
			return nil, errors.New("rpc-reply has no <data>")
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth <= 2 {
				for _, a := range t.Attr {
					if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
						decls = append(decls, a)
					}
				}
			}
			if depth == 2 && t.Name.Local == "data" {
				begin = int(dec.InputOffset())
			}
		case xml.EndElement:
			if depth == 2 && begin >= 0 {
				var b bytes.Buffer
				b.WriteString("<data")
				seen := map[string]bool{}
				// Inner declarations (on <data>) win over outer ones.
				for i := len(decls) - 1; i >= 0; i-- {
					a := decls[i]
					name := a.Name.Local
					if a.Name.Space == "xmlns" {
						name = "xmlns:" + a.Name.Local
					}
					if seen[name] {
						continue
					}
					seen[name] = true
					b.WriteString(" " + name + `="`)
					if err := xml.EscapeText(&b, []byte(a.Value)); err != nil {
						return nil, err
					}
					b.WriteString(`"`)
				}
				b.WriteString(">")
				b.Write(raw[begin:off])
				b.WriteString("</data>")
				return b.Bytes(), nil
			}
			depth--
		}
	}
}
