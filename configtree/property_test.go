package configtree

import (
	"math/rand/v2"
	"testing"
)

// genKeys are the lists of the random trees.
var genKeys = Keys{
	"/interfaces/interface":              {"name"},
	"/interfaces/interface/ipv4/address": {"ip"},
	"/routing/route":                     {"type", "name"},
	"/system/dns/server":                 {LeafListKey},
	"/interfaces/interface/type":         {IdentityLeaf},
}

// gen builds random configurations from a small fixed schema. Names decide
// the kind of a node, and values come from small sets, so that two random
// trees overlap, differ and share in every way Diff must handle.
type gen struct{ r *rand.Rand }

func (g gen) maybe(p float64) bool { return g.r.Float64() < p }

func (g gen) pick(vs ...string) string { return vs[g.r.IntN(len(vs))] }

func leaf(name, space, value string) *Node {
	return &Node{Name: name, Space: space, Leaf: true, Value: value}
}

func (g gen) tree() *Tree {
	t := New()
	if g.maybe(0.8) {
		ifs := &Node{Name: "interfaces", Space: "urn:if"}
		for _, name := range []string{"ge-0/0/0", "ge-0/0/1", "ge-0/0/2.100", "xe-1"} {
			if !g.maybe(0.5) {
				continue
			}
			e := &Node{Name: "interface", Space: "urn:if", Keys: []string{"name"}, Children: []*Node{leaf("name", "urn:if", name)}}
			if g.maybe(0.6) {
				e.Children = append(e.Children, leaf("description", "urn:if", g.pick("acme", "beta & co", "")))
			}
			if g.maybe(0.5) {
				e.Children = append(e.Children, leaf("mtu", "urn:if", g.pick("1500", "9000")))
			}
			if g.maybe(0.5) {
				typ := leaf("type", "urn:if", g.pick("l2vlan", "ethernetCsmacd"))
				typ.ValueSpace, typ.ValuePrefix = "urn:iana", g.pick("ianaift", "if", "")
				e.Children = append(e.Children, typ)
			}
			if g.maybe(0.5) {
				v4 := &Node{Name: "ipv4", Space: "urn:ip"}
				for _, ip := range []string{"192.0.2.1", "192.0.2.5"} {
					if g.maybe(0.5) {
						a := &Node{Name: "address", Space: "urn:ip", Keys: []string{"ip"}, Children: []*Node{leaf("ip", "urn:ip", ip)}}
						if g.maybe(0.7) {
							a.Children = append(a.Children, leaf("prefix-length", "urn:ip", g.pick("24", "30")))
						}
						v4.Children = append(v4.Children, a)
					}
				}
				e.Children = append(e.Children, v4)
			}
			ifs.Children = append(ifs.Children, e)
		}
		t.Root.Children = append(t.Root.Children, ifs)
	}
	if g.maybe(0.7) {
		rt := &Node{Name: "routing", Space: "urn:r"}
		for _, typ := range []string{"static", "bgp"} {
			for _, name := range []string{"default", "x=y]"} {
				if g.maybe(0.4) {
					e := &Node{Name: "route", Space: "urn:r", Keys: []string{"type", "name"},
						Children: []*Node{leaf("type", "urn:r", typ), leaf("name", "urn:r", name)}}
					if g.maybe(0.7) {
						e.Children = append(e.Children, leaf("next-hop", "urn:r", g.pick("192.0.2.2", "2001:db8::1")))
					}
					rt.Children = append(rt.Children, e)
				}
			}
		}
		if g.maybe(0.3) {
			rt.Children = append(rt.Children, leaf("ecmp", "urn:r", ""))
		}
		t.Root.Children = append(t.Root.Children, rt)
	}
	if g.maybe(0.5) {
		sys := &Node{Name: "system"}
		if g.maybe(0.7) {
			sys.Children = append(sys.Children, leaf("hostname", "", g.pick("pe1", "pe2")))
		}
		if g.maybe(0.5) {
			dns := &Node{Name: "dns"}
			for _, s := range []string{"192.0.2.53", "2001:db8::53", "dns.example"} {
				if g.maybe(0.5) {
					srv := leaf("server", "", s)
					srv.Keys = []string{LeafListKey}
					dns.Children = append(dns.Children, srv)
				}
			}
			sys.Children = append(sys.Children, dns)
		}
		if g.maybe(0.5) {
			ntp := &Node{Name: "ntp"}
			if g.maybe(0.5) {
				ntp.Children = append(ntp.Children, leaf("server", "", g.pick("192.0.2.123", "ntp.example")))
			}
			sys.Children = append(sys.Children, ntp)
		}
		t.Root.Children = append(t.Root.Children, sys)
	}
	canonicalize(t.Root)
	return t
}

