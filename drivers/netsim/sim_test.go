package netsim

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/netrecon/netrecon/configtree"
)

const (
	getRunning   = `<get-config><source><running/></source></get-config>`
	getCandidate = `<get-config><source><candidate/></source></get-config>`
	lockCand     = `<lock><target><candidate/></target></lock>`
	unlockCand   = `<unlock><target><candidate/></target></unlock>`
	lockRunning  = `<lock><target><running/></target></lock>`
)

const ifaceA = `<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces"><interface><name>ge-0/0/1</name><description>a</description></interface></interfaces>`

func TestOptionsValidate(t *testing.T) {
	o := Options{Devices: []DeviceSpec{{Name: "a", Port: 70000}, {Name: "a"}, {}}, ListenAddr: "localhost"}
	err := o.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"Username", "Password", "ListenAddr", "out of range", "twice", "no name"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestHelloAndFraming(t *testing.T) {
	sim := startSim(t, 1)
	dev := sim.Device("d1")
	c := dialDevice(t, sim, dev)
	if !c.chunked {
		t.Fatal("client and server both speak base:1.1 but framing stayed end-of-message")
	}
	caps := map[string]bool{}
	for _, cp := range c.hello.child("capabilities").childrenNamed("capability") {
		caps[cp.text] = true
	}
	for _, want := range []string{
		capBase10, capBase11,
		"urn:ietf:params:netconf:capability:candidate:1.0",
		"urn:ietf:params:netconf:capability:confirmed-commit:1.1",
		"urn:ietf:params:netconf:capability:validate:1.1",
		"urn:ietf:params:netconf:capability:rollback-on-error:1.0",
	} {
		if !caps[want] {
			t.Errorf("capability %s not advertised", want)
		}
	}
	if c.sessionID == "" || c.sessionID == "0" {
		t.Errorf("session-id %q", c.sessionID)
	}
	c.call(getRunning)

	// A base:1.0-only client keeps end-of-message framing.
	old := dialDevice(t, sim, dev, func(o *dialOpts) { o.caps = []string{capBase10} })
	if old.chunked {
		t.Fatal("base:1.0 client switched to chunked framing")
	}
	old.call(getRunning)
	if old.sessionID == c.sessionID {
		t.Error("two sessions share one session-id")
	}
}

func TestAuthentication(t *testing.T) {
	signer, pub := newClientKey(t)
	sim := startSim(t, 1, func(o *Options) { o.AuthorizedKeys = []ssh.PublicKey{pub} })
	dev := sim.Device("d1")
	if _, err := tryDial(t, sim, dev, func(o *dialOpts) { o.auth = []ssh.AuthMethod{ssh.Password("wrong")} }); err == nil {
		t.Error("wrong password accepted")
	}
	if _, err := tryDial(t, sim, dev, func(o *dialOpts) { o.user = "mallory" }); err == nil {
		t.Error("wrong user accepted")
	}
	other, _ := newClientKey(t)
	if _, err := tryDial(t, sim, dev, func(o *dialOpts) { o.auth = []ssh.AuthMethod{ssh.PublicKeys(other)} }); err == nil {
		t.Error("unknown key accepted")
	}
	c := dialDevice(t, sim, dev, func(o *dialOpts) { o.auth = []ssh.AuthMethod{ssh.PublicKeys(signer)} })
	c.call(getRunning)
}

func TestRotateHostKey(t *testing.T) {
	sim := startSim(t, 1)
	dev := sim.Device("d1")
	pinned := sim.KnownHosts()
	if !strings.HasPrefix(string(pinned), "[127.0.0.1]:") {
		t.Fatalf("known_hosts line %q not in [addr]:port form", pinned)
	}
	dialDevice(t, sim, dev).close()
	if err := dev.RotateHostKey(); err != nil {
		t.Fatal(err)
	}
	_, err := tryDial(t, sim, dev, func(o *dialOpts) {
		o.hostKeyCB = knownHostsCB(t, pinned)
	})
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) || len(ke.Want) == 0 {
		t.Fatalf("dial with the old key pinned: got %v, want a host key mismatch", err)
	}
	dialDevice(t, sim, dev).close() // the new KnownHosts has the new key
}

