package labtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// KillSession ends NETCONF session id on dev from a session of its own,
// with <kill-session> (RFC 6241 7.9): what a device that drops a client's
// session looks like to that client. netrecon itself never kills a session
// (DESIGN invariant 5); tests use this to kill netrecon's.
//
// It speaks base:1.0 framing only, and waits 100 ms after the hello: yuma123
// netconfd loses the reply to an RPC sent right after it (lab/NOTES.md).
func (l *Lab) KillSession(ctx context.Context, dev Device, id string) error {
	key, err := os.ReadFile(l.Key)
	if err != nil {
		return err
	}
	signer, err := ssh.ParsePrivateKey(key)
	if err != nil {
		return fmt.Errorf("%s: %w", l.Key, err)
	}
	hostKeys, err := knownhosts.New(l.KnownHostsFile)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	addr := net.JoinHostPort(dev.Address, strconv.Itoa(dev.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	sc, chans, reqs, err := ssh.NewClientConn(conn, addr, &ssh.ClientConfig{User: l.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: hostKeys})
	if err != nil {
		return fmt.Errorf("%s: ssh: %w", dev.Name, err)
	}
	client := ssh.NewClient(sc, chans, reqs)
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		return err
	}
	defer sess.Close()
	w, err := sess.StdinPipe()
	if err != nil {
		return err
	}
	out, err := sess.StdoutPipe()
	if err != nil {
		return err
	}
	if err := sess.RequestSubsystem("netconf"); err != nil {
		return fmt.Errorf("%s: netconf subsystem: %w", dev.Name, err)
	}
	r := bufio.NewReader(out)
	const hello = `<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities><capability>urn:ietf:params:netconf:base:1.0</capability></capabilities></hello>]]>]]>`
	if _, err := io.WriteString(w, hello); err != nil {
		return err
	}
	if _, err := readEOM(r); err != nil {
		return fmt.Errorf("%s: server hello: %w", dev.Name, err)
	}
	select {
	case <-time.After(100 * time.Millisecond): // the settle after hello, not a wait for an event
	case <-ctx.Done():
		return ctx.Err()
	}
	rpc := `<rpc message-id="1" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><kill-session><session-id>` + id + `</session-id></kill-session></rpc>]]>]]>`
	if _, err := io.WriteString(w, rpc); err != nil {
		return err
	}
	reply, err := readEOM(r)
	if err != nil {
		return fmt.Errorf("%s: kill-session %s: %w", dev.Name, id, err)
	}
	if !bytes.Contains(reply, []byte("<ok/>")) {
		return fmt.Errorf("%s: kill-session %s: %s", dev.Name, id, bytes.TrimSpace(reply))
	}
	_, _ = io.WriteString(w, `<rpc message-id="2" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><close-session/></rpc>]]>]]>`)
	return nil
}

// readEOM reads one message framed with the base:1.0 end-of-message marker.
func readEOM(r *bufio.Reader) ([]byte, error) {
	var msg []byte
	for {
		b, err := r.ReadByte()
		if err != nil {
			return msg, err
		}
		msg = append(msg, b)
		if bytes.HasSuffix(msg, []byte("]]>]]>")) {
			return msg[:len(msg)-6], nil
		}
		if len(msg) > 1<<20 {
			return nil, errors.New("message over 1 MiB without an end marker")
		}
	}
}
