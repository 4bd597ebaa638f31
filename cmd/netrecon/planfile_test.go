package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/drivers/netsim"
	"github.com/netrecon/netrecon/render"
)

const macRefused = "edited outside netrecon or made with another state folder: re-run plan"

// planFileEnv is two simulated routers and an intent repo with one
// attachment circuit on each (crashRepo).
type planFileEnv struct {
	sim   *netsim.Sim
	tg    crashTarget
	repo  string
	state string
}

func newPlanFileEnv(t *testing.T) *planFileEnv {
	t.Helper()
	keys := func(p string) configtree.Keys { return render.Keys(p, nil) }
	sim, err := netsim.Start(context.Background(), netsim.Options{
		Devices:  []netsim.DeviceSpec{{Name: "pe1", Platform: "ietf"}, {Name: "pe2", Platform: "ietf"}},
		Username: "netrecon", Password: "s3cret", Keys: keys,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, sim.KnownHosts(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NETRECON_PF_PASSWORD", "s3cret")
	tg := crashTarget{user: "netrecon", creds: "      passwordEnv: NETRECON_PF_PASSWORD\n", knownHosts: kh, keys: keys}
	for _, d := range sim.Devices() {
		tg.devices = append(tg.devices, crashDevice{d.Name, d.Address, d.Port})
	}
	tg.dial = func(t *testing.T, d crashDevice) *netconf.Session {
		s, err := netconf.Dial(context.Background(), netconf.Target{Device: d.name, Address: d.address, Port: d.port, Username: "netrecon", Auth: netconf.PasswordAuth("s3cret"), KnownHosts: kh}, netconf.WithKeys(keys("ietf")))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return &planFileEnv{sim: sim, tg: tg, repo: crashRepo(t, tg, 120), state: t.TempDir()}
}

// run runs netrecon with the env's state folder and known hosts.
func (e *planFileEnv) run(t *testing.T, state string, args ...string) (int, string, string) {
	t.Helper()
	return netrecon(t, append(args, "--state", state, "--known-hosts", e.tg.knownHosts)...)
}

// planOut saves a live plan of the repo to a file and returns its path.
func (e *planFileEnv) planOut(t *testing.T, state string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "p.plan")
	if code, out, errs := e.run(t, state, "plan", e.repo, "--out", f); code != 2 {
		t.Fatalf("plan --out: exit %d, want 2\n%s%s", code, out, errs)
	}
	return f
}

func (e *planFileEnv) applyFile(t *testing.T, state, f string) (int, string, string) {
	t.Helper()
	return e.run(t, state, "apply", f, "--dir", e.repo, "--auto-approve")
}

func (e *planFileEnv) edits() int {
	n := 0
	for _, d := range e.sim.Devices() {
		n += d.RPCCount("edit-config")
	}
	return n
}

// forged is a plan file as a text editor sees it: the fields of versions 1
// and 2 in their order, trees kept as they are.
type forged struct {
	MAC           string          `json:"mac,omitempty"`
	FormatVersion int             `json:"format_version"`
	Mode          string          `json:"mode"`
	IntentCommit  string          `json:"intent_commit"`
	Base          json.RawMessage `json:"base"`
	Head          json.RawMessage `json:"head"`
	Devices       []struct {
		Name        string          `json:"name"`
		Platform    string          `json:"platform"`
		Fingerprint string          `json:"fingerprint,omitempty"`
		Error       string          `json:"error,omitempty"`
		Desired     json.RawMessage `json:"desired,omitempty"`
		Live        json.RawMessage `json:"live,omitempty"`
		Changes     []forgedChange  `json:"changes"`
	} `json:"devices"`
	Checksum *string `json:"checksum,omitempty"`
}

type forgedChange struct {
	Action    string             `json:"action"`
	Path      string             `json:"path"`
	Leaf      bool               `json:"leaf,omitempty"`
	Before    string             `json:"before,omitempty"`
	After     string             `json:"after,omitempty"`
	Owners    []string           `json:"owners,omitempty"`
	Reason    string             `json:"reason,omitempty"`
	Node      *configtree.Node   `json:"node,omitempty"`
	Ancestors []*configtree.Node `json:"ancestors,omitempty"`
}

// forge rewrites the changes of a plan file as someone with a text editor
// would, and recomputes the plain sha256 a version 1 file carried: anyone
// can.
func forge(t *testing.T, path string, edit func(c *forgedChange)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f forged
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	for i := range f.Devices {
		for j := range f.Devices[i].Changes {
			edit(&f.Devices[i].Changes[j])
		}
	}
	if f.Checksum != nil {
		// Version 1: sha256 over the compact file with an empty checksum.
		empty := ""
		f.Checksum = &empty
		compact, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(compact)
		sum := "sha256:" + hex.EncodeToString(h[:])
		f.Checksum = &sum
	}
	out, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestPlanFileApply: plan -out FILE, then apply FILE, brings every device
// to the intent, and a second apply of the same file is refused.
func TestPlanFileApply(t *testing.T) {
	e := newPlanFileEnv(t)
	f := e.planOut(t, e.state)
	code, out, errs := e.applyFile(t, e.state, f)
	if code != 0 {
		t.Fatalf("apply FILE: exit %d\n%s%s", code, out, errs)
	}
	for _, d := range e.tg.devices {
		if st := deviceState(t, e.tg, e.repo, d); st != "new" {
			t.Errorf("%s is %s after apply FILE", d.name, st)
		}
	}
	if code, out, errs := e.applyFile(t, e.state, f); code != 1 || !strings.Contains(errs, "changed since the plan was made") {
		t.Errorf("second apply of the file: exit %d\n%s%s", code, out, errs)
	}
}

// TestPlanFileTamperedAncestors is the attack of issue 10 item 3: the
// displayed change is one description on the managed interface, the edit
// goes to a person's interface, and the model of the result equals the
// pre-image so verify sees nothing.
func TestPlanFileTamperedAncestors(t *testing.T) {
	e := newPlanFileEnv(t)
	if code, out, errs := e.run(t, e.state, "apply", e.repo, "--auto-approve"); code != 0 {
		t.Fatalf("first apply: exit %d\n%s%s", code, out, errs)
	}
	pe1 := e.sim.Device("pe1")
	human, err := configtree.Parse(strings.NewReader(`<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces"><interface><name>ge-0/0/5</name><description>by hand</description></interface></interfaces>`), "human", render.Keys("ietf", nil))
	if err != nil {
		t.Fatal(err)
	}
	withHuman := pe1.Running()
	if err := configtree.MergeAll(withHuman, human); err != nil {
		t.Fatal(err)
	}
	pe1.SetRunning(withHuman)
	svc := filepath.Join(e.repo, "services/crash/crash-120-pe1.yaml")
	b, _ := os.ReadFile(svc)
	if err := os.WriteFile(svc, []byte(strings.Replace(string(b), "description: crash test", "description: changed test", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	f := e.planOut(t, e.state)
	old := ""
	forge(t, f, func(c *forgedChange) {
		if c.Action != "~" {
			return
		}
		entry := *c.Ancestors[len(c.Ancestors)-1]
		key := *entry.Children[0]
		key.Value = "ge-0/0/5"
		entry.Children = []*configtree.Node{&key}
		c.Ancestors[len(c.Ancestors)-1] = &entry
		old = c.Before
		c.Node.Value = old // running keeps its value: nothing for verify to see
	})
	if old == "" {
		t.Fatal("the plan has no update to tamper with")
	}
	before := e.edits()
	code, out, errs := e.applyFile(t, e.state, f)
	if code != 1 || !strings.Contains(errs, macRefused) {
		t.Errorf("tampered file: exit %d, want 1 and %q\n%s%s", code, macRefused, out, errs)
	}
	if got := pe1.Running().Find("/interfaces/interface[name=ge-0/0/5]/description"); got == nil || got.Value != "by hand" {
		t.Errorf("the person's interface was edited: %+v", got)
	}
	if n := e.edits() - before; n != 0 {
		t.Errorf("%d edit-config sent for a tampered file", n)
	}
}

// TestPlanFileEditedByte: one character of a description changed, and the
// plain checksum recomputed.
func TestPlanFileEditedByte(t *testing.T) {
	e := newPlanFileEnv(t)
	f := e.planOut(t, e.state)
	forge(t, f, func(c *forgedChange) {
		if strings.HasPrefix(c.After, "crash test") {
			c.After = "Crash test" + strings.TrimPrefix(c.After, "crash test")
		}
	})
	code, out, errs := e.applyFile(t, e.state, f)
	if code != 1 || !strings.Contains(errs, macRefused) {
		t.Errorf("edited file: exit %d, want 1 and %q\n%s%s", code, macRefused, out, errs)
	}
	if n := e.edits(); n != 0 {
		t.Errorf("%d edit-config sent for an edited file", n)
	}
}

func TestPlanFileOtherStateFolder(t *testing.T) {
	e := newPlanFileEnv(t)
	f := e.planOut(t, e.state)
	code, out, errs := e.applyFile(t, t.TempDir(), f)
	if code != 1 || !strings.Contains(errs, macRefused) {
		t.Errorf("file of another state folder: exit %d, want 1 and %q\n%s%s", code, macRefused, out, errs)
	}
	if n := e.edits(); n != 0 {
		t.Errorf("%d edit-config sent", n)
	}
}

// TestPlanFileDeviceChanged: a device edited by hand between plan and
// apply is refused by the re-diff, naming the device and the first change
// that differs, before any device is locked.
func TestPlanFileDeviceChanged(t *testing.T) {
	e := newPlanFileEnv(t)
	f := e.planOut(t, e.state)
	hand, err := configtree.Parse(strings.NewReader(`<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces"><interface><name>ge-9/9/9.120</name><description>by hand</description></interface></interfaces>`), "hand", render.Keys("ietf", nil))
	if err != nil {
		t.Fatal(err)
	}
	e.sim.Device("pe2").SetRunning(hand)
	code, out, errs := e.applyFile(t, e.state, f)
	if code != 1 || !strings.Contains(errs, "pe2: changed since the plan was made: change 0 (/interfaces/interface[name=ge-9/9/9.120])") {
		t.Errorf("changed device: exit %d, want 1 naming pe2 and its first change\n%s%s", code, out, errs)
	}
	for _, d := range e.sim.Devices() {
		if n := d.RPCCount("lock"); n != 0 {
			t.Errorf("%s: locked %d times", d.Name, n)
		}
	}
}