func TestGetConfigAndFilter(t *testing.T) {
	sim := startSim(t, 1)
	dev := sim.Device("d1")
	want := mustParse(t, ifaceA+`<system xmlns="urn:example:system"><hostname>pe1</hostname></system>`)
	dev.SetRunning(want)
	c := dialDevice(t, sim, dev)
	if got := c.data(getRunning); !got.Equal(want) {
		t.Fatalf("running = %s, want %s", got, want)
	}
	if got := c.data(getCandidate); !got.Equal(want) {
		t.Fatalf("candidate without changes = %s, want running %s", got, want)
	}
	got := c.data(`<get-config><source><running/></source><filter type="subtree"><interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces"/></filter></get-config>`)
	if wantF := mustParse(t, ifaceA); !got.Equal(wantF) {
		t.Fatalf("filtered = %s, want %s", got, wantF)
	}
	if got := c.data(`<get-config><source><running/></source><with-defaults xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults">explicit</with-defaults></get-config>`); !got.Equal(want) {
		t.Fatalf("with-defaults explicit = %s", got)
	}
	c.fails(`<get-config><source><running/></source><with-defaults xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults">most</with-defaults></get-config>`, "invalid-value")
	// An empty filter selects nothing (RFC 6241 6.4.2).
	if got := c.data(`<get-config><source><running/></source><filter type="subtree"></filter></get-config>`); got.Len() != 0 {
		t.Fatalf("empty filter selected %s", got)
	}
	// A content-match node selects one list entry.
	got = c.data(`<get-config><source><running/></source><filter type="subtree"><system xmlns="urn:example:system"><hostname>nope</hostname></system></filter></get-config>`)
	if got.Len() != 0 {
		t.Fatalf("content match on a wrong value selected %s", got)
	}
	c.fails(`<get-config><source><startup/></source></get-config>`, "invalid-value")
	c.fails(`<get-config><source><running/></source><filter type="xpath" select="/"/></get-config>`, "bad-attribute")
	// Running() is a copy: changing it does not change the device.
	r := dev.Running()
	r.Root.Children = nil
	if !dev.Running().Equal(want) {
		t.Fatal("Running() shares state with the device")
	}
}

func TestEditCommitDiscard(t *testing.T) {
	sim := startSim(t, 1)
	dev := sim.Device("d1")
	c := dialDevice(t, sim, dev)
	c.ok(lockCand)
	c.ok(`<edit-config><target><candidate/></target><config>` + ifaceA + `</config></edit-config>`)
	if !dev.Running().Equal(mustParse(t, "")) {
		t.Fatal("edit-config changed running before commit")
	}
	if got := c.data(getCandidate); !got.Equal(mustParse(t, ifaceA)) {
		t.Fatalf("candidate = %s", got)
	}
	c.ok(`<validate><source><candidate/></source></validate>`)
	c.ok(`<commit/>`)
	if !dev.Running().Equal(mustParse(t, ifaceA)) {
		t.Fatalf("running after commit = %s", dev.Running())
	}
	// A failing edit changes nothing (rollback-on-error).
	e := c.fails(`<edit-config><target><candidate/></target><error-option>rollback-on-error</error-option><config>`+
		`<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces" xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0">`+
		`<interface><name>ge-0/0/2</name><description>new</description></interface>`+
		`<interface nc:operation="delete"><name>ge-9/9/9</name></interface></interfaces></config></edit-config>`, "data-missing")
	if e.child("error-path") == nil {
		t.Error("data-missing without error-path")
	}
	if got := c.data(getCandidate); !got.Equal(mustParse(t, ifaceA)) {
		t.Fatalf("candidate after failed edit = %s", got)
	}
	// discard-changes reverts the candidate to running.
	c.ok(`<edit-config><target><candidate/></target><default-operation>replace</default-operation><config><system xmlns="urn:example:system"><hostname>x</hostname></system></config></edit-config>`)
	c.ok(`<discard-changes/>`)
	if got := c.data(getCandidate); !got.Equal(mustParse(t, ifaceA)) {
		t.Fatalf("candidate after discard = %s", got)
	}
	c.fails(`<edit-config><target><running/></target><config/></edit-config>`, "operation-not-supported")
	c.fails(`<edit-config><target><candidate/></target></edit-config>`, "missing-element")
	c.ok(unlockCand)
}

