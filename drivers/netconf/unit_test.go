package netconf

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/schema"
)

const secret = "s3cr3t-Pa55word"

// TestSecretNeverPrinted formats an Auth and a Target holding it in every way
// a log line or an error could, and looks for the secret.
func TestSecretNeverPrinted(t *testing.T) {
	keyFile := writeKey(t, t.TempDir())
	keyAuth, err := KeyFileAuth(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	// The base64 body of the PEM: no line of it may show up.
	block, _ := pem.Decode(keyPEM)
	keyLines := strings.Fields(string(pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: block.Bytes})))
	for _, a := range []Auth{PasswordAuth(secret), keyAuth} {
		tg := Target{Device: "pe1", Address: "192.0.2.1", Port: 830, Username: "netrecon", Auth: a, KnownHosts: "/kh"}
		var logged bytes.Buffer
		for _, h := range []slog.Handler{slog.NewTextHandler(&logged, nil), slog.NewJSONHandler(&logged, nil)} {
			slog.New(h).Info("dial", "target", tg, "auth", a, "any", any(tg), "ptr", &tg)
		}
		outs := []string{logged.String(), fmt.Errorf("wrapped %v", tg).Error()}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%T %v"} {
			outs = append(outs, fmt.Sprintf(verb, a), fmt.Sprintf(verb, tg), fmt.Sprintf(verb, &tg),
				fmt.Sprintf(verb, []Target{tg}), fmt.Sprintf(verb, struct{ T Target }{tg}), fmt.Sprintf(verb, map[string]Auth{"a": a}))
		}
		for _, out := range outs {
			if strings.Contains(out, secret) || strings.Contains(out, fmt.Sprintf("%x", secret)) {
				t.Errorf("password leaked: %s", out)
			}
			for _, l := range keyLines {
				if len(l) > 20 && strings.Contains(out, l) {
					t.Errorf("key leaked: %s", out)
				}
			}
		}
		if !strings.Contains(fmt.Sprint(tg), "redacted") {
			t.Errorf("Target prints %q, want a redacted Auth", fmt.Sprint(tg))
		}
	}
}

