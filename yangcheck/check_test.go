package yangcheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/render"
)

// exampleSet compiles the modules the example's ietf PEs advertise, as
// fetched from the lab's netconfd into intent-example/schemas/ietf.
func exampleSet(t testing.TB, features Features) *Set {
	t.Helper()
	repo, diags := ReadRepo(os.DirFS("../intent-example"))
	if len(diags) > 0 {
		t.Fatalf("ReadRepo: %v", diags)
	}
	p := repo["ietf"]
	if p == nil {
		t.Fatal("intent-example has no schemas/ietf")
	}
	mods, fs := p.ModulesFor("pe1-tyo")
	for m, f := range features {
		fs[m] = f
	}
	s := Compile(mods, fs)
	if n := s.Notes(); len(n) > 0 {
		t.Fatalf("the example's modules do not all compile: %q", n)
	}
	return s
}

// testSet compiles testdata/modules.
func testSet(t testing.TB, features Features) *Set {
	t.Helper()
	files, err := filepath.Glob("testdata/modules/*.yang")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test modules: %v", err)
	}
	var mods []Module
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name, rev, _ := strings.Cut(strings.TrimSuffix(filepath.Base(f), ".yang"), "@")
		mods = append(mods, Module{Name: name, Revision: rev, Text: string(b), File: f})
	}
	s := Compile(mods, features)
	if n := s.Notes(); len(n) > 0 {
		t.Fatalf("test modules do not compile: %q", n)
	}
	return s
}

func parse(t testing.TB, xml string, keys configtree.Keys) *configtree.Tree {
	t.Helper()
	tree, err := configtree.Parse(strings.NewReader(xml), "test", keys)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, xml)
	}
	tree.SetOwner("svc")
	return tree
}

const (
	ifNS    = `xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces"`
	ianaift = `xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type"`
	ipNS    = `xmlns="urn:ietf:params:xml:ns:yang:ietf-ip"`
)

// iface is an interface entry with the given children after its name.
func iface(children string) string {
	return `<interfaces ` + ifNS + `><interface><name>ge-0/0/1.100</name>` + children + `</interface></interfaces>`
}

const ifType = `<type ` + ianaift + `>ianaift:l2vlan</type>`

// route is a static IPv4 route of the routing instance "default".
func route(nextHop string) string {
	return `<routing xmlns="urn:ietf:params:xml:ns:yang:ietf-routing"><control-plane-protocols><control-plane-protocol>
	<type xmlns:rt="urn:ietf:params:xml:ns:yang:ietf-routing">rt:static</type><name>default</name>
	<static-routes><ipv4 xmlns="urn:ietf:params:xml:ns:yang:ietf-ipv4-unicast-routing"><route>
	<destination-prefix>198.51.100.0/24</destination-prefix>` + nextHop + `</route></ipv4></static-routes>
	</control-plane-protocol></control-plane-protocols></routing>`
}

type checkCase struct {
	name string
	xml  string
	keys configtree.Keys // nil: the ietf platform's
	// want are substrings of the problems' summaries, one per problem, in
	// order; none: the tree is valid.
	want []string
	path string // the first problem's data path, when set
}

func runCases(t *testing.T, s *Set, cases []checkCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			keys := tc.keys
			if keys == nil {
				keys = render.Keys("ietf", nil)
			}
			probs := s.Check(parse(t, tc.xml, keys))
			if len(probs) != len(tc.want) {
				t.Fatalf("%d problems, want %d: %+v", len(probs), len(tc.want), probs)
			}
			for i, w := range tc.want {
				if !strings.Contains(probs[i].Summary, w) {
					t.Errorf("problem %d: %q, want it to say %q", i, probs[i].Summary, w)
				}
				if len(probs[i].Owners) != 1 || probs[i].Owners[0] != "svc" {
					t.Errorf("problem %d owners = %v, want [svc]", i, probs[i].Owners)
				}
			}
			if tc.path != "" && string(probs[0].Path) != tc.path {
				t.Errorf("path = %s, want %s", probs[0].Path, tc.path)
			}
		})
	}
}

