package configtree

import (
	"slices"
	"strings"
	"testing"
)

func ownTree(t *testing.T, owner, xml string) *Tree {
	t.Helper()
	tr, err := Parse(strings.NewReader(xml), t.Name(), Keys{"/ifs/if": {"name"}})
	if err != nil {
		t.Fatal(err)
	}
	tr.SetOwner(owner)
	return tr
}

func ownedPaths(tr *Tree) []Path {
	var out []Path
	tr.Walk(func(p Path, n *Node) bool {
		if len(n.Owners) > 0 {
			out = append(out, p)
		}
		return true
	})
	return out
}

// Split tells, node by node, what an edit creates from what was there, and
// keeps the value a pre-existing leaf had before netrecon first changed it.
func TestSplit(t *testing.T) {
	before := ownTree(t, "", `<ifs><if><name>a</name><mtu>1500</mtu><desc>by hand</desc></if></ifs>`)
	desired := ownTree(t, "svc", `<ifs><if><name>a</name><mtu>1500</mtu><desc>svc</desc><speed>10g</speed></if><if><name>b</name></if></ifs>`)
	created, shared, restore := Split(desired, before, nil, nil)
	if got, want := ownedPaths(created), []Path{"/ifs/if[name=a]/speed", "/ifs/if[name=b]", "/ifs/if[name=b]/name"}; !slices.Equal(got, want) {
		t.Errorf("created %v, want %v", got, want)
	}
	if got, want := ownedPaths(shared), []Path{"/ifs", "/ifs/if[name=a]", "/ifs/if[name=a]/name", "/ifs/if[name=a]/desc", "/ifs/if[name=a]/mtu"}; !slices.Equal(got, want) {
		t.Errorf("shared %v, want %v", got, want)
	}
	if n := restore.Find("/ifs/if[name=a]/desc"); n == nil || n.Value != "by hand" || restore.Find("/ifs/if[name=a]/mtu") != nil {
		t.Errorf("restore:\n%s", restore)
	}

	// The next edit, with the device on netrecon's values: what netrecon
	// created stays created, the old value stays the one from before.
	now := desired.Clone()
	now.SetOwner("")
	desired2 := ownTree(t, "svc", `<ifs><if><name>a</name><desc>svc 2</desc></if><if><name>b</name></if></ifs>`)
	created2, _, restore2 := Split(desired2, now, created, restore)
	if !slices.Contains(ownedPaths(created2), "/ifs/if[name=b]") || slices.Contains(ownedPaths(created2), "/ifs/if[name=a]/desc") {
		t.Errorf("created after the second edit %v", ownedPaths(created2))
	}
	if n := restore2.Find("/ifs/if[name=a]/desc"); n == nil || n.Value != "by hand" {
		t.Errorf("restore after the second edit:\n%s", restore2)
	}

	// Removal puts back only a value the device still holds as netrecon set
	// it.
	if back := Restores(restore2, desired2, New(), now); back.Find("/ifs/if[name=a]/desc") != nil {
		t.Error("restored a value over one netrecon did not set")
	}
	_, shared2, _ := Split(desired2, now, created, restore)
	live := now.Clone()
	live.Find("/ifs/if[name=a]/desc").Value = "svc 2"
	if back := Restores(restore2, shared2, New(), live); back.Find("/ifs/if[name=a]/desc") == nil {
		t.Errorf("the old value is not restored:\n%s", back)
	}
}
