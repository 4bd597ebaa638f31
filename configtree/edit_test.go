package configtree

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestEditConfigGolden(t *testing.T) {
	from := mustParse(t, `<interfaces xmlns="urn:if"><interface><name>ge-0/0/1.100</name><description>old</description><speed>10g</speed></interface></interfaces>
<routing xmlns="urn:r"><route><type>static</type><name>gone</name><next-hop>192.0.2.9</next-hop></route></routing>`)
	from.AdoptOwners(owned(t, "svc-a", `<interfaces xmlns="urn:if"><interface><name>ge-0/0/1.100</name><description>old</description></interface></interfaces>
<routing xmlns="urn:r"><route><type>static</type><name>gone</name><next-hop>192.0.2.9</next-hop></route></routing>`))
	to := owned(t, "svc-a", `<interfaces xmlns="urn:if" xmlns:ianaift="urn:iana"><interface><name>ge-0/0/1.100</name><description>new &lt;acme&gt;</description><type>ianaift:l2vlan</type></interface>
<interface><name>ge-0/0/2</name><mtu>9000</mtu></interface></interfaces>
<system><hostname>pe1</hostname></system>`)
	changes := Diff(from, to)
	payload, err := EditConfig(changes)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "edit/basic.xml", payload+"\n")

	want, err := Apply(from, changes)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ApplyEdit(from, strings.NewReader(payload), "edit", testKeys, "merge")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(want) {
		t.Errorf("ApplyEdit =\n%s\nwant\n%s", got, want)
	}
	// The payload wrapped in <config> gives the same result.
	wrapped := `<config xmlns="` + NetconfNS + `">` + payload + `</config>`
	if got, err := ApplyEdit(from, strings.NewReader(wrapped), "edit", testKeys, ""); err != nil || !got.Equal(want) {
		t.Errorf("wrapped: %v\n%s", err, got)
	}
	// Applying it twice changes nothing more: remove and merge are idempotent.
	if again, err := ApplyEdit(got, strings.NewReader(payload), "edit", testKeys, "merge"); err != nil || !again.Equal(want) {
		t.Errorf("second apply: %v", err)
	}
}

