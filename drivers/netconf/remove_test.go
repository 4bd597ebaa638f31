package netconf

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/configtree"
)

// caseRemoveAbsent holds the simulator's RefuseRemoveOfEntryUnderAbsentParent
// knob to yuma123 netconfd 2.13 (docs/quirks.md): RFC 6241 §7.2 says a remove
// of a node that does not exist is ignored, but netconfd refuses the remove of
// an absent list entry whose parent is absent too (data-missing: the merge of
// the parent creates the entry, which then lacks its mandatory nodes). With
// the parent there, or the entry there, the remove is fine. The test uses an
// interface of its own, so the shared lab's other interfaces do not matter.
func caseRemoveAbsent(t *testing.T, env deviceEnv) {
	s := env.dial(t)
	ctx := t.Context()
	name := withIface(t, env, s, "remove-absent")
	gone := ifName(t)
	lockWait(t, s, Candidate)
	defer s.Unlock(context.Background(), Candidate)
	defer s.Discard(context.Background())

	// The interface has no ipv4 container: the address's parent is absent.
	err := s.EditConfig(ctx, Candidate, removeAddress(t, name, "192.0.2.1"))
	var re *RPCError
	if !errors.As(err, &re) || re.Tag != "data-missing" || !strings.Contains(re.Path, "192.0.2.1") {
		t.Fatalf("remove of an absent address under an absent ipv4: %v; want data-missing at the address (the yuma123 quirk)", err)
	}
	t.Logf("refused as netconfd does: tag %s, app-tag %s, path %s, message %q", re.Tag, re.AppTag, re.Path, re.Message)
	if err := s.Discard(ctx); err != nil {
		t.Fatal(err)
	}
	// <interfaces> holds our interface: the absent entry's parent is there.
	if err := s.EditConfig(ctx, Candidate, deleteIface(t, gone)); err != nil {
		t.Errorf("remove of an absent interface beside a present one: %v; want it ignored (RFC 6241 7.2)", err)
	}
	if err := s.EditConfig(ctx, Candidate, deleteIface(t, name)); err != nil {
		t.Errorf("remove of a present interface: %v", err)
	}
	if _, ok := description(t, s, Candidate, name); ok {
		t.Errorf("candidate still holds %s after its remove", name)
	}
}

// removeAddress is the Delete of one ipv4 address of interface name, and
// nothing above it.
func removeAddress(t *testing.T, name, ip string) []configtree.Change {
	t.Helper()
	from := parseTree(t, fmt.Sprintf(`<interfaces xmlns=%q><interface><name>%s</name>`+
		`<ipv4 xmlns="urn:ietf:params:xml:ns:yang:ietf-ip"><address><ip>%s</ip><prefix-length>24</prefix-length></address></ipv4>`+
		`</interface></interfaces>`, ifNS, name, ip))
	var own func(n *configtree.Node)
	own = func(n *configtree.Node) {
		n.Owners = []string{"netconf-test"}
		for _, c := range n.Children {
			own(c)
		}
	}
	own(from.Find(configtree.Path("/interfaces/interface[name=" + name + "]/ipv4/address[ip=" + ip + "]")))
	changes := configtree.Diff(from, parseTree(t, fmt.Sprintf(`<interfaces xmlns=%q><interface><name>%s</name></interface></interfaces>`, ifNS, name)))
	if len(changes) != 1 || changes[0].Action != configtree.Delete {
		t.Fatalf("changes = %v, want one delete of the address", changes)
	}
	return changes
}

// caseRemoveTypedLeaves removes a boolean and a uint16 leaf. Written
// <enabled nc:operation="remove"></enabled>, yuma123 netconfd reads the value
// "" and refuses (unknown-element "wrong node type"; invalid-value for mtu);
// configtree.EditConfig writes <enabled nc:operation="remove"/>, which it
// removes. The simulator, knowing no types, takes either form.
func caseRemoveTypedLeaves(t *testing.T, env deviceEnv) {
	s := env.dial(t)
	name := withIface(t, env, s, "typed")
	entry := func(extra string) *configtree.Tree {
		tr := parseTree(t, fmt.Sprintf(`<interfaces xmlns=%q><interface><name>%s</name>%s</interface></interfaces>`, ifNS, name, extra))
		tr.SetOwner("netconf-test")
		return tr
	}
	typed := entry(`<enabled>false</enabled><ipv4 xmlns="urn:ietf:params:xml:ns:yang:ietf-ip"><mtu>1400</mtu></ipv4>`)
	apply(t, s, configtree.Diff(entry(""), typed))
	tree, err := s.GetConfig(t.Context(), Running, ifaceFilter(t, name))
	if err != nil {
		t.Fatal(err)
	}
	base := "/interfaces/interface[name=" + name + "]"
	if tree.Find(configtree.Path(base+"/enabled")) == nil || tree.Find(configtree.Path(base+"/ipv4/mtu")) == nil {
		t.Fatalf("running lacks the typed leaves:\n%s", tree)
	}
	lockWait(t, s, Candidate)
	defer s.Unlock(context.Background(), Candidate)
	defer s.Discard(context.Background())
	if err := s.EditConfig(t.Context(), Candidate, configtree.Diff(typed, entry(`<ipv4 xmlns="urn:ietf:params:xml:ns:yang:ietf-ip"/>`))); err != nil {
		t.Fatalf("remove of enabled and mtu: %v", err)
	}
	tree, err = s.GetConfig(t.Context(), Candidate, ifaceFilter(t, name))
	if err != nil {
		t.Fatal(err)
	}
	if n := tree.Find(configtree.Path(base + "/enabled")); n != nil {
		t.Errorf("candidate still has enabled %q", n.Value)
	}
	if n := tree.Find(configtree.Path(base + "/ipv4/mtu")); n != nil {
		t.Errorf("candidate still has mtu %q", n.Value)
	}
}
