package daemon

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/netrecon/netrecon/lab/labtest"
)

// gitHTTPServer serves the repos under root with git's own http-backend (the
// CGI program of the git package), behind HTTP basic auth that accepts only
// token, as a private forge does.
func gitHTTPServer(t *testing.T, root, token string) *httptest.Server {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		labtest.Missing(t, "no git command to serve HTTP: %v", err)
		return nil
	}
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pass, ok := r.BasicAuth(); !ok || pass != token {
			w.Header().Set("WWW-Authenticate", `Basic realm="intent"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A daemon follows a private repo over https with the token of
// repo.auth.token_file: a wrong token stops New with an error that says the
// server refused the login and shows no token; the right one fetches, and
// a new commit follows. No token reaches a log line.
func TestRepoAuthHTTPSToken(t *testing.T) {
	const token = "ghs_private-intent-token-1234"
	l := newLab(t, exampleFiles(t))
	srv := gitHTTPServer(t, filepath.Dir(l.repo), token)
	tokenFile := filepath.Join(t.TempDir(), "token")
	write := func(v string, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(tokenFile, []byte(v+"\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(tokenFile, mode); err != nil {
			t.Fatal(err)
		}
	}
	l.cfg.Repo = RepoConfig{URL: srv.URL + "/" + filepath.Base(l.repo), Branch: "main",
		Auth: &RepoAuthConfig{Username: "x-access-token", TokenFile: tokenFile}}
	var logs bytes.Buffer
	opts := Options{Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Dialer: l.dialer, SNMP: testSNMP}

	write("wrong-token-5678", 0o600)
	if d, err := New(context.Background(), l.cfg, opts); err == nil {
		d.Close()
		t.Fatal("New with a wrong token: no error")
	} else if !strings.Contains(err.Error(), "authentication required") || strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("New with a wrong token: %v; want the server's refusal, without the token", err)
	}

	write(token, 0o644)
	if d, err := New(context.Background(), l.cfg, opts); err == nil {
		d.Close()
		t.Fatal("New with a token file others may read: no error")
	} else if !strings.Contains(err.Error(), "repo.auth.token_file") {
		t.Errorf("New with a token file others may read: %v; want it refused, naming the setting", err)
	}

	write(token, 0o600)
	d, err := New(context.Background(), l.cfg, opts)
	if err != nil {
		t.Fatalf("New with the right token: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	first := l.git("rev-parse", "HEAD")
	if p := d.SyncOnce(context.Background(), ReasonStart); p.Error != "" || p.Commit != first {
		t.Fatalf("pass: commit %s, error %q; want %s", p.Commit, p.Error, first)
	}
	second := l.commit("touch", map[string]string{"README.md": "private\n"})
	if p := d.SyncOnce(context.Background(), ReasonStart); p.Error != "" || p.Head != second {
		t.Fatalf("pass after a push: head %s, error %q; want %s", p.Head, p.Error, second)
	}
	if strings.Contains(logs.String(), token) || strings.Contains(logs.String(), "wrong-token") {
		t.Errorf("a token reached the logs:\n%s", logs.String())
	}
	cfg, err := os.ReadFile(filepath.Join(l.state, "mirror", "config"))
	if err != nil || strings.Contains(string(cfg), token) {
		t.Errorf("the mirror's git config holds the token (%v):\n%s", err, cfg)
	}
}

// gitSSHServer starts OpenSSH's sshd on a loopback port whose one
// authorized key may run only git-upload-pack of repo (a forced command, as
// a forge's deploy key is limited to its repo). It returns the port, a
// known_hosts line of its host key and the client's PEM private key.
func gitSSHServer(t *testing.T, repo string) (port int, knownHosts string, clientKey []byte) {
	t.Helper()
	if os.Geteuid() != 0 {
		labtest.Missing(t, "sshd for the git-over-ssh test needs root (its privilege separation)")
		return
	}
	if _, err := os.Stat("/usr/sbin/sshd"); err != nil {
		labtest.Missing(t, "no /usr/sbin/sshd: %v", err)
		return
	}
	dir := t.TempDir()
	pemOf := func(name string) (ssh.PublicKey, []byte) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		block, err := ssh.MarshalPrivateKey(priv, name)
		if err != nil {
			t.Fatal(err)
		}
		signer, err := ssh.NewSignerFromKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		return signer.PublicKey(), pem.EncodeToMemory(block)
	}
	hostPub, hostPEM := pemOf("host")
	clientPub, clientPEM := pemOf("client")
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hostKey := write("host_key", hostPEM)
	auth := write("authorized_keys", []byte(fmt.Sprintf("command=\"git-upload-pack '%s'\",no-pty,no-port-forwarding,no-agent-forwarding,no-X11-forwarding %s",
		repo, ssh.MarshalAuthorizedKey(clientPub))))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	conf := write("sshd_config", []byte(fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile %s
AuthorizedKeysFile %s
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
LogLevel ERROR
`, port, hostKey, filepath.Join(dir, "sshd.pid"), auth)))
	os.MkdirAll("/run/sshd", 0o755)
	cmd := exec.Command("/usr/sbin/sshd", "-D", "-f", conf, "-E", filepath.Join(dir, "sshd.log"))
	if out, err := exec.Command("/usr/sbin/sshd", "-t", "-f", conf).CombinedOutput(); err != nil {
		t.Fatalf("sshd -t: %v\n%s", err, out)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "sshd.log"))
			t.Fatalf("sshd did not listen on %d within 10 s: %v\n%s", port, err, log)
		}
		time.Sleep(20 * time.Millisecond) // polling for the listener, with a deadline
	}
	return port, knownhosts.Line([]string{ln.Addr().String()}, hostPub), clientPEM
}

// A daemon follows a private repo over ssh with repo.auth's deploy key, the
// server's host key checked against known_hosts_file: a known_hosts that
// holds another key stops New, the right one fetches.
func TestRepoAuthSSHKey(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	port, known, key := gitSSHServer(t, l.repo)
	secrets := t.TempDir()
	keyFile := filepath.Join(secrets, "deploy-key")
	khFile := filepath.Join(secrets, "known_hosts")
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	_, other, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherSigner, _ := ssh.NewSignerFromKey(other)
	wrong := knownhosts.Line([]string{fmt.Sprintf("127.0.0.1:%d", port)}, otherSigner.PublicKey())
	l.cfg.Repo = RepoConfig{URL: fmt.Sprintf("ssh://root@127.0.0.1:%d/intent.git", port), Branch: "main",
		Auth: &RepoAuthConfig{SSHKeyFile: keyFile, KnownHostsFile: khFile}}
	opts := Options{Logger: testLogger(t), Dialer: l.dialer, SNMP: testSNMP}

	if err := os.WriteFile(khFile, []byte(wrong+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if d, err := New(context.Background(), l.cfg, opts); err == nil {
		d.Close()
		t.Fatal("New with a known_hosts of another host key: no error")
	} else if !strings.Contains(err.Error(), "key mismatch") {
		t.Errorf("New with a known_hosts of another host key: %v; want the host key refused", err)
	}

	if err := os.WriteFile(khFile, []byte(known+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := New(context.Background(), l.cfg, opts)
	if err != nil {
		t.Fatalf("New with the deploy key: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	if p := d.SyncOnce(context.Background(), ReasonStart); p.Error != "" || p.Commit != l.git("rev-parse", "HEAD") {
		t.Fatalf("pass over ssh: %+v", p)
	}
}
