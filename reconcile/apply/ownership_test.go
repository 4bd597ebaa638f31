package apply

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netsim"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/plan"
	"github.com/netrecon/netrecon/reconcile/planner"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
)

// The scenarios of DESIGN invariant 3 as a person meets them: configuration
// that was on a PE before netrecon, that a service then renders, must be on
// the PE exactly as before once the service is removed.

// circuit renders one attachment-circuit for device on platform, as the
// planner's desired tree.
func circuit(t testing.TB, platform, device, name string, spec map[string]any) *configtree.Tree {
	t.Helper()
	spec["device"] = device
	in := &schema.Intent{
		Devices:  []*schema.Device{{Name: device, Platform: platform}},
		Services: []*schema.Service{{Kind: schema.KindAttachmentCircuit, Name: name, Devices: []string{device}, Spec: spec}},
	}
	r, diags := render.New(in)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	tree, diags := r.Device(device)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return tree
}

// simOf starts one simulated device of platform, named pe1.
func simOf(t testing.TB, platform string) (*simEnv, *netsim.Device) {
	t.Helper()
	env := newSimOf(t, platform, "pe1")
	return env, env.sim.Devices()[0]
}

func parseTree(t testing.TB, platform, xml string) *configtree.Tree {
	t.Helper()
	tree, err := configtree.Parse(strings.NewReader(xml), t.Name(), render.Keys(platform, nil))
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// planApply plans desired against the device and applies it, returning the
// plan.
func planApply(t *testing.T, inv *schema.Intent, dialer reconcile.Dialer, j *journal.Journal, desired map[string]*configtree.Tree) *plan.Plan {
	t.Helper()
	p, err := planner.Live(t.Context(), planner.LiveOptions{Intent: inv, Desired: desired, Dialer: dialer, Journal: j, Devices: []string{"pe1"}, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Devices[0]; d.Err != nil {
		t.Fatal(d.Err)
	}
	if _, err := Apply(t.Context(), p, desired, inv, Options{Dialer: dialer, Journal: j, IntentCommit: "c"}); err != nil {
		t.Fatalf("apply: %v\nplan:\n%s", err, changeLines(p.Devices[0]))
	}
	return p
}

func changeLines(d *plan.Device) string {
	var b strings.Builder
	for _, c := range d.Changes {
		fmt.Fprintf(&b, "%c %s %s→%s (%s)\n", c.Action, c.Path, c.Before, c.After, c.Reason)
	}
	for _, h := range d.Adopted {
		fmt.Fprintf(&b, "adopt %s\n", h.Path)
	}
	for _, h := range d.Kept {
		fmt.Fprintf(&b, "keep %s\n", h.Path)
	}
	return b.String()
}

func heldPaths(hs []configtree.Held) []configtree.Path {
	var out []configtree.Path
	for _, h := range hs {
		out = append(out, h.Path)
	}
	return out
}

// A person has port ge-0/0/5 with vlan-tagging and unit 10, and VRF ACME of
// instance-type vrf. A circuit on that port in that VRF is added, then
// removed: the person's tagging and VRF type stay.
func TestAdoptedJunosConfigKeptOnRemoval(t *testing.T) {
	env, dev := simOf(t, schema.PlatformJunos)
	j := openJournal(t)
	human := parseTree(t, schema.PlatformJunos, `<configuration>
  <interfaces><interface><name>ge-0/0/5</name><vlan-tagging/>
    <unit><name>10</name><description>by hand</description><vlan-id>10</vlan-id></unit>
  </interface></interfaces>
  <routing-instances><instance><name>ACME</name><instance-type>vrf</instance-type>
    <interface><name>ge-0/0/5.10</name></interface>
  </instance></routing-instances>
</configuration>`)
	dev.SetRunning(human)

	desired := map[string]*configtree.Tree{"pe1": circuit(t, schema.PlatformJunos, "pe1", "acme-120", map[string]any{
		"interface": "ge-0/0/5", "vlan": int64(120), "description": "ACME", "ipv4": "192.0.2.1/30", "vrf": "ACME",
	})}
	p := planApply(t, env.inv, env.dialer, j, desired)
	d := p.Devices[0]
	for _, c := range d.Changes {
		if c.Action != configtree.Create {
			t.Errorf("adding the circuit plans %c %s: only creations expected", c.Action, c.Path)
		}
	}
	for _, want := range []configtree.Path{
		"/configuration/interfaces/interface[name=ge-0/0/5]/vlan-tagging",
		"/configuration/routing-instances/instance[name=ACME]/instance-type",
	} {
		if !slices.Contains(heldPaths(d.Adopted), want) {
			t.Errorf("the plan does not say it adopts %s:\n%s", want, changeLines(d))
		}
	}

	// Removed: only what the circuit created goes.
	empty := map[string]*configtree.Tree{}
	p = planApply(t, env.inv, env.dialer, j, empty)
	d = p.Devices[0]
	for _, c := range d.Changes {
		if c.Action != configtree.Delete || !(strings.Contains(string(c.Path), "unit[name=120]") || strings.Contains(string(c.Path), "ge-0/0/5.120")) {
			t.Errorf("removal plans %c %s: only the circuit's own unit and VRF interface may go", c.Action, c.Path)
		}
	}
	if len(d.Changes) != 2 {
		t.Errorf("removal plans %d changes, want 2:\n%s", len(d.Changes), changeLines(d))
	}
	if len(d.Kept) == 0 {
		t.Errorf("the removal plan does not say what it keeps:\n%s", changeLines(d))
	}
	if got := dev.Running(); !got.Equal(human) {
		t.Errorf("after removal running is\n%s\nwant the person's configuration\n%s", got, human)
	}
	// And again: nothing left to do.
	p, err := planner.Live(t.Context(), planner.LiveOptions{Intent: env.inv, Desired: empty, Dialer: env.dialer, Journal: j, Devices: []string{"pe1"}, Concurrency: 1})
	if err != nil || len(p.Devices[0].Changes) != 0 {
		t.Errorf("plan after removal: %v\n%s", err, changeLines(p.Devices[0]))
	}
}

// A hand-made ge-0/0/1.100 that a service then renders, with another
// description and an address: the entry stays on removal, the description
// gets its old value back, the address netrecon added goes.
func TestAdoptedIETFEntryRestoredOnRemoval(t *testing.T) {
	env, dev := simOf(t, schema.PlatformIETF)
	j := openJournal(t)
	human := parseTree(t, schema.PlatformIETF, `<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces">
  <interface><name>ge-0/0/1.100</name><description>by hand</description>
    <type xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type">ianaift:l2vlan</type><enabled>true</enabled></interface>
</interfaces>`)
	dev.SetRunning(human)
	svc := circuit(t, schema.PlatformIETF, "pe1", "acme-100", map[string]any{
		"interface": "ge-0/0/1", "vlan": int64(100), "description": "ACME", "ipv4": "192.0.2.1/30",
	})
	p := planApply(t, env.inv, env.dialer, j, map[string]*configtree.Tree{"pe1": svc})
	d := p.Devices[0]
	var sawTakeover bool
	for _, c := range d.Changes {
		if c.Action == configtree.Update && strings.HasSuffix(string(c.Path), "/description") {
			sawTakeover = c.Before == "by hand" && strings.Contains(c.Reason, "restored on removal")
		}
		if c.Action == configtree.Delete {
			t.Errorf("adding plans %c %s", c.Action, c.Path)
		}
	}
	if !sawTakeover {
		t.Errorf("the plan does not show the description taken over from its old value:\n%s", changeLines(d))
	}
	if !slices.Contains(heldPaths(d.Adopted), "/interfaces/interface[name=ge-0/0/1.100]") {
		t.Errorf("the plan does not say it adopts the entry:\n%s", changeLines(d))
	}

	p = planApply(t, env.inv, env.dialer, j, map[string]*configtree.Tree{})
	for _, c := range p.Devices[0].Changes {
		if c.Action == configtree.Delete && c.Path == "/interfaces/interface[name=ge-0/0/1.100]" {
			t.Errorf("removal deletes the hand-made entry whole")
		}
	}
	if got := dev.Running(); !got.Equal(human) {
		t.Errorf("after removal running is\n%s\nwant the person's configuration\n%s\nplan:\n%s", got, human, changeLines(p.Devices[0]))
	}
}

// The same on the lab's netconfd: the entry and its leaves survive the
// removal on a real server (which also refuses to delete enabled, a leaf
// with a default: lab NOTES).
func TestLabAdoptedEntryRestoredOnRemoval(t *testing.T) {
	l := newLab(t, 1)
	j := openJournal(t)
	devName := l.inv.Devices[0].Name
	name := uniqueName("ge-9/0/")
	ifname := name + ".100"
	human := parseTree(t, schema.PlatformIETF, `<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces">
  <interface><name>`+ifname+`</name><description>by hand</description>
    <type xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type">ianaift:l2vlan</type><enabled>true</enabled></interface>
</interfaces>`)
	// The person's configuration, committed with a raw session as a person
	// would.
	s, err := l.dialer.Dial(t.Context(), l.inv.Device(devName))
	if err != nil {
		t.Fatal(err)
	}
	// Other packages' tests share the lab: while one of them has a
	// confirmed commit pending on the device, a commit is in-use, and a
	// person would try again.
	commitByHand := func() error {
		if err := s.EditConfig(t.Context(), reconcile.Candidate, configtree.Diff(configtree.New(), human)); err != nil {
			return err
		}
		return s.Commit(t.Context(), reconcile.CommitOptions{})
	}
	tick := time.NewTicker(250 * time.Millisecond)
	for end := time.Now().Add(time.Minute); ; {
		err := commitByHand()
		if err == nil {
			break
		}
		if !strings.Contains(err.Error(), "in-use") || time.Now().After(end) {
			t.Fatal(err)
		}
		_ = s.Discard(t.Context())
		<-tick.C
	}
	tick.Stop()
	_ = s.Close(t.Context())
	t.Cleanup(func() {
		s, err := l.dialer.Dial(context.Background(), l.inv.Device(devName))
		if err != nil {
			return
		}
		defer s.Close(context.Background())
		gone := human.Clone()
		gone.SetOwner("test")
		_ = s.EditConfig(context.Background(), reconcile.Candidate, configtree.Diff(gone, configtree.New()))
		_ = s.Commit(context.Background(), reconcile.CommitOptions{})
	})
	read := func() *configtree.Tree {
		live, err := readRunning(t.Context(), l.dialer, l.inv.Device(devName), configtree.Filter(human))
		if err != nil {
			t.Fatal(err)
		}
		return live
	}
	if got := read(); !got.Equal(human) {
		t.Fatalf("the lab did not take the person's configuration:\n%s", got)
	}

	svc := circuit(t, schema.PlatformIETF, devName, "acme-lab", map[string]any{
		"interface": name, "vlan": int64(100), "description": "ACME", "ipv4": "192.0.2.1/30",
	})
	only := []string{devName}
	for _, desired := range []map[string]*configtree.Tree{{devName: svc}, {}} {
		p, err := planner.Live(t.Context(), planner.LiveOptions{Intent: l.inv, Desired: desired, Dialer: l.dialer, Journal: j, Devices: only, Concurrency: 1})
		if err != nil || p.Devices[0].Err != nil {
			t.Fatal(err, p.Devices[0].Err)
		}
		if _, err := Apply(t.Context(), p, desired, l.inv, Options{Dialer: l.dialer, Journal: j}); err != nil {
			t.Fatalf("apply: %v\n%s", err, changeLines(p.Devices[0]))
		}
	}
	if got := read(); !got.Equal(human) {
		t.Errorf("after removal the lab runs\n%s\nwant the person's configuration\n%s", got, human)
	}
}
