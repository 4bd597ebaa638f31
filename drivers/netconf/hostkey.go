package netconf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// hostKeyCheck builds the host key callback for device at hostport from a
// known_hosts file, and the host key algorithms to ask for: those of the keys
// known for the host, so a device with several host keys presents the one we
// know rather than a first choice we would refuse.
//
// The parsed file serves the first check only. The callback lives as long as
// the session (x/crypto/ssh calls it again at every key re-exchange), and a
// parsed known_hosts of 1,000 devices is about 230 KiB: kept by each of a
// change set's 1,000 open sessions, it was most of an apply's memory. So the
// key that passed is pinned and the file let go; a re-exchange must present
// that same key, as OpenSSH requires ("host key changed during rekey").
//
// parsed, when not nil, parses the file (once for many dials).
func hostKeyCheck(device, hostport, file string, parsed *KnownHosts) (ssh.HostKeyCallback, []string, error) {
	if file == "" {
		return nil, nil, fmt.Errorf("%s: no known_hosts file: host keys are always checked; fetch the key with `netrecon hostkeys fetch`", device)
	}
	cb, err := parsed.callback(file)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: known_hosts: %w", device, err)
	}
	algos := knownAlgorithms(cb, hostport)
	var (
		mu     sync.Mutex
		pinned ssh.PublicKey
	)
	check := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		mu.Lock()
		defer mu.Unlock()
		if pinned != nil {
			if bytes.Equal(key.Marshal(), pinned.Marshal()) {
				return nil
			}
			return &HostKeyError{Device: device, Address: hostport, Got: ssh.FingerprintSHA256(key),
				Want: []string{ssh.FingerprintSHA256(pinned)}, Rekey: true}
		}
		err := cb(hostname, remote, key)
		var ke *knownhosts.KeyError
		if errors.As(err, &ke) {
			he := &HostKeyError{Device: device, Address: hostport, Got: ssh.FingerprintSHA256(key)}
			for _, k := range ke.Want {
				he.Want = append(he.Want, ssh.FingerprintSHA256(k.Key))
			}
			return he
		}
		if err == nil {
			pinned, cb = key, nil
		}
		return err
	}
	return check, algos, nil
}

// KnownHosts is known_hosts files parsed once for many dials (WithKnownHosts).
// Parsing takes time in the file's length, and a file lists every device, so
// a change set of N devices parsing it at each of its N dials spent O(N²):
// 1.9 s of CPU at 1,000 devices, more than the apply's journal and NETCONF
// work together. A file is parsed again when it changes (inode, size or
// modification time), so a key added by `netrecon hostkeys fetch` counts at
// the next dial. The zero value is not usable; a nil *KnownHosts parses at
// every call. Safe for concurrent use.
type KnownHosts struct {
	mu     sync.Mutex
	files  map[string]parsedFile
	parses int // for tests: how often a file was read
}

type parsedFile struct {
	fi os.FileInfo
	cb ssh.HostKeyCallback // knownhosts' callback only reads what it parsed
}

// NewKnownHosts returns an empty cache of parsed known_hosts files.
func NewKnownHosts() *KnownHosts {
	return &KnownHosts{files: map[string]parsedFile{}}
}

// callback returns the host key callback of file, parsed now or at an
// earlier call if the file has not changed since.
func (k *KnownHosts) callback(file string) (ssh.HostKeyCallback, error) {
	if k == nil {
		return knownhosts.New(file)
	}
	// Stat before reading: a change made while the file is read shows at
	// the next call as a FileInfo unlike the one kept.
	fi, err := os.Stat(file)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if p, ok := k.files[file]; ok && os.SameFile(p.fi, fi) && p.fi.Size() == fi.Size() && p.fi.ModTime().Equal(fi.ModTime()) {
		return p.cb, nil
	}
	cb, err := knownhosts.New(file)
	if err != nil {
		return nil, err
	}
	k.parses++
	k.files[file] = parsedFile{fi: fi, cb: cb}
	return cb, nil
}

// knownAlgorithms asks the callback about a key no host has: its *KeyError
// lists the keys known for hostport.
func knownAlgorithms(cb ssh.HostKeyCallback, hostport string) []string {
	err := cb(hostport, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, probeKey{})
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	for _, k := range ke.Want {
		t := k.Key.Type()
		var add []string
		if t == ssh.KeyAlgoRSA {
			// An RSA key signs with SHA-2 algorithms (RFC 8332) as well as ssh-rsa.
			add = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
		} else {
			add = []string{t}
		}
		for _, a := range add {
			if !seen[a] {
				seen[a] = true
				algos = append(algos, a)
			}
		}
	}
	return algos
}

// probeKey is a public key that matches no known_hosts line.
type probeKey struct{}

func (probeKey) Type() string                        { return "netrecon-probe" }
func (probeKey) Marshal() []byte                     { return []byte("netrecon-probe") }
func (probeKey) Verify([]byte, *ssh.Signature) error { return errors.New("probe key") }

// errGotKey stops FetchHostKey's handshake once the host key is known.
var errGotKey = errors.New("got host key")

// FetchHostKey connects to address:port and returns the SSH host key the server
// presents, without authenticating. Trust on first use is a human decision:
// show the fingerprint before writing it with KnownHostsLine.
func FetchHostKey(ctx context.Context, address string, port int) (ssh.PublicKey, error) {
	hostport := net.JoinHostPort(address, strconv.Itoa(port))
	ctx, cancel := context.WithTimeout(ctx, DefaultDialTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", hostport)
	if err != nil {
		return nil, fmt.Errorf("fetch host key of %s: %w", hostport, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	defer func() { _ = conn.Close() }()
	var got ssh.PublicKey
	cfg := &ssh.ClientConfig{
		User: "netrecon-hostkey-fetch",
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			got = key
			return errGotKey
		},
		Timeout: DefaultDialTimeout,
	}
	_, _, _, err = ssh.NewClientConn(conn, hostport, cfg)
	if got != nil {
		return got, nil
	}
	if ctx.Err() != nil {
		return nil, &TimeoutError{Device: hostport, Op: "fetch host key", After: DefaultDialTimeout}
	}
	return nil, fmt.Errorf("fetch host key of %s: %w", hostport, err)
}

// KnownHostsLine is the known_hosts line for key at address:port, in the form
// OpenSSH writes ("[host]:port" unless the port is 22).
func KnownHostsLine(address string, port int, key ssh.PublicKey) string {
	return knownhosts.Line([]string{knownhosts.Normalize(net.JoinHostPort(address, strconv.Itoa(port)))}, key)
}