func TestLocks(t *testing.T) {
	sim := startSim(t, 1)
	dev := sim.Device("d1")
	a := dialDevice(t, sim, dev)
	b := dialDevice(t, sim, dev)
	a.ok(lockCand)
	e := b.fails(lockCand, "lock-denied")
	if got := e.child("error-info").child("session-id").text; got != a.sessionID {
		t.Fatalf("lock-denied names session %q, want %q", got, a.sessionID)
	}
	a.fails(lockCand, "lock-denied") // a lock is not re-entrant
	b.fails(`<edit-config><target><candidate/></target><config>`+ifaceA+`</config></edit-config>`, "in-use")
	b.fails(unlockCand, "operation-failed")
	// Uncommitted changes of the lock holder are discarded when it goes.
	a.ok(`<edit-config><target><candidate/></target><config>` + ifaceA + `</config></edit-config>`)
	a.close()
	eventually(t, 5*time.Second, "lock released after session end", func() bool {
		r, err := b.tryCall(lockCand)
		return err == nil && r.child("ok") != nil
	})
	if got := b.data(getCandidate); !got.Equal(mustParse(t, "")) {
		t.Fatalf("candidate kept the closed session's changes: %s", got)
	}
	b.ok(unlockCand)

	// A candidate with uncommitted changes cannot be locked (RFC 6241 8.3.5.1).
	b.ok(`<edit-config><target><candidate/></target><config>` + ifaceA + `</config></edit-config>`)
	b.fails(lockCand, "lock-denied")
	b.ok(`<discard-changes/>`)
	b.ok(lockCand)
	b.ok(unlockCand)
}

func TestHoldLockKnob(t *testing.T) {
	sim := startSim(t, 1)
	dev := sim.Device("d1")
	if err := dev.HoldLock(Running); err != nil {
		t.Fatal(err)
	}
	if err := dev.HoldLock("startup"); err == nil {
		t.Error("HoldLock accepted an unknown datastore")
	}
	c := dialDevice(t, sim, dev)
	e := c.fails(lockRunning, "lock-denied")
	id := e.child("error-info").child("session-id").text
	if id == "" || id == "0" || id == c.sessionID {
		t.Fatalf("lock-denied names session %q", id)
	}
	c.fails(`<commit/>`, "in-use")
	dev.ReleaseLock()
	c.ok(lockRunning)
	if err := dev.HoldLock(Running); err == nil {
		t.Error("HoldLock took a lock a session holds")
	}
}

func TestConfirmedCommitTimeout(t *testing.T) {
	sim := startSim(t, 1)
	dev := sim.Device("d1")
	before := mustParse(t, `<system xmlns="urn:example:system"><hostname>old</hostname></system>`)
	dev.SetRunning(before)
	c := dialDevice(t, sim, dev)
	c.ok(`<edit-config><target><candidate/></target><config>` + ifaceA + `</config></edit-config>`)
	c.ok(`<commit><confirmed/><confirm-timeout>1</confirm-timeout><persist>p1</persist></commit>`)
	after := dev.Running()
	if after.Equal(before) || !dev.ConfirmPending() {
		t.Fatal("confirmed commit did not apply at once")
	}
	eventually(t, 10*time.Second, "rollback at confirm-timeout", func() bool { return dev.Running().Equal(before) })
	if dev.ConfirmPending() {
		t.Fatal("still pending after rollback")
	}
	if got := c.data(getCandidate); !got.Equal(before) {
		t.Fatalf("candidate after rollback = %s, want %s", got, before)
	}
	// Confirming now finds nothing to confirm.
	c.fails(`<commit><persist-id>p1</persist-id></commit>`, "invalid-value")
}

