package netconf

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile"
)

// deviceEnv is what the device cases need: a device to dial, and how. The same
// cases run against the real lab (lab_test.go) and the simulator, so that the
// simulator is held to what real servers do.
type deviceEnv struct {
	Target Target
	Opts   []Option
}

func (e deviceEnv) dial(t *testing.T) *Session {
	t.Helper()
	s, err := Dial(t.Context(), e.Target, e.Opts...)
	if err != nil {
		t.Fatalf("dial %s: %v", e.Target.Device, err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// deviceCase is one behaviour every NETCONF device netrecon drives must show.
type deviceCase struct {
	name string
	run  func(t *testing.T, env deviceEnv)
}

var deviceCases = []deviceCase{
	{"hello and capabilities", caseHello},
	{"get-config filtered", caseGetConfigFiltered},
	{"lock edit commit unlock", caseLockEditCommit},
	{"confirmed commit and cancel-commit", caseConfirmedCancel},
	{"confirmed commit rolls back after its timeout", caseConfirmedTimeout},
	{"lock held by another session", caseLockDenied},
	{"wrong credentials", caseWrongCredentials},
	{"host key mismatch and unknown host", caseHostKey},
	{"monitoring lists the other session", caseMonitoring},
	{"remove of an absent entry under an absent parent", caseRemoveAbsent},
	{"remove of typed leaves", caseRemoveTypedLeaves},
	{"get-config digest names the reply", caseGetConfigDigest},
}

// runDeviceCases runs every device case against env.
func runDeviceCases(t *testing.T, env deviceEnv) {
	for _, c := range deviceCases {
		t.Run(c.name, func(t *testing.T) { c.run(t, env) })
	}
}

// testKeys are the list keys of the config the cases write.
var testKeys = configtree.Keys{"/interfaces/interface": {"name"}, "/interfaces/interface/ipv4/address": {"ip"}}

const ifNS = "urn:ietf:params:xml:ns:yang:ietf-interfaces"

var ifSeq atomic.Int64

// ifName is an interface name no other test (nor another engineer's run on the
// shared lab) uses.
func ifName(t *testing.T) string {
	return fmt.Sprintf("nrt%d-%d", time.Now().UnixNano()%1e9, ifSeq.Add(1))
}

func parseTree(t *testing.T, xml string) *configtree.Tree {
	t.Helper()
	tree, err := configtree.Parse(strings.NewReader(xml), t.Name(), testKeys)
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func ifaceTree(t *testing.T, name, desc string) *configtree.Tree {
	tree := parseTree(t, fmt.Sprintf(`<interfaces xmlns=%q><interface><name>%s</name>`+
		`<type xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type">ianaift:ethernetCsmacd</type>`+
		`<description>%s</description></interface></interfaces>`, ifNS, name, desc))
	tree.SetOwner("netconf-test")
	return tree
}

func ifaceFilter(t *testing.T, name string) *configtree.Tree {
	return parseTree(t, fmt.Sprintf(`<interfaces xmlns=%q><interface><name>%s</name></interface></interfaces>`, ifNS, name))
}

func createIface(t *testing.T, name, desc string) []configtree.Change {
	return configtree.Diff(configtree.New(), ifaceTree(t, name, desc))
}

func deleteIface(t *testing.T, name string) []configtree.Change {
	return configtree.Diff(ifaceTree(t, name, "x"), configtree.New())
}

// description reads the interface's description from ds; ok is false when the
// interface is absent.
func description(t *testing.T, s *Session, ds, name string) (desc string, ok bool) {
	t.Helper()
	tree, err := s.GetConfig(t.Context(), ds, ifaceFilter(t, name))
	if err != nil {
		t.Fatalf("get-config %s: %v", ds, err)
	}
	if tree.Find(configtree.Path("/interfaces/interface[name="+name+"]")) == nil {
		return "", false
	}
	n := tree.Find(configtree.Path("/interfaces/interface[name=" + name + "]/description"))
	if n == nil {
		return "", true
	}
	return n.Value, true
}

// lockWait takes the lock, waiting while someone else (another test, another
// engineer's run on the shared lab) holds it.
func lockWait(t *testing.T, s *Session, ds string) {
	t.Helper()
	lockWaitCtx(t.Context(), t, s, ds)
}

func lockWaitCtx(ctx context.Context, t *testing.T, s *Session, ds string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := s.Lock(ctx, ds)
		var ld *reconcile.LockHeldError
		if err == nil {
			if waited := time.Until(deadline.Add(-30 * time.Second)); waited < -time.Second {
				t.Logf("waited %s for the %s lock", -waited.Round(time.Millisecond), ds)
			}
			return
		}
		if !errors.As(err, &ld) || time.Now().After(deadline) {
			t.Fatalf("lock %s: %v", ds, err)
		}
		time.Sleep(100 * time.Millisecond) // back-off while another session holds the lock
	}
}

// apply commits changes to running the way reconcile does: lock, edit the
// candidate, commit, unlock.
func apply(t *testing.T, s *Session, changes []configtree.Change) {
	t.Helper()
	applyCtx(t.Context(), t, s, changes)
}

// applyCtx is apply for cleanups, which run after t.Context is cancelled.
func applyCtx(ctx context.Context, t *testing.T, s *Session, changes []configtree.Change) {
	t.Helper()
	lockWaitCtx(ctx, t, s, Candidate)
	defer func() {
		if err := s.Unlock(ctx, Candidate); err != nil {
			t.Errorf("unlock: %v", err)
		}
	}()
	if err := s.EditConfig(ctx, Candidate, changes); err != nil {
		_ = s.Discard(ctx)
		t.Fatalf("edit-config: %v", err)
	}
	if err := s.Commit(ctx, reconcile.CommitOptions{}); err != nil {
		_ = s.Discard(ctx)
		t.Fatalf("commit: %v", err)
	}
}

// withIface creates an interface on running and removes it when the test ends.
func withIface(t *testing.T, env deviceEnv, s *Session, desc string) string {
	t.Helper()
	name := ifName(t)
	apply(t, s, createIface(t, name, desc))
	t.Cleanup(func() {
		c, err := Dial(context.Background(), env.Target, env.Opts...)
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		defer c.Close(context.Background())
		applyCtx(context.Background(), t, c, deleteIface(t, name))
	})
	return name
}

func caseHello(t *testing.T, env deviceEnv) {
	s := env.dial(t)
	c := s.Capabilities()
	if !c.Candidate || !c.ConfirmedCommit || !c.Validate {
		t.Errorf("capabilities: candidate %v, confirmed-commit:1.1 %v, validate %v; want all", c.Candidate, c.ConfirmedCommit, c.Validate)
	}
	if !slices.Contains(c.Raw, "urn:ietf:params:netconf:base:1.1") {
		t.Errorf("no base:1.1 in %v", c.Raw)
	}
	if id := s.SessionID(); id == "" || id == "0" {
		t.Errorf("session-id %q", id)
	}
}

func caseGetConfigFiltered(t *testing.T, env deviceEnv) {
	s := env.dial(t)
	a := withIface(t, env, s, "customer A")
	b := withIface(t, env, s, "customer B")
	tree, err := s.GetConfig(t.Context(), Running, ifaceFilter(t, a))
	if err != nil {
		t.Fatal(err)
	}
	if n := tree.Find(configtree.Path("/interfaces/interface[name=" + a + "]/description")); n == nil || n.Value != "customer A" {
		t.Errorf("filtered get-config lacks %s:\n%s", a, tree)
	}
	if tree.Find(configtree.Path("/interfaces/interface[name="+b+"]")) != nil {
		t.Errorf("filtered get-config returned %s too:\n%s", b, tree)
	}
	for _, c := range tree.Root.Children {
		if c.Name != "interfaces" {
			t.Errorf("filtered get-config returned <%s>", c.Name)
		}
	}
	all, err := s.GetConfig(t.Context(), Running, nil)
	if err != nil {
		t.Fatal(err)
	}
	if all.Find(configtree.Path("/interfaces/interface[name="+b+"]")) == nil {
		t.Errorf("unfiltered get-config lacks %s", b)
	}
}

// caseGetConfigDigest: two reads of an unchanged configuration (each reply
// with its own message-id, one of them on another session) have one digest,
// and the known one is not parsed; a changed leaf changes the digest and is
// parsed. The daemon's no-op pass stands on it (planner.Verified): a server
// whose replies differ from read to read only costs the shortcut, one whose
// replies stay the same while the configuration changes would hide drift.
func caseGetConfigDigest(t *testing.T, env deviceEnv) {
	s := env.dial(t)
	ctx := t.Context()
	a := withIface(t, env, s, "customer A")
	filter := ifaceFilter(t, a)
	first, sum, err := s.GetConfigDigest(ctx, Running, filter, reconcile.Digest{})
	if err != nil {
		t.Fatal(err)
	}
	if first == nil || sum == (reconcile.Digest{}) {
		t.Fatalf("first read: tree %v, digest %x; want a tree and a digest", first, sum)
	}
	for _, sess := range []*Session{s, env.dial(t)} {
		again, sum2, err := sess.GetConfigDigest(ctx, Running, filter, sum)
		if err != nil {
			t.Fatal(err)
		}
		if sum2 != sum || again != nil {
			t.Fatalf("unchanged configuration read again: digest %x (first %x), tree %v; want the same digest and no tree", sum2, sum, again)
		}
	}
	apply(t, s, configtree.Diff(ifaceTree(t, a, "customer A"), ifaceTree(t, a, "customer a")))
	changed, sum3, err := s.GetConfigDigest(ctx, Running, filter, sum)
	if err != nil {
		t.Fatal(err)
	}
	if sum3 == sum || changed == nil {
		t.Fatalf("one leaf changed: digest %x (before %x), tree %v; want a new digest and the tree", sum3, sum, changed)
	}
	if n := changed.Find(configtree.Path("/interfaces/interface[name=" + a + "]/description")); n == nil || n.Value != "customer a" {
		t.Errorf("changed read lacks the new description:\n%s", changed)
	}
}

func caseLockEditCommit(t *testing.T, env deviceEnv) {
	s := env.dial(t)
	name := withIface(t, env, s, "first")
	apply(t, s, configtree.Diff(ifaceTree(t, name, "first"), ifaceTree(t, name, "second")))
	if d, ok := description(t, s, Running, name); !ok || d != "second" {
		t.Errorf("running description = %q (present %v), want second", d, ok)
	}
	// The lock is free again for another session.
	other := env.dial(t)
	lockWait(t, other, Candidate)
	if err := other.Unlock(t.Context(), Candidate); err != nil {
		t.Error(err)
	}
}

func caseConfirmedCancel(t *testing.T, env deviceEnv) {
	s := env.dial(t)
	ctx := t.Context()
	name := ifName(t)
	lockWait(t, s, Candidate)
	defer s.Unlock(ctx, Candidate)
	defer s.Discard(ctx)
	if err := s.EditConfig(ctx, Candidate, createIface(t, name, "tentative")); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, reconcile.CommitOptions{Confirmed: true, Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if _, ok := description(t, s, Running, name); !ok {
		t.Fatal("confirmed commit: running lacks the interface")
	}
	if err := s.CancelCommit(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if _, ok := description(t, s, Running, name); ok {
		t.Error("cancel-commit: running still has the interface")
	}
}

func caseConfirmedTimeout(t *testing.T, env deviceEnv) {
	s := env.dial(t)
	ctx := t.Context()
	name := ifName(t)
	lockWait(t, s, Candidate)
	defer s.Unlock(ctx, Candidate)
	defer s.Discard(ctx)
	if err := s.EditConfig(ctx, Candidate, createIface(t, name, "tentative")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.Commit(ctx, reconcile.CommitOptions{Confirmed: true, Timeout: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if _, ok := description(t, s, Running, name); !ok {
		t.Fatal("confirmed commit: running lacks the interface")
	}
	// Poll slowly: yuma123 netconfd runs its timers only once it has been idle
	// for about a second, so reading running every 100 ms (or 500 ms) kept a
	// 2 s confirmed commit alive for 15 s and more. A daemon that talks to a
	// device without pause must not count on its confirm timeout.
	deadline := start.Add(30 * time.Second)
	for {
		if _, ok := description(t, s, Running, name); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("running still has the interface 30 s after a 2 s confirmed commit")
		}
		time.Sleep(1500 * time.Millisecond) // polling interval, longer than the server's idle tick
	}
	if took := time.Since(start); took < 1500*time.Millisecond {
		t.Errorf("rolled back after %s, before the 2 s timeout", took)
	} else {
		t.Logf("rolled back after %s", took.Round(10*time.Millisecond))
	}
}

func caseLockDenied(t *testing.T, env deviceEnv) {
	holder := env.dial(t)
	lockWait(t, holder, Candidate)
	defer holder.Unlock(context.Background(), Candidate)
	s := env.dial(t)
	err := s.Lock(t.Context(), Candidate)
	var ld *reconcile.LockHeldError
	if !errors.As(err, &ld) {
		t.Fatalf("lock held by session %s: got %v, want *reconcile.LockHeldError", holder.SessionID(), err)
	}
	if ld.HeldBy != holder.SessionID() || ld.Device != env.Target.Device || ld.Target != Candidate {
		t.Errorf("reconcile.LockHeldError = %+v, want held by %s on %s", ld, holder.SessionID(), env.Target.Device)
	}
}

func caseWrongCredentials(t *testing.T, env deviceEnv) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []Auth{{signer: signer, source: "test"}, PasswordAuth("not-the-password")} {
		tg := env.Target
		tg.Auth = a
		_, err = Dial(t.Context(), tg, env.Opts...)
		var ae *AuthError
		if !errors.As(err, &ae) || ae.Device != tg.Device {
			t.Errorf("%v: got %v, want *AuthError", a, err)
		}
	}
}

func caseHostKey(t *testing.T, env deviceEnv) {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	tg := env.Target
	tg.KnownHosts = filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, tg.KnownHosts, KnownHostsLine(tg.Address, tg.Port, wrong)+"\n")
	_, err = Dial(t.Context(), tg, env.Opts...)
	var he *HostKeyError
	if !errors.As(err, &he) || len(he.Want) != 1 || he.Want[0] != ssh.FingerprintSHA256(wrong) || he.Got == he.Want[0] {
		t.Errorf("mismatch: got %v, want *HostKeyError", err)
	}
	writeFile(t, tg.KnownHosts, "")
	_, err = Dial(t.Context(), tg, env.Opts...)
	if !errors.As(err, &he) || len(he.Want) != 0 || !strings.Contains(err.Error(), "hostkeys fetch") {
		t.Errorf("unknown host: got %v, want *HostKeyError without Want", err)
	}
	// The key FetchHostKey reads is the one Dial rejected.
	key, err := FetchHostKey(t.Context(), tg.Address, tg.Port)
	if err != nil || ssh.FingerprintSHA256(key) != he.Got {
		t.Errorf("FetchHostKey = %v, %v; want %s", key, err, he.Got)
	}
}

func caseMonitoring(t *testing.T, env deviceEnv) {
	s := env.dial(t)
	other := env.dial(t)
	sessions, err := s.Sessions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, m := range sessions {
		if m.ID == other.SessionID() {
			found = true
			if m.Username != env.Target.Username || m.Transport == "" {
				t.Errorf("session %s: %+v", m.ID, m)
			}
		}
	}
	if !found {
		t.Errorf("sessions %+v lack the other session %s", sessions, other.SessionID())
	}
}
