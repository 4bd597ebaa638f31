package netconf

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	check, algos, err := hostKeyCheck("pe1", "127.0.0.1:830", kh)
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
