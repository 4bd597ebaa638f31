package apply

import (
	"strings"
	"testing"

	"github.com/netrecon/netrecon/configtree"
)

// TestApplyRefusesTamperedAncestors: a change keeps the path of a managed
// leaf, rewriting it with the value it already has (so the model of the
// result equals the pre-image and verify has nothing to see), while its
// ancestors address an interface a person configured. Apply must refuse it
// before any edit, and the person's entry must stay as it was.
func TestApplyRefusesTamperedAncestors(t *testing.T) {
	env := newSim(t, 1)
	dev := env.sim.Device("pe001")
	dev.SetRunning(ifaces(t, "", "ge-0/0/1", "managed", "ge-0/0/9", "by hand"))
	desired := map[string]*configtree.Tree{"pe001": ifaces(t, "svc-a", "ge-0/0/1", "changed")}
	p := planLive(t, env, desired, nil)
	d := p.Devices[0]
	if len(d.Changes) != 1 || d.Changes[0].Action != configtree.Update {
		t.Fatalf("plan: %+v", d.Changes)
	}
	c := &d.Changes[0]
	human := ifaces(t, "", "ge-0/0/9", "by hand").Root.Children[0]
	entry := *human.Children[0]
	entry.Children = []*configtree.Node{entry.Children[0]} // the key leaf only, as Ancestors hold it
	c.Ancestors = []*configtree.Node{c.Ancestors[0], &entry}
	node := *c.Node
	node.Value = "managed" // equal to running: the model of the result does not change
	c.Node = &node
	before := dev.Running()
	_, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: env.dialer, Journal: openJournal(t)})
	if err == nil || !strings.Contains(err.Error(), "pe001") || !strings.Contains(err.Error(), "ge-0/0/9") {
		t.Errorf("err = %v, want a refusal naming pe001 and the entry the ancestors address", err)
	}
	if got := dev.Running(); !got.Equal(before) {
		t.Errorf("running changed:\n%s\nwant\n%s", got, before)
	}
	if n := dev.RPCCount("edit-config"); n != 0 {
		t.Errorf("%d edit-config sent", n)
	}
}

// TestApplyRefusesForeignNamespace: ancestors that keep the path but name
// another module's namespace address config the read filter never sees.
func TestApplyRefusesForeignNamespace(t *testing.T) {
	env := newSim(t, 1)
	desired := map[string]*configtree.Tree{"pe001": ifaces(t, "svc-a", "ge-0/0/1", "x")}
	p := planLive(t, env, desired, nil)
	for i := range p.Devices[0].Changes {
		c := &p.Devices[0].Changes[i]
		if len(c.Ancestors) == 0 {
			continue
		}
		top := *c.Ancestors[0]
		top.Space = "urn:example:other"
		c.Ancestors = append([]*configtree.Node{&top}, c.Ancestors[1:]...)
	}
	_, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: env.dialer, Journal: openJournal(t)})
	if err == nil || !strings.Contains(err.Error(), "urn:example:other") {
		t.Errorf("err = %v, want a refusal naming the namespace", err)
	}
	if n := env.sim.Device("pe001").RPCCount("edit-config"); n != 0 {
		t.Errorf("%d edit-config sent", n)
	}
}

// TestApplyRefusesTamperedNode: the node an edit sends must be the one the
// path names.
func TestApplyRefusesTamperedNode(t *testing.T) {
	env := newSim(t, 1)
	dev := env.sim.Device("pe001")
	dev.SetRunning(ifaces(t, "", "ge-0/0/1", "managed"))
	desired := map[string]*configtree.Tree{"pe001": ifaces(t, "svc-a", "ge-0/0/1", "changed")}
	p := planLive(t, env, desired, nil)
	c := &p.Devices[0].Changes[0]
	node := *c.Node
	node.Name, node.Value = "enabled", "false"
	c.Node = &node
	_, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: env.dialer, Journal: openJournal(t)})
	if err == nil || !strings.Contains(err.Error(), "enabled") {
		t.Errorf("err = %v, want a refusal naming the node the edit addresses", err)
	}
	if n := dev.RPCCount("edit-config"); n != 0 {
		t.Errorf("%d edit-config sent", n)
	}
}
