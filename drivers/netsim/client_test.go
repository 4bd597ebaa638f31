package netsim

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/netrecon/netrecon/configtree"
)

// This file is a deliberately plain NETCONF client for the tests: x/crypto/ssh,
// the "netconf" subsystem and its own framing code, independent of the
// simulator's, so a framing bug cannot hide on both sides.

const (
	testUser     = "netrecon"
	testPassword = "s3cret-for-tests"
)

var testKeys = configtree.Keys{
	"/interfaces/interface":               {"name"},
	"/configuration/interfaces/interface": {"name"},
	"/netconf-state/sessions/session":     {"session-id"},
}

// startSim starts n devices named d1..dn and closes them when the test ends.
func startSim(t testing.TB, n int, mod ...func(*Options)) *Sim {
	t.Helper()
	opts := Options{
		Username: testUser,
		Password: testPassword,
		Keys:     func(string) configtree.Keys { return testKeys },
	}
	for i := 1; i <= n; i++ {
		opts.Devices = append(opts.Devices, DeviceSpec{Name: fmt.Sprintf("d%d", i), Platform: "ietf"})
	}
	for _, m := range mod {
		m(&opts)
	}
	sim, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := sim.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return sim
}

type rawClient struct {
	t         testing.TB
	conn      *ssh.Client
	sess      *ssh.Session
	w         io.WriteCloser
	r         *bufio.Reader
	chunked   bool
	nextID    int
	sessionID string
	hello     *elem
}

type dialOpts struct {
	auth      []ssh.AuthMethod
	hostKeyCB ssh.HostKeyCallback
	caps      []string
	user      string
}

func (d *Device) addr() string { return net.JoinHostPort(d.Address, strconv.Itoa(d.Port)) }

// dialDevice connects and exchanges hellos; it fails the test on error.
func dialDevice(t testing.TB, sim *Sim, dev *Device, mods ...func(*dialOpts)) *rawClient {
	t.Helper()
	c, err := tryDial(t, sim, dev, mods...)
	if err != nil {
		t.Fatalf("dial %s: %v", dev.Name, err)
	}
	return c
}

func tryDial(t testing.TB, sim *Sim, dev *Device, mods ...func(*dialOpts)) (*rawClient, error) {
	o := dialOpts{
		auth: []ssh.AuthMethod{ssh.Password(testPassword)},
		caps: []string{capBase10, capBase11},
		user: testUser,
	}
	o.hostKeyCB = knownHostsCB(t, sim.KnownHosts())
	for _, m := range mods {
		m(&o)
	}
	conn, err := ssh.Dial("tcp", dev.addr(), &ssh.ClientConfig{
		User: o.user, Auth: o.auth, HostKeyCallback: o.hostKeyCB, Timeout: 10 * time.Second,
	})
	if err != nil {
		return nil, err
	}
	sess, err := conn.NewSession()
	if err != nil {
		conn.Close()
		return nil, err
	}
	w, _ := sess.StdinPipe()
	r, _ := sess.StdoutPipe()
	if err := sess.RequestSubsystem("netconf"); err != nil {
		conn.Close()
		return nil, err
	}
	c := &rawClient{t: t, conn: conn, sess: sess, w: w, r: bufio.NewReader(r)}
	t.Cleanup(func() { c.conn.Close() })
	var hello strings.Builder
	hello.WriteString(`<hello xmlns="` + nsBase + `"><capabilities>`)
	for _, cp := range o.caps {
		hello.WriteString("<capability>" + cp + "</capability>")
	}
	hello.WriteString("</capabilities></hello>")
	if _, err := io.WriteString(w, hello.String()+"]]>]]>"); err != nil {
		return nil, err
	}
	msg, err := c.read()
	if err != nil {
		return nil, fmt.Errorf("server hello: %w", err)
	}
	h, err := parseMessage(msg)
	if err != nil {
		return nil, err
	}
	c.hello = h
	c.sessionID = h.child("session-id").text
	serverCaps := map[string]bool{}
	for _, cp := range h.child("capabilities").childrenNamed("capability") {
		serverCaps[cp.text] = true
	}
	for _, cp := range o.caps {
		if cp == capBase11 && serverCaps[capBase11] {
			c.chunked = true
		}
	}
	return c, nil
}

