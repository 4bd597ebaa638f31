package netconf

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

// fakeServer is an in-process NETCONF-over-SSH server (RFC 6242, base:1.0
// end-of-message framing only) whose replies a test scripts: for unit tests
// of what real servers rarely do on demand, such as stalling mid-reply.
type fakeServer struct {
	Addr     string
	Port     int
	HostKey  ssh.PublicKey
	Password string
	// Handle answers one <rpc> with the content of <rpc-reply>. stall=true
	// writes reply as the beginning of the reply and then says nothing more.
	Handle func(rpc []byte) (reply string, stall bool)
	// Caps are capabilities the hello announces besides base:1.0 and
	// candidate (newFakeServer's caps).
	Caps []string

	ln    net.Listener
	cfg   *ssh.ServerConfig
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

const eom = "]]>]]>"

func newFakeServer(t *testing.T, handle func([]byte) (string, bool), caps ...string) *fakeServer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{Password: "fake-password", Handle: handle, HostKey: signer.PublicKey(), Caps: caps}
	s.cfg = &ssh.ServerConfig{
		PasswordCallback: func(_ ssh.ConnMetadata, p []byte) (*ssh.Permissions, error) {
			if string(p) == s.Password {
				return nil, nil
			}
			return nil, errors.New("wrong password")
		},
	}
	s.cfg.AddHostKey(signer)
	s.ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := s.ln.Addr().(*net.TCPAddr)
	s.Addr, s.Port = addr.IP.String(), addr.Port
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.Close)
	return s
}

// KnownHosts writes a known_hosts file holding the server's key.
func (s *fakeServer) KnownHosts(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(p, []byte(KnownHostsLine(s.Addr, s.Port, s.HostKey)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (s *fakeServer) Target(t *testing.T) Target {
	return Target{Device: "fake", Address: s.Addr, Port: s.Port, Username: "netrecon", Auth: PasswordAuth(s.Password), KnownHosts: s.KnownHosts(t)}
}

// Close stops accepting, drops every connection and waits for all the
// server's goroutines.
func (s *fakeServer) Close() {
	_ = s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *fakeServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, c)
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serveConn(c)
	}
}

func (s *fakeServer) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer c.Close()
	_, chans, reqs, err := ssh.NewServerConn(c, s.cfg)
	if err != nil {
		return
	}
	s.wg.Add(1)
	go func() { defer s.wg.Done(); ssh.DiscardRequests(reqs) }()
	for nch := range chans {
		if nch.ChannelType() != "session" {
			_ = nch.Reject(ssh.UnknownChannelType, "session only")
			continue
		}
		ch, chReqs, err := nch.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for r := range chReqs {
				ok := r.Type == "subsystem" && bytes.HasSuffix(r.Payload, []byte("netconf"))
				_ = r.Reply(ok, nil)
				if ok {
					s.wg.Add(1)
					go func() { defer s.wg.Done(); s.serveNetconf(ch) }()
				}
			}
		}()
	}
}

var messageID = regexp.MustCompile(`message-id="([^"]*)"`)

func (s *fakeServer) serveNetconf(ch ssh.Channel) {
	defer ch.Close()
	var extra strings.Builder
	for _, c := range s.Caps {
		extra.WriteString("<capability>" + c + "</capability>")
	}
	fmt.Fprint(ch, `<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities>`+
		`<capability>urn:ietf:params:netconf:base:1.0</capability>`+
		`<capability>urn:ietf:params:netconf:capability:candidate:1.0</capability>`+
		extra.String()+`</capabilities><session-id>42</session-id></hello>`+eom)
	r := bufio.NewReader(ch)
	if _, err := readMsg(r); err != nil { // the client's hello
		return
	}
	for {
		msg, err := readMsg(r)
		if err != nil {
			return
		}
		if bytes.Contains(msg, []byte("<close-session")) {
			fmt.Fprintf(ch, `<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="%s"><ok/></rpc-reply>`+eom, id(msg))
			return
		}
		reply, stall := s.Handle(msg)
		fmt.Fprintf(ch, `<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="%s">%s`, id(msg), reply)
		if stall {
			// Say nothing more; read until the client goes away.
			_, _ = io.Copy(io.Discard, r)
			return
		}
		fmt.Fprint(ch, "</rpc-reply>"+eom)
	}
}

func id(msg []byte) string {
	if m := messageID.FindSubmatch(msg); m != nil {
		return string(m[1])
	}
	return ""
}

func readMsg(r *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		b, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		buf = append(buf, b)
		if bytes.HasSuffix(buf, []byte(eom)) {
			return buf[:len(buf)-len(eom)], nil
		}
	}
}
