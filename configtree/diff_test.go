package configtree

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// changeLines formats changes one per line: action, path, values, owners.
func changeLines(changes []Change) string {
	var b strings.Builder
	for _, c := range changes {
		fmt.Fprintf(&b, "%c %s", c.Action, c.Path)
		switch c.Action {
		case Create:
			if c.Leaf {
				fmt.Fprintf(&b, " = %q", c.After)
			}
		case Update:
			fmt.Fprintf(&b, " %q -> %q", c.Before, c.After)
		case Delete:
			if c.Leaf {
				fmt.Fprintf(&b, " (was %q)", c.Before)
			}
		}
		fmt.Fprintf(&b, " %v\n", c.Owners)
	}
	return b.String()
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name     string
		from, to func(t *testing.T) *Tree
		want     string
	}{
		{
			name: "add entry to empty device",
			from: func(t *testing.T) *Tree { return New() },
			to:   func(t *testing.T) *Tree { return owned(t, "a", fragA) },
			want: `+ /interfaces/interface[name=ge-0/0/1.100] [a]
+ /interfaces/interface[name=ge-0/0/1.100]/description = "acme" [a]
+ /interfaces/interface[name=ge-0/0/1.100]/mtu = "1500" [a]
+ /vlans/vlan[id=100] [a]
+ /vlans/vlan[id=100]/name = "shared" [a]
`,
		},
		{
			name: "remove owned entry as one change",
			from: func(t *testing.T) *Tree { return owned(t, "a", fragA) },
			to: func(t *testing.T) *Tree {
				return owned(t, "a", `<vlans xmlns="urn:v"><vlan><id>100</id><name>shared</name></vlan></vlans>`)
			},
			// Not "- /interfaces": a live read is filtered to the managed
			// entries, so the container's other entries were never seen.
			want: `- /interfaces/interface[name=ge-0/0/1.100] [a]
`,
		},
		{
			name: "change a leaf",
			from: func(t *testing.T) *Tree { return owned(t, "a", fragA) },
			to: func(t *testing.T) *Tree {
				return owned(t, "a", strings.Replace(fragA, "1500", "9000", 1))
			},
			want: `~ /interfaces/interface[name=ge-0/0/1.100]/mtu "1500" -> "9000" [a]
`,
		},
		{
			name: "shared node kept while one owner remains",
			from: func(t *testing.T) *Tree { return merged(t, owned(t, "a", fragA), owned(t, "b", fragB)) },
			to:   func(t *testing.T) *Tree { return owned(t, "b", fragB) },
			want: `- /interfaces/interface[name=ge-0/0/1.100] [a]
`,
		},
		{
			name: "foreign child keeps its parent",
			from: func(t *testing.T) *Tree {
				live := mustParse(t, strings.Replace(fragA, "<mtu>", "<speed>10g</speed><mtu>", 1))
				live.AdoptOwners(owned(t, "a", fragA))
				return live
			},
			to: func(t *testing.T) *Tree { return New() },
			want: `- /interfaces/interface[name=ge-0/0/1.100]/description (was "acme") [a]
- /interfaces/interface[name=ge-0/0/1.100]/mtu (was "1500") [a]
- /vlans/vlan[id=100] [a]
`,
		},
		{
			name: "unowned nodes are never deleted",
			from: func(t *testing.T) *Tree { return mustParse(t, fragA) },
			to:   func(t *testing.T) *Tree { return New() },
			want: "",
		},
		{
			name: "deletes first, then creates and updates in tree order",
			from: func(t *testing.T) *Tree {
				return owned(t, "a", `<vlans xmlns="urn:v"><vlan><id>1</id></vlan><vlan><id>2</id><name>x</name></vlan></vlans><routing><z>1</z></routing>`)
			},
			to: func(t *testing.T) *Tree {
				return owned(t, "b", `<vlans xmlns="urn:v"><vlan><id>2</id><name>y</name></vlan><vlan><id>3</id></vlan></vlans><routing><a>1</a><route><type>static</type><name>d</name></route><c></c></routing>`)
			},
			want: `- /routing/z (was "1") [a]
- /vlans/vlan[id=1] [a]
+ /routing/a = "1" [b]
+ /routing/c = "" [b]
+ /routing/route[type=static][name=d] [b]
~ /vlans/vlan[id=2]/name "x" -> "y" [b]
+ /vlans/vlan[id=3] [b]
`,
		},
		{
			name: "identity prefixes are not changes",
			from: func(t *testing.T) *Tree {
				return owned(t, "a", `<i xmlns="urn:if" xmlns:x="urn:t"><type>x:l2vlan</type></i>`)
			},
			to: func(t *testing.T) *Tree {
				return owned(t, "a", `<i xmlns="urn:if"><type xmlns:ianaift="urn:t">ianaift:l2vlan</type></i>`)
			},
			want: "",
		},
		{
			name: "identity namespace change is a change",
			from: func(t *testing.T) *Tree {
				return owned(t, "a", `<i xmlns="urn:if" xmlns:x="urn:t"><type>x:l2vlan</type></i>`)
			},
			to: func(t *testing.T) *Tree {
				return owned(t, "a", `<i xmlns="urn:if" xmlns:x="urn:u"><type>x:l2vlan</type></i>`)
			},
			want: `~ /i/type "x:l2vlan" -> "x:l2vlan" [a]
`,
		},
		{
			name: "empty container in to is created",
			from: func(t *testing.T) *Tree { return New() },
			to: func(t *testing.T) *Tree {
				tr := New()
				tr.Root.Children = []*Node{{Name: "system", Children: []*Node{{Name: "ntp", Owners: []string{"a"}}}}}
				return tr
			},
			want: `+ /system/ntp [a]
`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from, to := tc.from(t), tc.to(t)
			got := Diff(from, to)
			if d := cmp.Diff(tc.want, changeLines(got)); d != "" {
				t.Errorf("Diff (-want +got):\n%s", d)
			}
		})
	}
}