// read returns the next message, in the framing currently in force.
func (c *rawClient) read() ([]byte, error) {
	if !c.chunked {
		var buf []byte
		for {
			b, err := c.r.ReadByte()
			if err != nil {
				return nil, err
			}
			buf = append(buf, b)
			if bytes.HasSuffix(buf, []byte("]]>]]>")) {
				return buf[:len(buf)-6], nil
			}
		}
	}
	var msg []byte
	for {
		line, err := c.r.ReadString('\n') // the LF before the header
		if err != nil {
			return nil, err
		}
		if line != "\n" {
			return nil, fmt.Errorf("bad chunk start %q", line)
		}
		hdr, err := c.r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if hdr == "##\n" {
			return msg, nil
		}
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(hdr, "#"), "\n"))
		if err != nil {
			return nil, fmt.Errorf("bad chunk header %q", hdr)
		}
		chunk := make([]byte, n)
		if _, err := io.ReadFull(c.r, chunk); err != nil {
			return nil, err
		}
		msg = append(msg, chunk...)
	}
}

// send frames and writes a raw message; large messages go in two chunks to
// exercise reassembly.
func (c *rawClient) send(msg string) error {
	if !c.chunked {
		_, err := io.WriteString(c.w, msg+"]]>]]>")
		return err
	}
	half := len(msg) / 2
	var b strings.Builder
	if half > 0 {
		fmt.Fprintf(&b, "\n#%d\n%s", half, msg[:half])
	}
	fmt.Fprintf(&b, "\n#%d\n%s\n##\n", len(msg)-half, msg[half:])
	_, err := io.WriteString(c.w, b.String())
	return err
}

// tryCall sends one operation and returns the parsed <rpc-reply>.
func (c *rawClient) tryCall(op string) (*elem, error) {
	c.nextID++
	id := strconv.Itoa(c.nextID)
	if err := c.send(`<rpc message-id="` + id + `" xmlns="` + nsBase + `">` + op + `</rpc>`); err != nil {
		return nil, err
	}
	msg, err := c.read()
	if err != nil {
		return nil, err
	}
	reply, err := parseMessage(msg)
	if err != nil {
		return nil, fmt.Errorf("reply %q: %w", msg, err)
	}
	if got, _ := reply.attr("message-id"); got != id {
		return nil, fmt.Errorf("reply message-id %q, want %q", got, id)
	}
	return reply, nil
}

func (c *rawClient) call(op string) *elem {
	c.t.Helper()
	r, err := c.tryCall(op)
	if err != nil {
		c.t.Fatalf("rpc %.40s: %v", op, err)
	}
	return r
}

// ok calls op and fails the test unless the reply is <ok/>.
func (c *rawClient) ok(op string) {
	c.t.Helper()
	r := c.call(op)
	if r.child("ok") == nil {
		c.t.Fatalf("rpc %.60s: want <ok/>, got %s", op, describe(r))
	}
}

// fails calls op and returns the rpc-error, failing the test when there is
// none or its tag is not tag.
func (c *rawClient) fails(op, tag string) *elem {
	c.t.Helper()
	r := c.call(op)
	e := r.child("rpc-error")
	if e == nil {
		c.t.Fatalf("rpc %.60s: want rpc-error %s, got %s", op, tag, describe(r))
	}
	if got := e.child("error-tag").text; got != tag {
		c.t.Fatalf("rpc %.60s: error-tag %q, want %q (%s)", op, got, tag, describe(r))
	}
	return e
}

// data calls op and returns its <data> as a tree.
func (c *rawClient) data(op string) *configtree.Tree {
	c.t.Helper()
	r := c.call(op)
	d := r.child("data")
	if d == nil {
		c.t.Fatalf("rpc %.60s: no <data> in %s", op, describe(r))
	}
	tree, err := configtree.ParseData(bytes.NewReader(d.standalone("data")), "reply", testKeys)
	if err != nil {
		c.t.Fatalf("reply data: %v", err)
	}
	return tree
}

func (c *rawClient) close() { c.conn.Close() }

// knownHostsCB checks host keys against known_hosts content, read from a
// file as an SSH client would.
func knownHostsCB(t testing.TB, content []byte) ssh.HostKeyCallback {
	t.Helper()
	p := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(p, content, 0o600); err != nil {
		t.Fatal(err)
	}
	cb, err := knownhosts.New(p)
	if err != nil {
		t.Fatalf("known_hosts %q: %v", content, err)
	}
	return cb
}

func describe(r *elem) string {
	if e := r.child("rpc-error"); e != nil {
		return fmt.Sprintf("rpc-error %s: %s", e.child("error-tag").text, e.child("error-message").text)
	}
	return string(r.inner)
}

func mustParse(t testing.TB, s string) *configtree.Tree {
	t.Helper()
	tree, err := configtree.Parse(strings.NewReader(s), "test", testKeys)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return tree
}

func newClientKey(t testing.TB) (ssh.Signer, ssh.PublicKey) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, s.PublicKey()
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		<-time.After(5 * time.Millisecond) // poll interval, not a wait for the event
	}
}