func TestConfirmedCommitPersistAcrossSessions(t *testing.T) {
	sim := startSim(t, 1)
	dev := sim.Device("d1")
	a := dialDevice(t, sim, dev)
	a.ok(`<edit-config><target><candidate/></target><config>` + ifaceA + `</config></edit-config>`)
	a.ok(`<commit><confirmed/><confirm-timeout>600</confirm-timeout><persist>tx-42</persist></commit>`)
	a.close()
	b := dialDevice(t, sim, dev)
	// The session is gone but the commit persists.
	eventually(t, 5*time.Second, "session a to end", func() bool { return dev.Sessions() == 1 })
	if !dev.ConfirmPending() || !dev.Running().Equal(mustParse(t, ifaceA)) {
		t.Fatal("persisted confirmed commit rolled back when its session closed")
	}
	b.fails(`<commit/>`, "invalid-value")
	b.fails(`<commit><persist-id>wrong</persist-id></commit>`, "invalid-value")
	b.ok(`<commit><persist-id>tx-42</persist-id></commit>`)
	if dev.ConfirmPending() || !dev.Running().Equal(mustParse(t, ifaceA)) {
		t.Fatal("confirming commit did not confirm")
	}

	// cancel-commit with persist-id from another session rolls back.
	b.ok(`<edit-config><target><candidate/></target><default-operation>replace</default-operation><config><system xmlns="urn:example:system"><hostname>n</hostname></system></config></edit-config>`)
	b.ok(`<commit><confirmed/><persist>tx-43</persist></commit>`)
	c := dialDevice(t, sim, dev)
	c.fails(`<cancel-commit/>`, "invalid-value")
	c.ok(`<cancel-commit><persist-id>tx-43</persist-id></cancel-commit>`)
	if !dev.Running().Equal(mustParse(t, ifaceA)) {
		t.Fatalf("running after cancel-commit = %s", dev.Running())
	}
	c.fails(`<cancel-commit><persist-id>tx-43</persist-id></cancel-commit>`, "operation-failed")
}

func TestConfirmedCommitWithoutPersist(t *testing.T) {
	sim := startSim(t, 1)
	dev := sim.Device("d1")
	a := dialDevice(t, sim, dev)
	b := dialDevice(t, sim, dev)
	a.ok(`<edit-config><target><candidate/></target><config>` + ifaceA + `</config></edit-config>`)
	a.ok(`<commit><confirmed/></commit>`)
	// Only the issuing session may confirm or cancel.
	b.fails(`<commit/>`, "in-use")
	b.fails(`<cancel-commit/>`, "in-use")
	// A follow-up confirmed commit keeps the first pre-image.
	a.ok(`<edit-config><target><candidate/></target><config><system xmlns="urn:example:system"><hostname>n</hostname></system></config></edit-config>`)
	a.ok(`<commit><confirmed/></commit>`)
	// Its session ending rolls back at once (RFC 6241 8.4.1).
	a.close()
	eventually(t, 5*time.Second, "rollback when the session ends", func() bool { return dev.Running().Equal(mustParse(t, "")) })
	if dev.ConfirmPending() {
		t.Fatal("still pending")
	}
}

func TestRejectCommit(t *testing.T) {
	sim := startSim(t, 1)
	dev := sim.Device("d1")
	c := dialDevice(t, sim, dev)
	c.ok(`<edit-config><target><candidate/></target><config>` + ifaceA + `</config></edit-config>`)
	dev.RejectCommit("commit check failed: interface ge-0/0/1 missing")
	e := c.fails(`<commit/>`, "operation-failed")
	if !strings.Contains(e.child("error-message").text, "ge-0/0/1") {
		t.Errorf("message %q", e.child("error-message").text)
	}
	if !dev.Running().Equal(mustParse(t, "")) {
		t.Fatal("a rejected commit changed running")
	}
	dev.ClearRejectCommit()
	c.ok(`<commit/>`)
}

func TestDropConnectionAt(t *testing.T) {
	sim := startSim(t, 1)
	dev := sim.Device("d1")
	c := dialDevice(t, sim, dev)
	dev.DropConnectionAt("commit", 2)
	c.ok(`<commit/>`)
	if _, err := c.tryCall(`<commit/>`); err == nil {
		t.Fatal("got a reply to the commit that should drop the connection")
	}
	if got := dev.RPCCount("commit"); got != 2 {
		t.Fatalf("RPCCount(commit) = %d, want 2", got)
	}
	// The rule fired once: a new session works.
	c2 := dialDevice(t, sim, dev)
	c2.ok(`<commit/>`)
}