func merged(t *testing.T, trees ...*Tree) *Tree {
	t.Helper()
	out := New()
	for _, tr := range trees {
		if err := Merge(out, tr); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestFindWalkPaths(t *testing.T) {
	tr := mustParse(t, `<routing><route><type>static</type><name>a]b=c\d/e</name><metric>5</metric></route></routing>`)
	var paths []string
	tr.Walk(func(p Path, n *Node) bool {
		paths = append(paths, string(p))
		return n.Name != "route"
	})
	want := []string{"/routing", `/routing/route[type=static][name=a\]b\=c\\d/e]`}
	if d := cmp.Diff(want, paths); d != "" {
		t.Errorf("Walk (-want +got):\n%s", d)
	}
	if n := tr.Find(Path(want[1] + "/metric")); n == nil || n.Value != "5" {
		t.Errorf("Find metric: %v", n)
	}
	if tr.Find("/") != tr.Root || tr.Find("/routing/route[type=static]") != nil || tr.Find("bad") != nil {
		t.Errorf("Find edge cases")
	}
	steps, err := ParsePath(Path(want[1]))
	if err != nil || steps[1].Keys[1].Value != `a]b=c\d/e` || steps[1].String() != `route[type=static][name=a\]b\=c\\d/e]` {
		t.Errorf("ParsePath: %+v %v", steps, err)
	}
	for _, bad := range []Path{"", "x", "/a[", "/a[k]", "/a[k=v", "/a[k=v]x", "/a//b", `/a[k=v\`, "/a[k=a=b]"} {
		if _, err := ParsePath(bad); err == nil {
			t.Errorf("ParsePath(%q) accepted", bad)
		}
	}
}

func TestLeafList(t *testing.T) {
	a := owned(t, "a", `<system><dns><server>192.0.2.53</server><server>2001:db8::53</server></dns></system>`)
	b := owned(t, "b", `<system><dns><server>192.0.2.53</server><server>192.0.2.54</server></dns></system>`)
	desired := merged(t, a, b)
	if n := desired.Find("/system/dns/server[.=192.0.2.53]"); n == nil || len(n.Owners) != 2 {
		t.Fatalf("shared instance: %+v\n%s", n, desired)
	}
	if len(desired.Find("/system/dns").Children) != 3 {
		t.Errorf("want 3 servers:\n%s", desired)
	}
	got := changeLines(Diff(desired, b))
	want := `- /system/dns/server[.=2001:db8::53] (was "2001:db8::53") [a]
`
	if got != want {
		t.Errorf("Diff:\n%s\nwant\n%s", got, want)
	}
	payload, err := EditConfig(Diff(desired, b))
	if err != nil || !strings.Contains(payload, `<server nc:operation="remove">2001:db8::53</server>`) {
		t.Errorf("a removed leaf-list instance is addressed by its value: %v %s", err, payload)
	}
	if _, err := Parse(strings.NewReader(`<system><dns><server>x</server><server>x</server></dns></system>`), "dup", testKeys); err == nil {
		t.Errorf("duplicate leaf-list value accepted")
	}
	if f := FilterXML(Filter(desired)); f != `<system xmlns=""><dns><server></server></dns></system>` {
		t.Errorf("filter %s", f)
	}
}

func TestPathChild(t *testing.T) {
	p := Path("/").Child("routing").Child("route", KeyValue{"type", "static"}, KeyValue{"name", `a]=\`})
	if p != `/routing/route[type=static][name=a\]\=\\]` {
		t.Errorf("Child: %s", p)
	}
	tr := mustParse(t, `<routing><route><type>static</type><name>a]=\</name></route></routing>`)
	if tr.Find(p) == nil {
		t.Errorf("Find(%s) = nil", p)
	}
}

func FuzzParsePath(f *testing.F) {
	f.Add(`/interfaces/interface[name=ge-0/0/1.100]/description`)
	f.Add(`/routing/route[type=static][name=a\]\=\\]`)
	f.Add(`/system/dns/server[.=192.0.2.53]`)
	f.Fuzz(func(t *testing.T, s string) {
		steps, err := ParsePath(Path(s))
		if err != nil {
			return
		}
		p := Path("/")
		for _, st := range steps {
			p = p.Child(st.Name, st.Keys...)
		}
		again, err := ParsePath(p)
		if err != nil {
			t.Fatalf("rebuilt path %q does not parse: %v", p, err)
		}
		if d := cmp.Diff(steps, again); d != "" {
			t.Fatalf("%q -> %q changed (-first +again):\n%s", s, p, d)
		}
	})
}

func TestDiffAncestorsAreShallow(t *testing.T) {
	from := owned(t, "a", fragA)
	to := owned(t, "a", strings.Replace(fragA, "1500", "9000", 1))
	ch := Diff(from, to)
	if len(ch) != 1 || len(ch[0].Ancestors) != 2 {
		t.Fatalf("changes: %s", changeLines(ch))
	}
	iface := ch[0].Ancestors[1]
	if iface.Name != "interface" || len(iface.Children) != 1 || iface.Children[0].Name != "name" || iface.Space != "urn:if" {
		t.Errorf("ancestor must keep name, namespace and key leaves only: %+v", iface)
	}
	if len(ch[0].Ancestors[0].Children) != 0 {
		t.Errorf("container ancestor carries children")
	}
}
