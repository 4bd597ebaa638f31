package netsim

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"golang.org/x/crypto/ssh"
)

// handshakeTimeout bounds the SSH handshake, so a client that connects and
// says nothing cannot hold a goroutine for ever.
const handshakeTimeout = 30 * time.Second

func (s *Sim) acceptLoop(d *Device) {
	for {
		c, err := d.ln.Accept()
		if err != nil {
			if s.ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				s.log.Error("accept failed", "device", d.Name, "err", err)
			}
			return
		}
		s.wg.Go(func() { s.serveConn(d, c) })
	}
}

// serverConfig builds the SSH configuration for one connection, so a host key
// rotated since the last connection is the one presented.
func (s *Sim) serverConfig(d *Device) *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{ServerVersion: "SSH-2.0-netrecon-netsim"}
	if s.opts.Password != "" {
		cfg.PasswordCallback = func(md ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			userOK := subtle.ConstantTimeCompare([]byte(md.User()), []byte(s.opts.Username))
			pwOK := subtle.ConstantTimeCompare(pw, []byte(s.opts.Password))
			if userOK&pwOK == 1 {
				return nil, nil
			}
			return nil, errors.New("wrong user name or password")
		}
	}
	if len(s.opts.AuthorizedKeys) > 0 {
		cfg.PublicKeyCallback = func(md ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if md.User() != s.opts.Username {
				return nil, errors.New("unknown user")
			}
			for _, k := range s.opts.AuthorizedKeys {
				if bytes.Equal(k.Marshal(), key.Marshal()) {
					return nil, nil
				}
			}
			return nil, errors.New("key not authorized")
		}
	}
	d.mu.Lock()
	cfg.AddHostKey(d.signer)
	d.mu.Unlock()
	return cfg
}

func (s *Sim) serveConn(d *Device, c net.Conn) {
	log := s.log.With("device", d.Name, "remote", c.RemoteAddr().String())
	_ = c.SetDeadline(time.Now().Add(handshakeTimeout))
	conn, chans, reqs, err := ssh.NewServerConn(c, s.serverConfig(d))
	if err != nil {
		log.Debug("ssh handshake failed", "err", err)
		_ = c.Close()
		return
	}
	_ = c.SetDeadline(time.Time{})
	if !s.track(conn) {
		_ = conn.Close()
		return
	}
	defer s.untrack(conn)
	defer conn.Close()
	s.wg.Go(func() { ssh.DiscardRequests(reqs) })

	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only session channels")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			log.Debug("accept channel", "err", err)
			continue
		}
		s.wg.Go(func() { s.serveChannel(d, conn, ch, creqs, log) })
	}
}

