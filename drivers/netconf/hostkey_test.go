package netconf

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func newKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// A key re-exchange must present the key the session began with, even when
// known_hosts lists another key for the host: the callback keeps the key
// that passed, not the parsed file (which 1,000 open sessions each kept).
func TestHostKeyPinnedAfterFirstCheck(t *testing.T) {
	first, second, stranger := newKey(t), newKey(t), newKey(t)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	lines := KnownHostsLine("127.0.0.1", 830, first) + "\n" + KnownHostsLine("127.0.0.1", 830, second) + "\n"
	if err := os.WriteFile(kh, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 830}
	check, algos, err := hostKeyCheck("pe1", "127.0.0.1:830", kh, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(algos) != 1 || algos[0] != ssh.KeyAlgoED25519 {
		t.Errorf("algorithms %v, want [%s]", algos, ssh.KeyAlgoED25519)
	}
	if err := check("127.0.0.1:830", addr, stranger); err == nil {
		t.Fatal("a key known_hosts does not list passed")
	}
	if err := check("127.0.0.1:830", addr, first); err != nil {
		t.Fatalf("the known key: %v", err)
	}
	if err := check("127.0.0.1:830", addr, first); err != nil {
		t.Errorf("the same key again (re-exchange): %v", err)
	}
	err = check("127.0.0.1:830", addr, second)
	var he *HostKeyError
	if !errors.As(err, &he) || !he.Rekey || !strings.Contains(err.Error(), "changed during a key re-exchange") {
		t.Errorf("another key known_hosts lists, at a re-exchange: %v, want a *HostKeyError with Rekey", err)
	}
}

// Dials that share a KnownHosts parse the file once, and again only when it
// changes: a key added meanwhile (netrecon hostkeys fetch) counts at the
// next dial.
func TestKnownHostsParsedOnce(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte(KnownHostsLine("127.0.0.1", 831, k1)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cache := NewKnownHosts()
	check := func(port int, key ssh.PublicKey) error {
		t.Helper()
		hp := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		cb, _, err := hostKeyCheck("pe", hp, kh, cache)
		if err != nil {
			t.Fatal(err)
		}
		return cb(hp, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}, key)
	}
	for range 5 {
		if err := check(831, k1); err != nil {
			t.Fatal(err)
		}
	}
	if err := check(832, k2); err == nil {
		t.Fatal("a host known_hosts does not list passed")
	}
	if cache.parses != 1 {
		t.Errorf("6 dials parsed the file %d times, want 1", cache.parses)
	}
	// Appended, with a modification time of its own even on a coarse clock.
	f, err := os.OpenFile(kh, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(KnownHostsLine("127.0.0.1", 832, k2) + "\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(kh, later, later); err != nil {
		t.Fatal(err)
	}
	if err := check(832, k2); err != nil {
		t.Errorf("a key added to known_hosts: %v", err)
	}
	if err := check(831, k1); err != nil {
		t.Error(err)
	}
	if cache.parses != 2 {
		t.Errorf("parsed %d times after one change, want 2", cache.parses)
	}
	if _, _, err := hostKeyCheck("pe", "127.0.0.1:831", filepath.Join(t.TempDir(), "missing"), cache); err == nil {
		t.Error("a missing known_hosts file: no error")
	}
}