// SessionsOpened counts the sessions clients opened, and DropSessions cuts
// every open one: the client's next rpc fails, a new session works.
func TestSessionsOpenedAndDropSessions(t *testing.T) {
	sim := startSim(t, 2)
	dev, other := sim.Device("d1"), sim.Device("d2")
	c1 := dialDevice(t, sim, dev)
	c2 := dialDevice(t, sim, dev)
	o := dialDevice(t, sim, other)
	if got := dev.SessionsOpened(); got != 2 {
		t.Fatalf("SessionsOpened = %d after two dials, want 2", got)
	}
	if got := dev.DropSessions(); got != 2 {
		t.Fatalf("DropSessions = %d, want 2", got)
	}
	for _, c := range []*rawClient{c1, c2} {
		if _, err := c.tryCall(getRunning); err == nil {
			t.Fatal("an rpc on a dropped session got a reply")
		}
	}
	eventually(t, 5*time.Second, "the dropped sessions to end", func() bool { return dev.Sessions() == 0 })
	o.call(getRunning) // another device's session is not touched
	dialDevice(t, sim, dev).call(getRunning)
	if got := dev.SessionsOpened(); got != 3 {
		t.Fatalf("SessionsOpened = %d, want 3", got)
	}
	dev.ResetCounters()
	if got := dev.SessionsOpened(); got != 0 {
		t.Fatalf("SessionsOpened = %d after ResetCounters, want 0", got)
	}
}

func TestLatency(t *testing.T) {
	sim := startSim(t, 1)
	dev := sim.Device("d1")
	c := dialDevice(t, sim, dev)
	dev.SetLatency(150 * time.Millisecond)
	start := time.Now()
	c.call(getRunning)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("reply after %v, want at least 150ms", d)
	}
	dev.SetLatency(0)
}

func TestMonitoringSessions(t *testing.T) {
	sim := startSim(t, 1)
	dev := sim.Device("d1")
	c := dialDevice(t, sim, dev)
	filter := `<get><filter type="subtree"><netconf-state xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"><sessions/></netconf-state></filter></get>`
	users := func() map[string]string {
		got := map[string]string{}
		c.data(filter).Walk(func(p configtree.Path, n *configtree.Node) bool {
			if n.Name == "session" {
				var id, user string
				for _, k := range n.Children {
					switch k.Name {
					case "session-id":
						id = k.Value
					case "username":
						user = k.Value
					}
				}
				got[id] = user
			}
			return true
		})
		return got
	}
	if got := users(); len(got) != 1 || got[c.sessionID] != testUser {
		t.Fatalf("sessions = %v, want only %s=%s", got, c.sessionID, testUser)
	}
	dev.AddOperatorSession("alice")
	got := users()
	found := false
	for _, u := range got {
		found = found || u == "alice"
	}
	if !found || len(got) != 2 {
		t.Fatalf("sessions = %v, want alice listed", got)
	}
	dev.RemoveOperatorSession("alice")
	if got := users(); len(got) != 1 {
		t.Fatalf("sessions after remove = %v", got)
	}
	// Every field RFC 6022 lists for a session is there.
	raw := string(c.call(filter).child("data").inner)
	for _, want := range []string{"<transport", "netconf-ssh", "<source-host>127.0.0.1<", "<login-time>"} {
		if !strings.Contains(raw, want) {
			t.Errorf("monitoring data lacks %s: %s", want, raw)
		}
	}
}

func TestProtocolErrors(t *testing.T) {
	sim := startSim(t, 1)
	dev := sim.Device("d1")
	c := dialDevice(t, sim, dev)
	c.fails(`<kill-session><session-id>9</session-id></kill-session>`, "operation-not-supported")
	c.fails(`<frobnicate/>`, "operation-not-supported")

	// Attributes of <rpc> come back on <rpc-reply> (RFC 6241 4.2).
	if err := c.send(`<rpc message-id="m-7" xmlns="` + nsBase + `" xmlns:ex="urn:example" ex:user-id="fred"><get-config><source><running/></source></get-config></rpc>`); err != nil {
		t.Fatal(err)
	}
	msg, err := c.read()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(msg), `message-id="m-7"`) || !strings.Contains(string(msg), `ex:user-id="fred"`) {
		t.Fatalf("attributes not echoed: %s", msg)
	}
	// No message-id: missing-attribute.
	if err := c.send(`<rpc xmlns="` + nsBase + `"><get/></rpc>`); err != nil {
		t.Fatal(err)
	}
	msg, _ = c.read()
	if !strings.Contains(string(msg), "missing-attribute") {
		t.Fatalf("reply to rpc without message-id: %s", msg)
	}
	// Not XML: malformed-message, and the session goes on.
	if err := c.send(`<rpc message-id="1" xmlns="` + nsBase + `"><get>`); err != nil {
		t.Fatal(err)
	}
	msg, _ = c.read()
	if !strings.Contains(string(msg), "malformed-message") {
		t.Fatalf("reply to malformed XML: %s", msg)
	}
	c.call(getRunning)
	c.ok(`<close-session/>`)
	eventually(t, 5*time.Second, "session closed", func() bool { return dev.Sessions() == 0 })
}