func TestApplyEditOperations(t *testing.T) {
	const nc = `xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"`
	base := `<vlans xmlns="urn:v"><vlan><id>1</id><name>a</name><desc>d</desc></vlan><vlan><id>2</id></vlan></vlans><system><hostname>pe1</hostname></system>`
	tests := []struct {
		name, edit, defOp string
		want              string // expected tree, "" when an error is expected
		tag               string
	}{
		{"merge sets and adds", `<vlans xmlns="urn:v"><vlan><id>1</id><name>b</name></vlan><vlan><id>3</id></vlan></vlans>`, "merge",
			`<vlans xmlns="urn:v"><vlan><id>1</id><name>b</name><desc>d</desc></vlan><vlan><id>2</id></vlan><vlan><id>3</id></vlan></vlans><system><hostname>pe1</hostname></system>`, ""},
		{"replace entry", `<vlans xmlns="urn:v" ` + nc + `><vlan nc:operation="replace"><id>1</id><name>b</name></vlan></vlans>`, "merge",
			`<vlans xmlns="urn:v"><vlan><id>1</id><name>b</name></vlan><vlan><id>2</id></vlan></vlans><system><hostname>pe1</hostname></system>`, ""},
		{"default replace", `<system><domain>x</domain></system>`, "replace",
			`<vlans xmlns="urn:v"><vlan><id>1</id><name>a</name><desc>d</desc></vlan><vlan><id>2</id></vlan></vlans><system><domain>x</domain></system>`, ""},
		{"create new", `<vlans xmlns="urn:v" ` + nc + `><vlan nc:operation="create"><id>5</id></vlan></vlans>`, "merge",
			`<vlans xmlns="urn:v"><vlan><id>1</id><name>a</name><desc>d</desc></vlan><vlan><id>2</id></vlan><vlan><id>5</id></vlan></vlans><system><hostname>pe1</hostname></system>`, ""},
		{"create existing", `<vlans xmlns="urn:v" ` + nc + `><vlan nc:operation="create"><id>1</id></vlan></vlans>`, "merge", "", "data-exists"},
		{"delete", `<vlans xmlns="urn:v" ` + nc + `><vlan nc:operation="delete"><id>1</id></vlan></vlans>`, "none",
			`<vlans xmlns="urn:v"><vlan><id>2</id></vlan></vlans><system><hostname>pe1</hostname></system>`, ""},
		{"delete missing", `<vlans xmlns="urn:v" ` + nc + `><vlan nc:operation="delete"><id>9</id></vlan></vlans>`, "none", "", "data-missing"},
		{"remove missing", `<vlans xmlns="urn:v" ` + nc + `><vlan nc:operation="remove"><id>9</id></vlan></vlans>`, "none",
			`<vlans xmlns="urn:v"><vlan><id>1</id><name>a</name><desc>d</desc></vlan><vlan><id>2</id></vlan></vlans><system><hostname>pe1</hostname></system>`, ""},
		{"remove leaf", `<vlans xmlns="urn:v" ` + nc + `><vlan><id>1</id><desc nc:operation="remove"/></vlan></vlans>`, "merge",
			`<vlans xmlns="urn:v"><vlan><id>1</id><name>a</name></vlan><vlan><id>2</id></vlan></vlans><system><hostname>pe1</hostname></system>`, ""},
		{"none does not create parents", `<routing ` + nc + `><x nc:operation="delete"/></routing>`, "none", "", "data-missing"},
		{"none creates for a merge below", `<routing ` + nc + `><x nc:operation="merge">1</x></routing>`, "none",
			base + `<routing><x>1</x></routing>`, ""},
		{"none leaves values", `<system><hostname>other</hostname></system>`, "none", base, ""},
		{"bad operation", `<system ` + nc + ` nc:operation="destroy"/>`, "merge", "", "bad-attribute"},
		{"unknown attribute", `<system foo="1"/>`, "merge", "", "unknown-attribute"},
		{"malformed", `<system>`, "merge", "", "malformed-message"},
		{"missing key", `<vlans xmlns="urn:v"><vlan><name>x</name></vlan></vlans>`, "merge", "", "missing-element"},
		{"undeclared prefix", `<x:system/>`, "merge", "", "unknown-namespace"},
		{"bad default operation", `<system/>`, "delete", "", "invalid-value"},
		{"leaf to container", `<system><hostname><a>1</a></hostname></system>`, "merge", "", "invalid-value"},
	}
	from := mustParse(t, base)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ApplyEdit(from, strings.NewReader(tc.edit), "edit", testKeys, tc.defOp)
			if tc.tag != "" {
				var ee *EditError
				if !errors.As(err, &ee) || ee.Tag != tc.tag {
					t.Fatalf("want EditError %s, got %v", tc.tag, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := mustParse(t, tc.want); !got.Equal(want) {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
	if !from.Equal(mustParse(t, base)) {
		t.Errorf("ApplyEdit modified its input")
	}
}

// TestEditConfigProperty: what the simulator does with the payload is what
// the plan says the device will hold.
func TestEditConfigProperty(t *testing.T) {
	for seed := range uint64(300) {
		g := gen{rand.New(rand.NewPCG(seed, 2))}
		from, to := g.tree(), g.tree()
		from.SetOwner("old")
		to.SetOwner("new")
		if seed%2 == 1 {
			g.disown(from, 0.25)
		}
		changes := Diff(from, to)
		want, err := Apply(from, changes)
		if err != nil {
			t.Fatalf("seed %d: Apply: %v", seed, err)
		}
		payload, err := EditConfig(changes)
		if err != nil {
			t.Fatalf("seed %d: EditConfig: %v", seed, err)
		}
		got, err := ApplyEdit(from, strings.NewReader(payload), "edit", genKeys, "merge")
		if err != nil {
			t.Fatalf("seed %d: ApplyEdit: %v\n%s", seed, err, payload)
		}
		if !got.Equal(want) {
			t.Fatalf("seed %d: ApplyEdit =\n%s\nwant\n%s\npayload\n%s", seed, got, want, payload)
		}
		// Under default-operation none the same payload does the same.
		if got, err := ApplyEdit(from, strings.NewReader(payload), "edit", genKeys, "none"); err != nil || !got.Equal(want) {
			t.Fatalf("seed %d: default-operation none: %v\n%s\npayload\n%s", seed, err, got, payload)
		}
	}
}

// A node that changes kind is removed and created by Diff; the payload
// replaces it in one operation, with the same result.
func TestEditConfigKindChange(t *testing.T) {
	for _, tc := range []struct{ from, to string }{
		{`<system><x>1</x><keep>k</keep></system>`, `<system><x><y>2</y><z>3</z></x><keep>k</keep></system>`},
		{`<system><x><y>2</y></x><keep>k</keep></system>`, `<system><x>1</x><keep>k</keep></system>`},
	} {
		from, to := owned(t, "a", tc.from), owned(t, "b", tc.to)
		changes := Diff(from, to)
		want, err := Apply(from, changes)
		if err != nil || !want.Equal(to) {
			t.Fatalf("Apply: %v\n%s", err, want)
		}
		payload, err := EditConfig(changes)
		if err != nil {
			t.Fatalf("EditConfig: %v", err)
		}
		if !strings.Contains(payload, `nc:operation="replace"`) {
			t.Errorf("kind change must be a replace: %s", payload)
		}
		got, err := ApplyEdit(from, strings.NewReader(payload), "edit", testKeys, "merge")
		if err != nil || !got.Equal(want) {
			t.Errorf("ApplyEdit: %v\n%s\nwant\n%s\npayload %s", err, got, want, payload)
		}
	}
}

// TestApplyEditRefuseRemoveOfEntryUnderAbsentParent pins the yuma123 quirk as
// the lab showed it: only a remove of an absent entry whose parent is absent
// too is refused; RFC 6241 semantics otherwise.
func TestApplyEditRefuseRemoveOfEntryUnderAbsentParent(t *testing.T) {
	const nc = `xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"`
	removeEntry := `<vlans xmlns="urn:v" ` + nc + `><vlan nc:operation="remove"><id>7</id></vlan></vlans>`
	removeLeaf := `<vlans xmlns="urn:v" ` + nc + `><vlan><id>7</id><name nc:operation="remove"/></vlan></vlans>`
	q := EditQuirks{RefuseRemoveOfEntryUnderAbsentParent: true}
	for _, tc := range []struct {
		name, base, edit string
		refused          bool
	}{
		{"absent entry, absent parent", `<system><hostname>pe1</hostname></system>`, removeEntry, true},
		{"absent entry, empty parent", `<vlans xmlns="urn:v"/>`, removeEntry, false},
		{"absent entry beside another", `<vlans xmlns="urn:v"><vlan><id>1</id></vlan></vlans>`, removeEntry, false},
		{"present entry", `<vlans xmlns="urn:v"><vlan><id>7</id></vlan></vlans>`, removeEntry, false},
		{"absent leaf of an absent entry, absent parent", ``, removeLeaf, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := mustParse(t, tc.base)
			_, err := ApplyEditQuirks(base, strings.NewReader(tc.edit), "edit", testKeys, "merge", q)
			var ee *EditError
			switch {
			case tc.refused && (!errors.As(err, &ee) || ee.Tag != "data-missing" || ee.AppTag != "instance-required" || ee.Path != "/vlans/vlan[id=7]"):
				t.Fatalf("err = %v, want data-missing instance-required at /vlans/vlan[id=7]", err)
			case !tc.refused && err != nil:
				t.Fatalf("err = %v, want the remove ignored", err)
			}
			if _, err := ApplyEdit(base, strings.NewReader(tc.edit), "edit", testKeys, "merge"); err != nil {
				t.Errorf("without the quirk: %v (RFC 6241 ignores a remove of an absent node)", err)
			}
		})
	}
}

// TestEditConfigRemovedLeafIsEmptyElement: a removed leaf is written <x/>,
// which yuma123 reads as "no value"; <x></x> it reads as the value "" and
// refuses for a typed leaf (docs/quirks.md). The payload still applies as
// the model says.
func TestEditConfigRemovedLeafIsEmptyElement(t *testing.T) {
	from := owned(t, "svc-a", `<vlans xmlns="urn:v"><vlan><id>1</id><name>a</name><mtu>1500</mtu></vlan></vlans><system xmlns="urn:s"><mtu>9000</mtu></system>`)
	to := owned(t, "svc-a", `<vlans xmlns="urn:v"><vlan><id>1</id><name>a</name></vlan></vlans><system xmlns="urn:s"/>`)
	changes := Diff(from, to)
	payload, err := EditConfig(changes)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<mtu nc:operation="remove"/></vlan>`, `<mtu nc:operation="remove"/></system>`} {
		if !strings.Contains(payload, want) {
			t.Errorf("payload %s\nlacks %s", payload, want)
		}
	}
	if strings.Contains(payload, "></mtu>") {
		t.Errorf("payload %s writes a removed leaf with an empty value", payload)
	}
	want, err := Apply(from, changes)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ApplyEdit(from, strings.NewReader(payload), "edit", testKeys, "merge"); err != nil || !got.Equal(want) {
		t.Errorf("ApplyEdit: %v\n%s\nwant\n%s", err, got, want)
	}
}