// pruneEmpty returns a copy of t without containers that are empty and not
// inside a list entry: what Diff leaves behind when it empties one.
func pruneEmpty(t *Tree) *Tree {
	c := t.Clone()
	var prune func(n *Node, inEntry bool)
	prune = func(n *Node, inEntry bool) {
		kept := n.Children[:0]
		for _, ch := range n.Children {
			prune(ch, inEntry || ch.IsEntry())
			if !inEntry && !ch.Leaf && !ch.IsEntry() && len(ch.Children) == 0 {
				continue
			}
			kept = append(kept, ch)
		}
		n.Children = kept
	}
	prune(c.Root, false)
	return c
}

// disown removes the owners of some nodes, as if a human had added them.
func (g gen) disown(t *Tree, p float64) {
	t.Walk(func(_ Path, n *Node) bool {
		if g.maybe(p) {
			n.Owners = nil
		}
		return true
	})
}

// expectPartial is what Apply(from, Diff(from, to)) must give when some nodes
// of from are unowned: to, plus every unowned node of from (but key leaves,
// which go with their entry) with the ancestors that lead to it.
func expectPartial(from, to *Tree) *Tree {
	exp := to.Clone()
	var needed func(parent, n *Node) bool
	needed = func(parent, n *Node) bool {
		if parent.isKeyLeaf(n) {
			return false
		}
		if len(n.Owners) == 0 {
			return true
		}
		for _, c := range n.Children {
			if needed(n, c) {
				return true
			}
		}
		return false
	}
	var add func(fp, ep *Node)
	add = func(fp, ep *Node) {
		for _, c := range fp.Children {
			if !needed(fp, c) {
				continue
			}
			ec := findChild(ep, c)
			if ec == nil {
				ec = c.shallow()
				addChild(ep, ec)
			}
			add(c, ec)
		}
	}
	add(from.root(), exp.Root)
	canonicalize(exp.Root)
	return exp
}

func TestApplyDiffProperty(t *testing.T) {
	for seed := range uint64(400) {
		g := gen{rand.New(rand.NewPCG(seed, 1))}
		from, to := g.tree(), g.tree()
		from.SetOwner("old")
		to.SetOwner("new")
		partial := seed%2 == 1
		if partial {
			g.disown(from, 0.25)
		}
		changes := Diff(from, to)
		got, err := Apply(from, changes)
		if err != nil {
			t.Fatalf("seed %d: Apply: %v\n%s", seed, err, changeLines(changes))
		}
		want := to
		if partial {
			want = expectPartial(from, to)
		}
		// Containers above the list entries are never deleted whole (see
		// readWhole), so emptied ones may remain: equal up to those.
		if !pruneEmpty(got).Equal(pruneEmpty(want)) {
			t.Fatalf("seed %d (partial=%v): Apply(from, Diff(from, to)) =\n%s\nwant\n%s\nfrom\n%s\nchanges\n%s",
				seed, partial, got, want, xmlString(t, from, WriteOptions{Indent: " ", Owners: true}), changeLines(changes))
		}
		if again := Diff(got, want); len(again) != 0 && !partial {
			t.Fatalf("seed %d: second Diff not empty:\n%s", seed, changeLines(again))
		}
	}
}

// TestDiffAllProperty: DiffAll of an unowned tree is Diff of the same tree
// with every node owned, and brings from to to.
func TestDiffAllProperty(t *testing.T) {
	for seed := range uint64(200) {
		g := gen{rand.New(rand.NewPCG(seed, 2))}
		from, to := g.tree(), g.tree()
		from.SetOwner("")
		owned := from.Clone()
		owned.SetOwner("x")
		all, want := DiffAll(from, to), Diff(owned, to)
		for i := range want {
			if want[i].Action == Delete {
				want[i].Owners = nil // from's, which are none
			}
		}
		if changeLines(all) != changeLines(want) {
			t.Fatalf("seed %d: DiffAll\n%s\nwant, as Diff of an owned from,\n%s", seed, changeLines(all), changeLines(want))
		}
		got, err := Apply(from, all)
		if err != nil {
			t.Fatalf("seed %d: Apply: %v", seed, err)
		}
		if !pruneEmpty(got).Equal(pruneEmpty(to)) {
			t.Fatalf("seed %d: Apply(from, DiffAll(from, to)) =\n%s\nwant\n%s", seed, got, to)
		}
	}
}