func TestRPCCounters(t *testing.T) {
	sim := startSim(t, 2)
	d1, d2 := sim.Device("d1"), sim.Device("d2")
	c := dialDevice(t, sim, d1)
	c.call(getRunning)
	c.call(getRunning)
	c.ok(lockCand)
	if got := d1.RPCCount("get-config"); got != 2 {
		t.Fatalf("get-config count = %d", got)
	}
	if got := d1.RPCCounts()["lock"]; got != 1 {
		t.Fatalf("lock count = %d", got)
	}
	if got := d2.RPCCount("get-config"); got != 0 {
		t.Fatalf("d2 counted %d rpcs it never got", got)
	}
	d1.ResetCounters()
	if got := d1.RPCCount("get-config"); got != 0 {
		t.Fatalf("after reset: %d", got)
	}
}

func TestCloseLeavesNoGoroutine(t *testing.T) {
	base := runtime.NumGoroutine()
	sim, err := Start(context.Background(), Options{
		Username: testUser, Password: testPassword,
		Devices: []DeviceSpec{{Name: "a"}, {Name: "b"}, {Name: "c"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range sim.Devices() {
		c := dialDevice(t, sim, d)
		c.ok(`<edit-config><target><candidate/></target><config>` + ifaceA + `</config></edit-config>`)
		c.ok(`<commit><confirmed/><persist>x</persist></commit>`)
		d.SetLatency(time.Hour) // a reply waiting on latency must not hold Close
		go c.tryCall(getRunning)
	}
	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sim.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	eventually(t, 10*time.Second, "goroutines to end", func() bool { return runtime.NumGoroutine() <= base+2 })
}

func TestStartCancelledContextStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	sim, err := Start(ctx, Options{Username: testUser, Password: testPassword, Devices: []DeviceSpec{{Name: "a"}}})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	eventually(t, 5*time.Second, "listener closed", func() bool {
		_, err := tryDial(t, sim, sim.Device("a"))
		return err != nil
	})
	_ = sim.Close()
}

func TestPortInUse(t *testing.T) {
	sim := startSim(t, 1)
	_, err := Start(context.Background(), Options{Username: "u", Password: "p",
		Devices: []DeviceSpec{{Name: "x", Port: sim.Device("d1").Port}}})
	if err == nil {
		t.Fatal("Start on a busy port succeeded")
	}
}

func TestSwallowReplyAt(t *testing.T) {
	sim := startSim(t, 1)
	dev := sim.Device("d1")
	a := dialDevice(t, sim, dev)
	b := dialDevice(t, sim, dev)
	dev.SwallowReplyAt("lock", 1)
	if err := a.send(`<rpc message-id="lost" xmlns="` + nsBase + `">` + lockCand + `</rpc>`); err != nil {
		t.Fatal(err)
	}
	// Only once a's lock has arrived may b send one, or b's would be the
	// first and be swallowed instead.
	eventually(t, 5*time.Second, "a's lock to arrive", func() bool { return dev.RPCCount("lock") == 1 })
	// The lock was granted although its reply never came, as on netconfd.
	eventually(t, 5*time.Second, "swallowed lock to be granted", func() bool {
		r := b.call(lockCand)
		if r.child("ok") != nil {
			b.ok(unlockCand) // b was first; a's lock has not arrived yet
			return false
		}
		return r.child("rpc-error").child("error-info").child("session-id").text == a.sessionID
	})
	// The session goes on: the next reply answers the next rpc.
	a.call(getRunning) // call checks the message-id
}

func TestLoseCommitAfterValidate(t *testing.T) {
	sim := startSim(t, 1)
	dev := sim.Device("d1")
	c := dialDevice(t, sim, dev)
	dev.LoseCommitAfterValidate(true)
	c.ok(`<edit-config><target><candidate/></target><config>` + ifaceA + `</config></edit-config>`)
	c.ok(`<validate><source><candidate/></source></validate>`)
	c.ok(`<commit/>`)
	if !dev.Running().Equal(mustParse(t, "")) {
		t.Fatal("commit after validate changed running; the quirk should lose it")
	}
	if !dev.Candidate().Equal(mustParse(t, ifaceA)) {
		t.Fatal("the candidate should keep the edit")
	}
	c.ok(`<commit/>`) // without a validate in between it works
	if !dev.Running().Equal(mustParse(t, ifaceA)) {
		t.Fatal("second commit lost too")
	}
}

// TestCancelCommitKeepsUnderRunningLock follows the raw-XML probe of the lab's
// netconfd: cancel-commit from the session holding the running lock answers
// ok, keeps the change and ends the pending commit; another session gets
// in-use while running is locked; with running unlocked the cancel works.
func TestCancelCommitKeepsUnderRunningLock(t *testing.T) {
	sim := startSim(t, 1)
	dev := sim.Device("d1")
	dev.CancelCommitKeepsUnderRunningLock(true)
	empty := mustParse(t, "")
	commit := func(c *rawClient) {
		t.Helper()
		c.ok(`<edit-config><target><candidate/></target><config>` + ifaceA + `</config></edit-config>`)
		c.ok(`<commit><confirmed/><confirm-timeout>600</confirm-timeout><persist>p1</persist></commit>`)
		if !dev.Running().Equal(mustParse(t, ifaceA)) {
			t.Fatal("the confirmed commit did not land")
		}
	}
	const cancel = `<cancel-commit><persist-id>p1</persist-id></cancel-commit>`

	a := dialDevice(t, sim, dev)
	a.ok(`<lock><target><candidate/></target></lock>`)
	a.ok(`<lock><target><running/></target></lock>`)
	commit(a)
	// Another session, while a holds running: in-use.
	b := dialDevice(t, sim, dev)
	b.fails(cancel, "in-use")
	// The holder: ok, and nothing rolled back, for good.
	a.ok(cancel)
	if !dev.Running().Equal(mustParse(t, ifaceA)) {
		t.Fatal("cancel-commit under the running lock rolled back; the quirk should keep the change")
	}
	if dev.ConfirmPending() {
		t.Fatal("the confirmed commit is still pending; netconfd ends it")
	}
	a.fails(cancel, "operation-failed") // nothing left to cancel
	a.ok(`<unlock><target><running/></target></unlock>`)
	a.fails(cancel, "operation-failed")

	// Without the running lock the same cancel works.
	dev.SetRunning(empty)
	commit(a)
	a.ok(cancel)
	if !dev.Running().Equal(empty) {
		t.Fatal("cancel-commit without the running lock did not roll back")
	}
	// And with the knob off, the lock does not matter.
	dev.CancelCommitKeepsUnderRunningLock(false)
	a.ok(`<lock><target><running/></target></lock>`)
	commit(a)
	a.ok(cancel)
	if !dev.Running().Equal(empty) {
		t.Fatal("knob off: cancel-commit did not roll back")
	}
}

// TestRefuseRemoveOfEntryUnderAbsentParent: on from Start, as the lab's
// netconfd answers (drivers/netconf caseRemoveAbsent holds both to it): the
// remove of an absent entry under an absent parent is data-missing with its
// app-tag; under a present parent it is ignored; off, RFC 6241 ignores both.
func TestRefuseRemoveOfEntryUnderAbsentParent(t *testing.T) {
	sim := startSim(t, 1)
	dev := sim.Device("d1")
	c := dialDevice(t, sim, dev)
	const removeGone = `<edit-config><target><candidate/></target><config>` +
		`<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces" xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0">` +
		`<interface nc:operation="remove"><name>ge-9/9/9</name></interface></interfaces></config></edit-config>`
	e := c.fails(removeGone, "data-missing")
	if at := e.child("error-app-tag"); at == nil || at.text != "instance-required" {
		t.Errorf("error-app-tag %v, want instance-required", at)
	}
	if p := e.child("error-path"); p == nil || !strings.Contains(p.text, "ge-9/9/9") {
		t.Errorf("error-path %v, want the entry", p)
	}
	c.ok(`<edit-config><target><candidate/></target><config>` + ifaceA + `</config></edit-config>`)
	c.ok(removeGone) // <interfaces> is there now
	c.ok(`<discard-changes/>`)
	dev.RefuseRemoveOfEntryUnderAbsentParent(false)
	c.ok(removeGone)
}