func TestCheckIETF(t *testing.T) {
	s := exampleSet(t, nil)
	runCases(t, s, []checkCase{
		{name: "valid interface", xml: iface(ifType + `<enabled>true</enabled><description>a &amp; b</description>
			<ipv4 ` + ipNS + `><mtu>1500</mtu><address><ip>192.0.2.1</ip><prefix-length>30</prefix-length></address></ipv4>
			<ipv6 ` + ipNS + `><address><ip>2001:db8::1</ip><prefix-length>64</prefix-length></address></ipv6>`)},
		{name: "identity with another prefix", xml: iface(`<type xmlns:x="urn:ietf:params:xml:ns:yang:iana-if-type">x:ethernetCsmacd</type>`)},
		{name: "unknown identity", xml: iface(`<type ` + ianaift + `>ianaift:noSuchThing</type>`),
			want: []string{`"noSuchThing" is not an identity derived from interface-type`}},
		{name: "identity of the wrong module", xml: iface(`<type xmlns:if="urn:ietf:params:xml:ns:yang:ietf-interfaces">if:ethernetCsmacd</type>`),
			want: []string{"is not an identity derived from interface-type (module ietf-interfaces has none"}},
		{name: "out of range", xml: iface(ifType + `<ipv4 ` + ipNS + `><mtu>10</mtu></ipv4>`),
			want: []string{"10 is out of the range 68..65535"}, path: "/interfaces/interface[name=ge-0/0/1.100]/ipv4/mtu"},
		{name: "not a number", xml: iface(ifType + `<ipv4 ` + ipNS + `><mtu>0x5dc</mtu></ipv4>`),
			want: []string{`"0x5dc" is not a uint16`}},
		{name: "pattern", xml: iface(ifType + `<ipv4 ` + ipNS + `><address><ip>300.1.1.1</ip><prefix-length>30</prefix-length></address></ipv4>`),
			want: []string{`"300.1.1.1" does not match the pattern`}},
		{name: "boolean", xml: iface(ifType + `<enabled>yes</enabled>`), want: []string{`"yes" is not a boolean`}},
		{name: "enumeration", xml: iface(ifType + `<link-up-down-trap-enable>sometimes</link-up-down-trap-enable>`),
			want: []string{`"sometimes" is not one of the enumeration's values disabled, enabled`}},
		{name: "unknown element", xml: iface(ifType + `<speed>10G</speed>`),
			want: []string{"element <speed> of module ietf-interfaces is not defined under /if:interfaces/if:interface"}},
		{name: "unknown namespace names the module", xml: iface(ifType + `<encapsulation xmlns="urn:ietf:params:xml:ns:yang:ietf-if-extensions"/>`),
			want: []string{"but the device has no module ietf-if-extensions"}},
		{name: "wrong namespace of a known element", xml: iface(ifType + `<ipv4 ` + ifNS + `/>`),
			want: []string{"element <ipv4> of module ietf-interfaces is not defined"}},
		{name: "no namespace", xml: `<interfaces><interface><name>x</name></interface></interfaces>`,
			want: []string{"element <interfaces> has no namespace at the top level"}},
		{name: "mandatory leaf", xml: iface(`<enabled>true</enabled>`), want: []string{"<interface> lacks the mandatory leaf <type>"}},
		{name: "list not in the list table", xml: iface(ifType), keys: configtree.Keys{},
			want: []string{"list <interface> (keyed by name in module ietf-interfaces) is not in netrecon's list table"}},
		{name: "list key missing", xml: `<interfaces ` + ifNS + `><interface>` + ifType + `</interface></interfaces>`, keys: configtree.Keys{},
			want: []string{"entry of list <interface> lacks its key name", "is not in netrecon's list table"}},
		{name: "state data", xml: `<interfaces-state ` + ifNS + `/>`, want: []string{"is state data (config false"}},
		{name: "leaf with children", xml: iface(ifType + `<enabled><on/></enabled>`), want: []string{"<enabled> is a leaf, but has child elements"}},
		{name: "container with a value", xml: iface(ifType + `<ipv4 ` + ipNS + `>on</ipv4>`), want: []string{`<ipv4> is a container, but has the value "on"`}},
		// next-hop-address comes from an augment inside a uses, which goyang
		// alone never applies (liftUsesAugments).
		{name: "static route", xml: route(`<next-hop><next-hop-address>192.0.2.2</next-hop-address></next-hop>`)},
		{name: "static route without a next hop", xml: route(`<next-hop/>`), want: []string{"<next-hop> lacks the mandatory choice next-hop-options"}},
		{name: "next hop of the wrong family", xml: route(`<next-hop><next-hop-address>2001:db8::2</next-hop-address></next-hop>`),
			want: []string{`"2001:db8::2" does not match the pattern`}},
	})
}

