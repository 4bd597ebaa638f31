package plan

import (
	"slices"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/configtree"
)

// A service that starts rendering a node another service renders changes
// nothing on the device, but the node now goes only with the last of them:
// the plan says so rather than let a new (say, user-defined) type share a
// node silently.
func TestOfflinePlanShowsAClaimedNode(t *testing.T) {
	keys := configtree.Keys{"/configuration/interfaces/interface": {"name"}, "/configuration/interfaces/interface/unit": {"name"}}
	parse := func(owner, xml string) *configtree.Tree {
		tr, err := configtree.Parse(strings.NewReader(xml), t.Name(), keys)
		if err != nil {
			t.Fatal(err)
		}
		tr.SetOwner(owner)
		return tr
	}
	base := parse("acme-1", `<configuration><interfaces><interface><name>ge-0/0/5</name><vlan-tagging/><unit><name>1</name></unit></interface></interfaces></configuration>`)
	head := base.Clone()
	if err := configtree.Merge(head, parse("custom-2", `<configuration><interfaces><interface><name>ge-0/0/5</name><vlan-tagging/><unit><name>2</name></unit></interface></interfaces></configuration>`)); err != nil {
		t.Fatal(err)
	}
	d := DiffDevice("pe1", "junos", base, head, Offline)
	var paths []configtree.Path
	for _, h := range d.Claimed {
		paths = append(paths, h.Path)
		if !slices.Equal(h.Holders, []string{"acme-1"}) || !slices.Contains(h.Owners, "custom-2") {
			t.Errorf("%s: holders %v owners %v", h.Path, h.Holders, h.Owners)
		}
	}
	want := []configtree.Path{"/configuration/interfaces/interface[name=ge-0/0/5]", "/configuration/interfaces/interface[name=ge-0/0/5]/vlan-tagging"}
	if !slices.Equal(paths, want) {
		t.Errorf("claimed %v, want %v", paths, want)
	}
	if len(d.Changes) != 1 || d.Changes[0].Action != configtree.Create {
		t.Errorf("changes %v", d.Changes)
	}
}
