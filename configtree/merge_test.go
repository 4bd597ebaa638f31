package configtree

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

const fragA = `<interfaces xmlns="urn:if"><interface><name>ge-0/0/1.100</name><description>acme</description><mtu>1500</mtu></interface></interfaces>
<vlans xmlns="urn:v"><vlan><id>100</id><name>shared</name></vlan></vlans>`

const fragB = `<interfaces xmlns="urn:if"><interface><name>ge-0/0/1.200</name><description>beta</description></interface></interfaces>
<vlans xmlns="urn:v"><vlan><id>100</id><name>shared</name></vlan></vlans>`

func TestMergeSharesNodes(t *testing.T) {
	dst := New()
	if err := Merge(dst, owned(t, "svc-a", fragA)); err != nil {
		t.Fatal(err)
	}
	if err := Merge(dst, owned(t, "svc-b", fragB)); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[Path][]string{
		"/interfaces": {"svc-a", "svc-b"},
		"/interfaces/interface[name=ge-0/0/1.100]/mtu": {"svc-a"},
		"/interfaces/interface[name=ge-0/0/1.200]":     {"svc-b"},
		"/vlans/vlan[id=100]/name":                     {"svc-a", "svc-b"},
	} {
		n := dst.Find(path)
		if n == nil || !slices.Equal(n.Owners, want) {
			t.Errorf("%s: owners %v, want %v", path, n, want)
		}
	}
	if got := dst.Len(); got != 12 {
		t.Errorf("Len = %d, want 12:\n%s", got, dst)
	}
	// Merging is order-independent.
	other := New()
	_ = Merge(other, owned(t, "svc-b", fragB))
	_ = Merge(other, owned(t, "svc-a", fragA))
	if xmlString(t, other, WriteOptions{Owners: true}) != xmlString(t, dst, WriteOptions{Owners: true}) {
		t.Errorf("merge order changed the result")
	}
}

func TestMergeConflict(t *testing.T) {
	dst := owned(t, "svc-a", fragA)
	before := xmlString(t, dst, WriteOptions{Owners: true})
	src := owned(t, "svc-c", `<interfaces xmlns="urn:if"><interface><name>ge-0/0/1.100</name><description>other</description><mtu>9000</mtu></interface></interfaces>`)
	err := Merge(dst, src)
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("want *ConflictError, got %v", err)
	}
	if ce.Path != "/interfaces/interface[name=ge-0/0/1.100]/description" || ce.Owner != "svc-a" || ce.Other != "svc-c" || ce.Value != "acme" || ce.OtherValue != "other" {
		t.Errorf("conflict %+v", ce)
	}
	if !strings.Contains(err.Error(), "/mtu: conflict: svc-a sets \"1500\" but svc-c sets \"9000\"") {
		t.Errorf("both conflicts must be reported: %v", err)
	}
	if after := xmlString(t, dst, WriteOptions{Owners: true}); after != before {
		t.Errorf("a failed Merge changed dst")
	}
	ns := owned(t, "svc-d", `<vlans xmlns="urn:other"/>`)
	if err := Merge(owned(t, "svc-a", fragA), ns); !errors.As(err, &ce) {
		t.Errorf("namespace clash: want *ConflictError, got %v", err)
	}
}

func TestMergeEmptyElementGrows(t *testing.T) {
	dst := owned(t, "a", `<routing><bgp/></routing>`)
	if err := Merge(dst, owned(t, "b", `<routing><bgp><as>65000</as></bgp></routing>`)); err != nil {
		t.Fatal(err)
	}
	if n := dst.Find("/routing/bgp"); n.Leaf || !slices.Equal(n.Owners, []string{"a", "b"}) {
		t.Errorf("bgp: %+v", n)
	}
}

func TestAdoptOwnersCloneEqual(t *testing.T) {
	live := mustParse(t, fragA+`<system xmlns="urn:s"><hostname>pe1</hostname></system>`)
	journal := owned(t, "svc-a", fragA)
	c := live.Clone()
	c.AdoptOwners(journal)
	if live.Find("/vlans").Owners != nil {
		t.Errorf("AdoptOwners changed the original through Clone")
	}
	if o := c.Find("/vlans/vlan[id=100]/name").Owners; !slices.Equal(o, []string{"svc-a"}) {
		t.Errorf("adopted owners %v", o)
	}
	if c.Find("/system/hostname").Owners != nil {
		t.Errorf("foreign node got owners")
	}
	if !c.Equal(live) {
		t.Errorf("owners must not matter to Equal")
	}
	if c.Equal(journal) {
		t.Errorf("different trees are Equal")
	}
}

// TestMergeAllMatchesMerge: the one-pass merge gives what merging one by one
// gives, owners included, and fails exactly when one by one would.
func TestMergeAllMatchesMerge(t *testing.T) {
	for seed := range uint64(200) {
		g := gen{rand.New(rand.NewPCG(seed, 3))}
		var frags, kept []*Tree
		seq := New()
		for i := range 2 + g.r.IntN(6) {
			f := g.tree()
			f.SetOwner(fmt.Sprintf("svc-%d", i))
			frags = append(frags, f)
			if err := Merge(seq, f); err == nil {
				kept = append(kept, f)
			} else if !errors.As(err, new(*ConflictError)) {
				t.Fatalf("seed %d: %v", seed, err)
			}
		}
		all := New()
		if err := MergeAll(all, kept...); err != nil {
			t.Fatalf("seed %d: MergeAll of compatible fragments: %v", seed, err)
		}
		opts := WriteOptions{Owners: true}
		if a, b := xmlString(t, all, opts), xmlString(t, seq, opts); a != b {
			t.Fatalf("seed %d: MergeAll\n%s\nMerge one by one\n%s", seed, a, b)
		}
		before := xmlString(t, all, opts)
		err := MergeAll(New(), frags...)
		if (err != nil) != (len(kept) < len(frags)) {
			t.Fatalf("seed %d: MergeAll error %v, but %d of %d fragments merge one by one", seed, err, len(kept), len(frags))
		}
		if err != nil && !errors.As(err, new(*ConflictError)) {
			t.Fatalf("seed %d: not a ConflictError: %v", seed, err)
		}
		if err := MergeAll(all, frags...); err != nil && xmlString(t, all, opts) != before {
			t.Fatalf("seed %d: failed MergeAll changed dst", seed)
		}
	}
}