// The seen case: a device whose server lacks ietf-ipv6-unicast-routing
// refuses IPv6 static routes (unknown-namespace); the check says which
// module is missing.
func TestCheckMissingModule(t *testing.T) {
	repo, diags := ReadRepo(os.DirFS("../intent-example"))
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	var mods []Module
	all, _ := repo["ietf"].ModulesFor("pe1-tyo")
	for _, m := range all {
		if !strings.HasPrefix(m.Name, "ietf-ipv6-") {
			mods = append(mods, m)
		}
	}
	s := Compile(mods, nil)
	tree := parse(t, strings.Replace(route(`<next-hop><next-hop-address>192.0.2.2</next-hop-address></next-hop>`),
		`<static-routes>`, `<static-routes><ipv6 xmlns="urn:ietf:params:xml:ns:yang:ietf-ipv6-unicast-routing"><route>
		<destination-prefix>2001:db8:1000::/48</destination-prefix><next-hop><next-hop-address>2001:db8::2</next-hop-address></next-hop></route></ipv6>`, 1),
		render.Keys("ietf", nil))
	probs := s.Check(tree)
	if len(probs) != 1 || probs[0].Module != "ietf-ipv6-unicast-routing" ||
		!strings.Contains(probs[0].Summary, "the device has no module ietf-ipv6-unicast-routing") ||
		probs[0].Path != "/routing/control-plane-protocols/control-plane-protocol[type=static][name=default]/static-routes/ipv6" {
		t.Fatalf("problems = %+v, want one naming ietf-ipv6-unicast-routing at static-routes/ipv6", probs)
	}
}

func TestCheckFeatures(t *testing.T) {
	// The lab's netconfd advertises if-mib; a device that does not lacks the
	// leaf it guards.
	s := exampleSet(t, Features{"ietf-interfaces": {"arbitrary-names"}})
	runCases(t, s, []checkCase{
		{name: "feature off", xml: iface(ifType + `<link-up-down-trap-enable>enabled</link-up-down-trap-enable>`),
			want: []string{"is not on the device: if-feature if-mib is not advertised"}},
	})
}

func TestCheckTypes(t *testing.T) {
	s := testSet(t, Features{"nr-test": {}})
	top := func(inner string) string {
		return `<top xmlns="urn:example:nr-test"><tcp-port>1</tcp-port><users><user><id>1</id></user></users>` + inner + `</top>`
	}
	keys := configtree.Keys{"/top/users/user": {"id"}, "/top/paint": {configtree.IdentityLeaf}}
	cases := []checkCase{
		{name: "valid", xml: top(`<ratio>99.5</ratio><name>bob</name><port>22</port><flags>up down</flags><marker/><blob>AAEC</blob>
			<paint xmlns:n="urn:example:nr-test">n:dark-red</paint><owner>1</owner><vlan>100</vlan><settings><must-have>x</must-have></settings>`)},
		{name: "decimal64 digits", xml: top(`<ratio>1.234</ratio>`), want: []string{`"1.234" is not a decimal64 with at most 2 fraction digits`}},
		{name: "decimal64 range", xml: top(`<ratio>100.01</ratio>`), want: []string{"100.01 is out of the range"}},
		{name: "length", xml: top(`<name>abcdefghij</name>`), want: []string{"is 10 characters long, outside the length 1..8"}},
		{name: "pattern", xml: top(`<name>Bob</name>`), want: []string{`"Bob" does not match the pattern "[a-z]+"`}},
		{name: "invert-match", xml: top(`<name>admin</name>`), want: []string{`"admin" matches the pattern "admin", which type string excludes`}},
		{name: "union", xml: top(`<port>any</port>`)},
		{name: "union neither", xml: top(`<port>8080</port>`), want: []string{`"8080" matches no member of the union`}},
		{name: "bits", xml: top(`<flags>up sideways</flags>`), want: []string{`bit "sideways" is not one of down, up`}},
		{name: "empty", xml: top(`<marker>yes</marker>`), want: []string{"given to a leaf of type empty"}},
		{name: "binary", xml: top(`<blob>!!</blob>`), want: []string{"is not base64"}},
		{name: "binary length", xml: top(`<blob>AAECAwQF</blob>`), want: []string{"is 6 bytes long"}},
		{name: "identity base", xml: top(`<paint xmlns:n="urn:example:nr-test">n:colour</paint>`), want: []string{`"colour" is not an identity derived from colour`}},
		{name: "identity unprefixed", xml: top(`<paint>red</paint>`)},
		{name: "leafref target type", xml: top(`<owner>300</owner>`), want: []string{`"300" is not a uint8`}},
		{name: "imported typedef", xml: top(`<vlan>4095</vlan>`), want: []string{"4095 is out of the range 1..4094 of type vlan-id"}},
		{name: "feature off", xml: top(`<shiny>true</shiny>`), want: []string{"if-feature fancy is not advertised"}},
		{name: "presence container's mandatory leaf", xml: top(`<settings/>`), want: []string{"<settings> lacks the mandatory leaf <must-have>"}},
		{name: "case's mandatory leaf", xml: `<top xmlns="urn:example:nr-test"><udp-port>1</udp-port><users><user><id>1</id></user></users></top>`,
			want: []string{"<top> lacks the mandatory leaf <udp-mode>"}},
		{name: "mandatory choice", xml: `<top xmlns="urn:example:nr-test"><users><user><id>1</id></user></users></top>`,
			want: []string{"<top> lacks the mandatory choice transport"}},
		{name: "min-elements", xml: `<top xmlns="urn:example:nr-test"><tcp-port>1</tcp-port></top>`,
			want: []string{"<top> lacks <users>, which holds the mandatory user"}},
		{name: "config false", xml: top(`<counter>1</counter>`), want: []string{"<counter> is state data"}},
	}
	for i := range cases {
		cases[i].keys = keys
	}
	runCases(t, s, cases)
}