func writeKey(t *testing.T, dir string) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResolveCredentials(t *testing.T) {
	repo := t.TempDir()
	outside := t.TempDir()
	pwFile := filepath.Join(outside, "pw")
	if err := os.WriteFile(pwFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	inRepo := filepath.Join(repo, "secrets", "pw")
	if err := os.MkdirAll(filepath.Dir(inRepo), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(inRepo, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(outside, "link-to-repo")
	if err := os.Symlink(inRepo, link); err != nil {
		t.Fatal(err)
	}
	keyFile := writeKey(t, outside)
	t.Setenv("NETRECON_TEST_PW", secret)

	tests := []struct {
		name    string
		c       schema.Credentials
		want    string // kind in String()
		wantErr string
	}{
		{"env", schema.Credentials{Username: "u", PasswordEnv: "NETRECON_TEST_PW"}, "password from env NETRECON_TEST_PW", ""},
		{"env unset", schema.Credentials{Username: "u", PasswordEnv: "NETRECON_TEST_UNSET"}, "", "NETRECON_TEST_UNSET is unset"},
		{"file", schema.Credentials{Username: "u", PasswordFile: pwFile}, "password from file", ""},
		{"key", schema.Credentials{Username: "u", KeyFile: keyFile}, "key ssh-ed25519", ""},
		{"none", schema.Credentials{Username: "u"}, "", "exactly one"},
		{"two", schema.Credentials{Username: "u", PasswordEnv: "NETRECON_TEST_PW", KeyFile: keyFile}, "", "exactly one"},
		{"in repo", schema.Credentials{Username: "u", PasswordFile: inRepo}, "", "inside the intent repo"},
		{"link into repo", schema.Credentials{Username: "u", PasswordFile: link}, "", "inside the intent repo"},
		{"missing", schema.Credentials{Username: "u", KeyFile: filepath.Join(outside, "nope")}, "", "no such file"},
		{"not a key", schema.Credentials{Username: "u", KeyFile: pwFile}, "", "ssh key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ResolveCredentials(tc.c, repo)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error leaks the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(a.String(), tc.want) {
				t.Errorf("String() = %q, want %q", a, tc.want)
			}
			if tc.c.PasswordFile != "" && a.password != secret {
				t.Errorf("password file: trailing newline not trimmed")
			}
		})
	}
}

func TestOptionsCheckThemselves(t *testing.T) {
	bad := []Option{WithRPCTimeout(0), WithRPCTimeout(-time.Second), WithDialTimeout(-1), WithSettleAfterHello(-time.Millisecond)}
	for i, o := range bad {
		if _, err := newConfig([]Option{o}); err == nil {
			t.Errorf("option %d: want error", i)
		}
	}
	c, err := newConfig([]Option{WithLogger(nil), WithSettleAfterHello(0), WithRPCTimeout(time.Second), nil})
	if err != nil || c.logger == nil || c.rpcTimeout != time.Second {
		t.Errorf("config = %+v, %v", c, err)
	}
	// Dial refuses before touching the network.
	_, err = Dial(t.Context(), Target{Device: "x", Address: "192.0.2.1", Port: 830, Username: "u", Auth: PasswordAuth("p"), KnownHosts: "/nonexistent"}, WithRPCTimeout(-1))
	if err == nil || !strings.Contains(err.Error(), "WithRPCTimeout") {
		t.Errorf("Dial with a bad option: %v", err)
	}
	_, err = Dial(t.Context(), Target{Device: "x", Address: "192.0.2.1", Port: 830, Username: "u", Auth: PasswordAuth("p")})
	if err == nil || !strings.Contains(err.Error(), "known_hosts") {
		t.Errorf("Dial without known_hosts: %v", err)
	}
}

func TestCommitOptionsCheck(t *testing.T) {
	for _, o := range []reconcile.CommitOptions{{Timeout: -1, Confirmed: true}, {Timeout: time.Second}, {Persist: "x"}} {
		if checkCommit(o) == nil {
			t.Errorf("%+v: want error", o)
		}
	}
	for _, o := range []reconcile.CommitOptions{{}, {Confirmed: true, Timeout: 2 * time.Second, Persist: "p"}, {PersistID: "p"}} {
		if err := checkCommit(o); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

func TestParseCapabilities(t *testing.T) {
	c := parseCapabilities([]string{
		"urn:ietf:params:netconf:base:1.1",
		"urn:ietf:params:netconf:capability:candidate:1.0",
		"urn:ietf:params:netconf:capability:confirmed-commit:1.0",
		"urn:ietf:params:netconf:capability:validate:1.1",
		"urn:ietf:params:netconf:capability:with-defaults:1.0?basic-mode=explicit&also-supported=trim,report-all",
	})
	if !c.Candidate || c.ConfirmedCommit || !c.Validate || c.RollbackOnError {
		t.Errorf("flags = %+v", c)
	}
	if c.WithDefaults != "explicit" || strings.Join(c.WithDefaultsAlso, ",") != "trim,report-all" {
		t.Errorf("with-defaults = %q %q", c.WithDefaults, c.WithDefaultsAlso)
	}
	if !c.Has("urn:ietf:params:netconf:capability:with-defaults:1.0") || c.Has("urn:ietf:params:netconf:capability:startup:1.0") {
		t.Error("Has")
	}
}

func TestReplyData(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"default ns", `<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="1"><data><a xmlns="urn:x">1</a></data></rpc-reply>`,
			`<data xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><a xmlns="urn:x">1</a></data>`},
		{"prefixes from rpc-reply", `<nc:rpc-reply xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" xmlns:if="urn:if" message-id="1"><nc:data><if:a>if:b</if:a></nc:data></nc:rpc-reply>`,
			`<data xmlns:if="urn:if" xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><if:a>if:b</if:a></data>`},
		{"empty", `<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><data/></rpc-reply>`,
			`<data xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"></data>`},
	}
	for _, tc := range tests {
		got, err := replyData([]byte(tc.in))
		if err != nil || string(got) != tc.want {
			t.Errorf("%s: replyData = %s, %v\nwant %s", tc.name, got, err, tc.want)
		}
	}
	if _, err := replyData([]byte(`<rpc-reply><ok/></rpc-reply>`)); err == nil {
		t.Error("no data: want error")
	}
}

// replyDigest: one digest for replies that differ only in message-id (or
// another attribute of rpc-reply), another when a byte of the data or a
// namespace declaration in scope differs.
func TestReplyDigest(t *testing.T) {
	const base = `<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="%s"><data><a xmlns="urn:x">%s</a></data></rpc-reply>`
	digest := func(reply string) reconcile.Digest {
		t.Helper()
		d, ok := replyDigest([]byte(reply))
		if !ok {
			t.Fatalf("no digest for %s", reply)
		}
		return d
	}
	one := digest(fmt.Sprintf(base, "1", "v"))
	if digest(fmt.Sprintf(base, "2", "v")) != one {
		t.Error("message-id changed the digest")
	}
	if digest(`<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="7" other="x"><data><a xmlns="urn:x">v</a></data></rpc-reply>`) != one {
		t.Error("another rpc-reply attribute changed the digest")
	}
	for name, reply := range map[string]string{
		"value":               fmt.Sprintf(base, "1", "w"),
		"one more byte":       fmt.Sprintf(base, "1", "v "),
		"default namespace":   `<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.1" message-id="1"><data><a xmlns="urn:x">v</a></data></rpc-reply>`,
		"prefix on rpc-reply": `<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" xmlns:p="urn:p" message-id="1"><data><a xmlns="urn:x">v</a></data></rpc-reply>`,
		"declaration on data": `<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="1"><data xmlns:p="urn:p"><a xmlns="urn:x">v</a></data></rpc-reply>`,
	} {
		if digest(reply) == one {
			t.Errorf("%s: changed, same digest", name)
		}
	}
	// A declaration's parts cannot be shifted into one another.
	if digest(`<rpc-reply xmlns:ab="c" message-id="1"><data/></rpc-reply>`) == digest(`<rpc-reply xmlns:a="bc" message-id="1"><data/></rpc-reply>`) {
		t.Error("two declarations hash alike")
	}
	if _, ok := replyDigest([]byte(`<rpc-reply><ok/></rpc-reply>`)); ok {
		t.Error("a reply without data has a digest")
	}
}

// FuzzReplyDigest: any input gives a digest or none, never a panic; inside
// rpc-replies that differ only in message-id the same body has one digest
// and one <data> (what a known digest stands for).
func FuzzReplyDigest(f *testing.F) {
	f.Add(`<data><a xmlns="urn:x">1</a></data>`)
	f.Add(`<nc:data xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"/>`)
	f.Add(`<ok/>`)
	f.Add(`<x><y/></x><data xmlns:p="urn:p"><p:a>b</p:a></data>`)
	f.Fuzz(func(t *testing.T, body string) {
		replyDigest([]byte(body))
		a := []byte(`<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="1">` + body + `</rpc-reply>`)
		b := []byte(`<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="4711">` + body + `</rpc-reply>`)
		da, okA := replyDigest(a)
		db, okB := replyDigest(b)
		if okA != okB || da != db {
			t.Fatalf("message-id changed the digest of %q", body)
		}
		if !okA {
			return
		}
		ra, errA := replyData(a)
		rb, errB := replyData(b)
		if (errA == nil) != (errB == nil) || !bytes.Equal(ra, rb) {
			t.Fatalf("one digest, two data: %q / %q (%v / %v)", ra, rb, errA, errB)
		}
	})
}

// replyErrors finds rpc-errors with or without a prefix, passes replies
// without one after checking only their root, and refuses what is no
// rpc-reply.
func TestReplyErrors(t *testing.T) {
	s := &Session{device: "pe1", log: slog.New(slog.DiscardHandler)}
	const ns = `xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"`
	big := `<rpc-reply ` + ns + ` message-id="1"><data>` + strings.Repeat(`<a xmlns="urn:x">rpc</a>`, 1000) + `</data></rpc-reply>`
	for _, tc := range []struct{ name, raw, want string }{
		{"ok", `<rpc-reply ` + ns + `><ok/></rpc-reply>`, ""},
		{"data", big, ""},
		{"declaration first", `<?xml version="1.0"?><rpc-reply ` + ns + `><ok/></rpc-reply>`, ""},
		{"error", `<rpc-reply ` + ns + `><rpc-error><error-type>protocol</error-type><error-tag>in-use</error-tag><error-severity>error</error-severity></rpc-error></rpc-reply>`, "pe1: lock: in-use"},
		{"prefixed error", `<nc:rpc-reply xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><nc:rpc-error><nc:error-tag>lock-denied</nc:error-tag><nc:error-severity>error</nc:error-severity></nc:rpc-error></nc:rpc-reply>`, "pe1: lock: lock-denied"},
		{"warning only", `<rpc-reply ` + ns + `><rpc-error><error-tag>x</error-tag><error-severity>warning</error-severity></rpc-error><ok/></rpc-reply>`, ""},
		{"other root", `<hello ` + ns + `/>`, "pe1: lock: malformed rpc-reply"},
		{"not xml", `no reply at all`, "pe1: lock: malformed rpc-reply"},
	} {
		err := s.replyErrors("lock", []byte(tc.raw))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// The host key check holds the key the server proved itself with: a key
// re-exchange later must show that key, whatever else known_hosts lists.
func TestHostKeyCheckPinsTheFirstKey(t *testing.T) {
	newKey := func() ssh.PublicKey {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := ssh.NewPublicKey(priv.Public())
		if err != nil {
			t.Fatal(err)
		}
		return pub
	}
	k1, k2 := newKey(), newKey()
	kh := filepath.Join(t.TempDir(), "known_hosts")
	lines := KnownHostsLine("127.0.0.1", 830, k1) + "\n" + KnownHostsLine("127.0.0.1", 830, k2) + "\n"
	if err := os.WriteFile(kh, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	check, _, err := hostKeyCheck("pe1", "127.0.0.1:830", kh, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 830}
	if err := check("127.0.0.1:830", addr, k1); err != nil {
		t.Fatalf("first key exchange: %v", err)
	}
	if err := check("127.0.0.1:830", addr, k1); err != nil {
		t.Errorf("re-exchange with the same key: %v", err)
	}
	var he *HostKeyError
	if err := check("127.0.0.1:830", addr, k2); !errors.As(err, &he) || len(he.Want) != 1 || he.Want[0] != ssh.FingerprintSHA256(k1) {
		t.Errorf("re-exchange with another known key: %v, want a HostKeyError naming the first key", err)
	}
}

func TestKnownHostsLine(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	line := KnownHostsLine("127.0.0.1", 18301, key)
	if !strings.HasPrefix(line, "[127.0.0.1]:18301 ssh-ed25519 ") {
		t.Errorf("line = %q", line)
	}
	if l22 := KnownHostsLine("pe1.example.net", 22, key); !strings.HasPrefix(l22, "pe1.example.net ssh-ed25519 ") {
		t.Errorf("port 22 line = %q", l22)
	}
}

func TestErrorsNameDeviceAndOp(t *testing.T) {
	errs := []error{
		&HostKeyError{Device: "pe1", Address: "a:1", Got: "SHA256:x"},
		&AuthError{Device: "pe1", Username: "u", Err: errors.New("no")},
		&TimeoutError{Device: "pe1", Op: "lock", After: time.Second},
		&reconcile.LockHeldError{Device: "pe1", Target: "candidate", HeldBy: "7"},
		&RPCError{Device: "pe1", Op: "edit-config", Tag: "invalid-value", Path: "/a", Message: "bad"},
	}
	for _, e := range errs {
		if !strings.HasPrefix(e.Error(), "pe1: ") {
			t.Errorf("%T: %q does not start with the device", e, e)
		}
	}
	if s := errs[0].Error(); !strings.Contains(s, "netrecon hostkeys fetch") {
		t.Errorf("unknown host key error does not say what to do: %s", s)
	}
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestWithDefaultsModeChecked(t *testing.T) {
	if _, err := newConfig([]Option{WithDefaultsMode("all")}); err == nil {
		t.Error("WithDefaultsMode(all): want error")
	}
	srv := newFakeServer(t, func([]byte) (string, bool) { return "<data/>", false })
	s, err := Dial(t.Context(), srv.Target(t), WithDefaultsMode("trim"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(t.Context())
	// The fake announces no with-defaults: asking for a mode must fail, not
	// silently read in the device's own mode.
	if _, err := s.GetConfig(t.Context(), Running, nil); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("GetConfig = %v", err)
	}
}

// TestErrorsReachVocabulary: the driver's errors carry their own detail and
// answer errors.Is and errors.As with reconcile's terms, which apply, recovery
// and the daemon branch on.
func TestErrorsReachVocabulary(t *testing.T) {
	rpc := func(op, tag string, noPending bool) error {
		return fmt.Errorf("wrapped: %w", &RPCError{Device: "pe1", Op: op, Tag: tag, noPending: noPending})
	}
	for _, c := range []struct {
		name string
		err  error
		is   []error
	}{
		{"timeout", &TimeoutError{Device: "pe1", Op: "commit", After: time.Second}, []error{reconcile.ErrSessionLost}},
		{"closed", fmt.Errorf("pe1: lock: %w (EOF)", reconcile.ErrSessionLost), []error{reconcile.ErrSessionLost}},
		{"lock held", &reconcile.LockHeldError{Device: "pe1", Target: Candidate, HeldBy: "7"}, []error{reconcile.ErrInUse}},
		{"in-use", rpc("commit", "in-use", false), []error{reconcile.ErrInUse}},
		{"lock-denied", rpc("edit-config", "lock-denied", false), []error{reconcile.ErrInUse}},
		{"no pending", rpc("cancel-commit", "operation-failed", true), []error{reconcile.ErrNoPendingCommit}},
		{"other", rpc("commit", "operation-failed", false), nil},
	} {
		for _, v := range []error{reconcile.ErrSessionLost, reconcile.ErrInUse, reconcile.ErrNoPendingCommit} {
			if got, want := errors.Is(c.err, v), slices.Contains(c.is, v); got != want {
				t.Errorf("%s: errors.Is(%v, %v) = %v, want %v", c.name, c.err, v, got, want)
			}
		}
	}
	// Only a confirming commit's or a cancel-commit's answer says "nothing
	// pending", in netsim's words and in netconfd's (seen on the lab).
	for _, c := range []struct {
		op, tag, path string
		want          bool
	}{
		{"commit", "invalid-value", "", true},
		{"commit", "operation-failed", "/nc:rpc/nc:commit/nc:persist-id", true},
		{"commit", "operation-failed", "", false},
		{"commit", "in-use", "", false},
		{"cancel-commit", "operation-failed", "", true},
		{"cancel-commit", "in-use", "", false},
	} {
		err := settling(errors.Join(&RPCError{Device: "pe1", Op: c.op, Tag: c.tag, Path: c.path}), c.op)
		if got := errors.Is(err, reconcile.ErrNoPendingCommit); got != c.want {
			t.Errorf("settling(%s %s at %q): no pending = %v, want %v", c.op, c.tag, c.path, got, c.want)
		}
	}
	if settling(nil, "commit") != nil {
		t.Error("settling(nil) is not nil")
	}
}
