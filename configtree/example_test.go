package configtree_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/netrecon/netrecon/configtree"
)

var keys = configtree.Keys{
	"/interfaces/interface": {"name"},
	// The type of an interface is an identityref (RFC 8343).
	"/interfaces/interface/type": {configtree.IdentityLeaf},
}

// Two services render one interface each; the device also holds an
// interface a human configured. The plan removes what the departed service
// owned and nothing else.
func ExampleDiff() {
	frag := func(owner, name, desc string) *configtree.Tree {
		src := `<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces"><interface><name>` +
			name + `</name><description>` + desc + `</description></interface></interfaces>`
		t, err := configtree.Parse(strings.NewReader(src), owner+".xml", keys)
		if err != nil {
			panic(err)
		}
		t.SetOwner(owner)
		return t
	}
	// What netrecon applied before (the journal) and what the device holds.
	journal := configtree.New()
	if err := configtree.MergeAll(journal, frag("acme", "ge-0/0/1", "acme"), frag("beta", "ge-0/0/2", "beta")); err != nil {
		panic(err)
	}
	live, err := configtree.ParseData(strings.NewReader(`<data xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">
  <interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces">
    <interface><name>ge-0/0/1</name><description>acme</description></interface>
    <interface><name>ge-0/0/2</name><description>beta</description></interface>
    <interface><name>ge-0/0/9</name><description>a human's</description></interface>
  </interfaces>
</data>`), "pe1 get-config", keys)
	if err != nil {
		panic(err)
	}
	live.AdoptOwners(journal)

	// beta left the intent; acme changed its description.
	desired := frag("acme", "ge-0/0/1", "acme tokyo")
	changes := configtree.Diff(live, desired)
	for _, c := range changes {
		fmt.Printf("%c %s %v\n", c.Action, c.Path, c.Owners)
	}
	payload, err := configtree.EditConfig(changes)
	if err != nil {
		panic(err)
	}
	fmt.Println(payload)
	// Output:
	// - /interfaces/interface[name=ge-0/0/2] [beta]
	// ~ /interfaces/interface[name=ge-0/0/1]/description [acme]
	// <interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces" xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><interface><name>ge-0/0/1</name><description nc:operation="merge">acme tokyo</description></interface><interface nc:operation="remove"><name>ge-0/0/2</name></interface></interfaces>
}

func ExampleTree_WriteXML() {
	t, err := configtree.Parse(strings.NewReader(`
<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces" xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type">
  <interface><type>ianaift:l2vlan</type><name>ge-0/0/1.100</name></interface>
</interfaces>`), "fragment.xml", keys)
	if err != nil {
		panic(err)
	}
	t.SetOwner("acme")
	if err := t.WriteXML(os.Stdout, configtree.WriteOptions{Indent: "  ", Owners: true}); err != nil {
		panic(err)
	}
	// Output:
	// <!-- owners: acme -->
	// <interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces">
	//   <interface>
	//     <name>ge-0/0/1.100</name>
	//     <type xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type">ianaift:l2vlan</type>
	//   </interface>
	// </interfaces>
}

func ExampleParse_error() {
	_, err := configtree.Parse(strings.NewReader("<interfaces>\n  <interface><mtu>1500</mtu></interface>\n</interfaces>"), "acme.xml", keys)
	fmt.Println(err)
	// Output:
	// acme.xml:2:3: list entry <interface> has no key leaf <name> (/interfaces/interface is keyed by name)
}

func ExampleMerge() {
	parse := func(owner, src string) *configtree.Tree {
		t, err := configtree.Parse(strings.NewReader(src), owner, keys)
		if err != nil {
			panic(err)
		}
		t.SetOwner(owner)
		return t
	}
	desired := parse("acme", `<interfaces><interface><name>ge-0/0/1</name><mtu>1500</mtu></interface></interfaces>`)
	err := configtree.Merge(desired, parse("beta", `<interfaces><interface><name>ge-0/0/1</name><mtu>9000</mtu></interface></interfaces>`))
	fmt.Println(err)
	// Output:
	// /interfaces/interface[name=ge-0/0/1]/mtu: conflict: acme sets "1500" but beta sets "9000"
}