func TestCompileKeepsGoingWithoutABadModule(t *testing.T) {
	good := Module{Name: "nr-types", Revision: "2026-01-01", File: "nr-types.yang",
		Text: `module nr-types { namespace "urn:example:nr-types"; prefix nty; revision 2026-01-01; container c { leaf l { type string; } } }`}
	for _, tc := range []struct {
		name string
		bad  Module
		note string
	}{
		{"syntax", Module{Name: "b", File: "b.yang", Text: `module b { namespace "urn:b"; prefix b; container x {`}, "b.yang: not loaded"},
		{"missing import", Module{Name: "b", File: "b.yang", Text: `module b { namespace "urn:b"; prefix b; import nope { prefix n; } }`},
			"it imports nope, which is not among the modules"},
		{"missing include", Module{Name: "b", File: "b.yang", Text: `module b { namespace "urn:b"; prefix b; include b-sub; }`},
			"it includes b-sub, which is not among the modules"},
		{"unresolved type", Module{Name: "b", File: "b.yang", Text: `module b { namespace "urn:b"; prefix b; leaf x { type nosuchtype; } }`},
			"b.yang"},
		{"wrong name", Module{Name: "c", File: "c.yang", Text: `module b { namespace "urn:b"; prefix b; }`}, `the file holds module "b", not "c"`},
		{"two statements", Module{Name: "b", File: "b.yang", Text: `module b { namespace "urn:b"; prefix b; } module d { namespace "urn:d"; prefix d; }`},
			"want one module or submodule"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Compile([]Module{good, tc.bad}, nil)
			notes := strings.Join(s.Notes(), "\n")
			if !strings.Contains(notes, tc.note) {
				t.Errorf("notes %q lack %q", notes, tc.note)
			}
			if got := s.Modules(); len(got) != 1 || got[0] != "nr-types@2026-01-01" {
				t.Errorf("modules = %v, want the good one alone", got)
			}
			probs := s.Check(parse(t, `<c xmlns="urn:example:nr-types"><l>x</l></c>`, nil))
			if len(probs) != 0 {
				t.Errorf("the good module's tree has problems: %+v", probs)
			}
		})
	}
}

// A namespace whose module is in the repo but did not load says why,
// instead of claiming the device lacks it.
func TestCheckModuleThatDidNotLoad(t *testing.T) {
	s := Compile([]Module{{Name: "b", File: "schemas/x/b.yang", Text: `module b { namespace "urn:b"; prefix b; import nope { prefix n; } container c; }`}}, nil)
	probs := s.Check(parse(t, `<c xmlns="urn:b"/>`, nil))
	if len(probs) != 1 || !strings.Contains(probs[0].Summary, "whose module did not load") || !strings.Contains(probs[0].Detail, "it imports nope") {
		t.Fatalf("problems = %+v", probs)
	}
}

// A module goyang refuses while reading it costs only itself (and what
// imports it), though goyang's error does not name its file.
func TestCompileBlamesTheModuleItRead(t *testing.T) {
	good := Module{Name: "g", File: "g.yang", Text: `module g { namespace "urn:g"; prefix g; container c; }`}
	// goyang's reader says "presence: already set", naming no file.
	bad := Module{Name: "b", File: "b.yang", Text: `module b { namespace "urn:b"; prefix b; container x { presence "a"; presence "b"; } }`}
	s := Compile([]Module{good, bad}, nil)
	if got := s.Modules(); len(got) != 1 || got[0] != "g" {
		t.Errorf("modules = %v, want g alone: the good module was blamed for the bad one", got)
	}
	if notes := strings.Join(s.Notes(), "\n"); !strings.Contains(notes, "b.yang: b not loaded: presence: already set") {
		t.Errorf("notes = %q", notes)
	}
}