func (s *Sim) track(c *ssh.ServerConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Sim) untrack(c *ssh.ServerConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// serveChannel waits for the "netconf" subsystem request ([RFC6242 3]) and
// then runs one NETCONF session on the channel.
//
// [RFC6242 3]: https://www.rfc-editor.org/rfc/rfc6242#section-3
func (s *Sim) serveChannel(d *Device, conn *ssh.ServerConn, ch ssh.Channel, reqs <-chan *ssh.Request, log *slog.Logger) {
	defer ch.Close()
	started := false
	for req := range reqs {
		ok := false
		if req.Type == "subsystem" && !started {
			var payload struct{ Name string }
			if err := ssh.Unmarshal(req.Payload, &payload); err == nil && payload.Name == "netconf" {
				ok = true
			}
		}
		if req.WantReply {
			_ = req.Reply(ok, nil)
		}
		if ok {
			started = true
			// Later requests on the channel (none are expected) are refused.
			s.wg.Go(func() {
				for r := range reqs {
					if r.WantReply {
						_ = r.Reply(false, nil)
					}
				}
			})
			sess := d.openSession(conn, ch, log)
			sess.serve()
			return
		}
	}
}

// session is one NETCONF session.
type session struct {
	id      uint32
	dev     *Device
	conn    *ssh.ServerConn
	ch      ssh.Channel
	log     *slog.Logger
	user    string
	host    string
	login   time.Time
	chunked bool
	ctx     context.Context
	stop    context.CancelFunc
}

func (d *Device) openSession(conn *ssh.ServerConn, ch ssh.Channel, log *slog.Logger) *session {
	host, _, err := net.SplitHostPort(conn.RemoteAddr().String())
	if err != nil {
		host = conn.RemoteAddr().String()
	}
	ctx, stop := context.WithCancel(d.sim.ctx)
	s := &session{dev: d, conn: conn, ch: ch, user: conn.User(), host: host, login: time.Now().UTC(), ctx: ctx, stop: stop}
	d.mu.Lock()
	s.id = d.newSessionID()
	d.sessions[s.id] = s
	d.opened++
	d.mu.Unlock()
	s.log = log.With("session", s.id)
	s.log.Debug("netconf session opened", "user", s.user)
	return s
}

// serve exchanges hellos and answers rpcs until the client closes the
// session, the connection drops, or the Sim stops.
func (s *session) serve() {
	defer s.stop()
	defer s.dev.closeSession(s)
	// Closing the channel when the Sim stops unblocks the reader below.
	stopRead := context.AfterFunc(s.ctx, func() { _ = s.ch.Close() })
	defer stopRead()

	fr := newFrameReader(s.ch, s.dev.sim.opts.MaxMessageSize)
	// Both peers send their hello at once ([RFC6241 8.1]); ours goes first so
	// a client that waits for it before sending its own is served too.
	if err := writeMessage(s.ch, s.dev.hello(s.id), false); err != nil {
		return
	}
	msg, err := fr.ReadMessage()
	if err != nil {
		s.log.Debug("no client hello", "err", err)
		return
	}
	caps, err := parseClientHello(msg)
	if err != nil {
		// A bad hello ends the session ([RFC6241 8.1]).
		s.log.Info("bad client hello", "err", err)
		return
	}
	if caps[capBase11] {
		s.chunked = true
		fr.chunked = true
	} else if !caps[capBase10] {
		s.log.Info("client hello without a base capability")
		return
	}

	for {
		msg, err := fr.ReadMessage()
		if err != nil {
			if !errors.Is(err, io.EOF) && s.ctx.Err() == nil {
				s.log.Info("read failed; closing session", "err", err)
			}
			return
		}
		reply, next := s.handle(msg)
		// A commit or cancel may have changed what the device comes back
		// with after a restart.
		s.dev.mu.Lock()
		s.dev.saveLocked()
		s.dev.mu.Unlock()
		switch next {
		case actDrop:
			s.log.Info("dropping connection (fault knob)")
			_ = s.conn.Close()
			return
		case actSwallow:
			s.log.Info("reply swallowed (fault knob)")
			continue
		}
		if lat := s.dev.getLatency(); lat > 0 {
			t := time.NewTimer(lat)
			select {
			case <-t.C:
			case <-s.ctx.Done():
				t.Stop()
				return
			}
		}
		if err := writeMessage(s.ch, reply, s.chunked); err != nil {
			return
		}
		if next == actClose {
			return
		}
	}
}

// after says what the session does once an rpc is handled.
type after int

const (
	actReply   after = iota
	actClose         // reply, then end the session (close-session)
	actDrop          // close the connection without a reply (fault knob)
	actSwallow       // no reply, the session goes on (fault knob)
)

var errNoBase = errors.New("no base capability")

func parseClientHello(msg []byte) (map[string]bool, error) {
	root, err := parseMessage(msg)
	if err != nil {
		return nil, err
	}
	if root.name.Local != "hello" || root.name.Space != nsBase {
		return nil, fmt.Errorf("expected <hello>, got <%s>", root.name.Local)
	}
	// A client must not send a session-id ([RFC6241 8.1]).
	if root.child("session-id") != nil {
		return nil, errors.New("client hello carries a session-id")
	}
	caps := map[string]bool{}
	for _, c := range root.child("capabilities").childrenNamed("capability") {
		caps[c.text] = true
	}
	if len(caps) == 0 {
		return nil, errNoBase
	}
	return caps, nil
}

func (e *elem) childrenNamed(local string) []*elem {
	if e == nil {
		return nil
	}
	var out []*elem
	for _, c := range e.children {
		if c.name.Local == local {
			out = append(out, c)
		}
	}
	return out
}
