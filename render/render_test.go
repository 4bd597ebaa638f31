package render

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/schema"
)

// flatten lists every node of t as "path" (containers) or "path=value"
// (leaves, with {space} before an identity's value), in document order: a
// comparison that needs nothing of configtree but its types.
func flatten(t *configtree.Tree) []string {
	var out []string
	var walk func(n *configtree.Node, p string)
	walk = func(n *configtree.Node, p string) {
		p += "/" + n.Name
		if n.Leaf {
			v := n.Value
			if n.ValueSpace != "" {
				v = "{" + n.ValueSpace + "}" + v
			}
			out = append(out, p+"="+v)
			return
		}
		out = append(out, p)
		for _, c := range n.Children {
			walk(c, p)
		}
	}
	for _, c := range t.Root.Children {
		walk(c, "")
	}
	return out
}

// find returns the nodes of t whose slash path of local names is p.
func find(t *configtree.Tree, p string) []*configtree.Node {
	var out []*configtree.Node
	var walk func(n *configtree.Node, at string)
	walk = func(n *configtree.Node, at string) {
		at += "/" + n.Name
		if at == p {
			out = append(out, n)
			return
		}
		if strings.HasPrefix(p, at+"/") {
			for _, c := range n.Children {
				walk(c, at)
			}
		}
	}
	for _, c := range t.Root.Children {
		walk(c, "")
	}
	return out
}

var descPath = map[string]string{
	schema.PlatformIETF:  "/interfaces/interface/description",
	schema.PlatformJunos: "/configuration/interfaces/interface/unit/description",
}

// TestEscapingByConstruction renders descriptions that would break out of
// their element, end a NETCONF 1.0 message or open CDATA if pasted raw, and
// checks each stays one leaf with exactly that text and adds no node.
func TestEscapingByConstruction(t *testing.T) {
	evil := []string{
		"</description><delete/>",
		"]]>]]>",
		"<![CDATA[x]]>",
		"&amp;",
		`"quoted" 'single' + <tag attr="x">`,
		"<!-- comment -->",
		"{{ .Device.Name }}",
	}
	for _, platform := range []string{schema.PlatformIETF, schema.PlatformJunos} {
		dev := device("pe1", platform)
		render := func(t *testing.T, desc string) *configtree.Tree {
			t.Helper()
			svc := circuit("ac1", "pe1", map[string]any{"interface": "ge-0/0/1", "vlan": int64(100), "ipv4": "192.0.2.1/30", "description": desc})
			r := mustNew(t, intent([]*schema.Device{dev}, svc))
			tree, err := r.Fragment(svc, dev)
			if err != nil {
				t.Fatal(err)
			}
			return tree
		}
		for _, desc := range evil {
			t.Run(platform+"/"+desc, func(t *testing.T) {
				want := render(t, "placeholder")
				got := render(t, desc)
				leaves := find(got, descPath[platform])
				if len(leaves) != 1 || !leaves[0].Leaf || leaves[0].Value != desc {
					t.Fatalf("description leaves = %v, want one leaf %q", flatten(&configtree.Tree{Root: &configtree.Node{Children: leaves}}), desc)
				}
				leaves[0].Value = "placeholder"
				if d := cmp.Diff(flatten(want), flatten(got)); d != "" {
					t.Errorf("tree differs beyond the description (-want +got):\n%s", d)
				}
			})
		}
	}
}

// TestNamespacesAndIdentities checks that html/template leaves literal xmlns
// attributes and prefixed identity values alone, so the tree holds the right
// namespaces and identities, and documents that an interpolated xmlns value
// is filtered (templates must write namespaces literally).
func TestNamespacesAndIdentities(t *testing.T) {
	dev := device("pe1", schema.PlatformIETF)
	ac := circuit("ac1", "pe1", map[string]any{"interface": "ge-0/0/1", "vlan": int64(100), "ipv4": "192.0.2.1/30", "ipv6": "2001:db8::1/64"})
	sr := routing("sr1", "pe1", map[string]any{"routes": []any{route("198.51.100.0/24", "192.0.2.2", ""), route("2001:db8:1::/48", "2001:db8::2", "")}})
	r := mustNew(t, intent([]*schema.Device{dev}, ac, sr))
	tree, diags := r.Device("pe1")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, c := range []struct{ path, space, value, valueSpace string }{
		{"/interfaces", "urn:ietf:params:xml:ns:yang:ietf-interfaces", "", ""},
		{"/interfaces/interface/type", "urn:ietf:params:xml:ns:yang:ietf-interfaces", "l2vlan", "urn:ietf:params:xml:ns:yang:iana-if-type"},
		{"/interfaces/interface/ipv4", "urn:ietf:params:xml:ns:yang:ietf-ip", "", ""},
		{"/interfaces/interface/ipv6/address/ip", "urn:ietf:params:xml:ns:yang:ietf-ip", "2001:db8::1", ""},
		{"/routing/control-plane-protocols/control-plane-protocol/type", "urn:ietf:params:xml:ns:yang:ietf-routing", "static", "urn:ietf:params:xml:ns:yang:ietf-routing"},
		{"/routing/control-plane-protocols/control-plane-protocol/name", "urn:ietf:params:xml:ns:yang:ietf-routing", "default", ""},
		{"/routing/control-plane-protocols/control-plane-protocol/static-routes/ipv4", "urn:ietf:params:xml:ns:yang:ietf-ipv4-unicast-routing", "", ""},
		{"/routing/control-plane-protocols/control-plane-protocol/static-routes/ipv6/route/next-hop/next-hop-address", "urn:ietf:params:xml:ns:yang:ietf-ipv6-unicast-routing", "2001:db8::2", ""},
	} {
		ns := find(tree, c.path)
		if len(ns) != 1 {
			t.Errorf("%s: %d nodes, want 1", c.path, len(ns))
			continue
		}
		n := ns[0]
		if n.Space != c.space || n.Value != c.value || n.ValueSpace != c.valueSpace {
			t.Errorf("%s = {%s}%q (value space %q), want {%s}%q (%q)", c.path, n.Space, n.Value, n.ValueSpace, c.space, c.value, c.valueSpace)
		}
	}

	// An interpolated namespace is an URL to html/template: it is filtered.
	in := intent([]*schema.Device{dev}, &schema.Service{Kind: "ns", Name: "x", Spec: map[string]any{"ns": "urn:example:x"}, Devices: []string{"pe1"}})
	in.Types["ns"] = &schema.ServiceType{Kind: "ns", Dir: "service-types/ns", Template: map[string]schema.Template{
		"ietf": {Name: "service-types/ns/ietf.xml.tmpl", Source: `<x xmlns="{{ .Spec.ns }}"/>`},
	}}
	r = mustNew(t, in)
	frag, err := r.Fragment(in.Services[0], dev)
	if err != nil {
		t.Fatal(err)
	}
	if got := frag.Root.Children[0].Space; got == "urn:example:x" {
		t.Errorf("interpolated xmlns kept as %q; html/template changed: update doc.go", got)
	}
}

// TestSharedNodes checks that two circuits on one port share vlan-tagging
// and the port, each owning its own unit.
func TestSharedNodes(t *testing.T) {
	dev := device("pe2", schema.PlatformJunos)
	a := circuit("a", "pe2", map[string]any{"interface": "ge-0/0/1", "vlan": int64(100), "ipv4": "192.0.2.1/30", "vrf": "blue"})
	b := circuit("b", "pe2", map[string]any{"interface": "ge-0/0/1", "vlan": int64(200), "ipv4": "192.0.2.5/30", "vrf": "blue"})
	r := mustNew(t, intent([]*schema.Device{dev}, a, b))
	tree, diags := r.Device("pe2")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for path, want := range map[string][]string{
		"/configuration/interfaces/interface/vlan-tagging":             {"a", "b"},
		"/configuration/routing-instances/instance/instance-type":      {"a", "b"},
		"/configuration/interfaces/interface/unit/vlan-id":             {"a"},
		"/configuration/routing-instances/instance/interface/name":     {"a"},
		"/configuration/interfaces/interface/unit/family/inet/address": {"a"},
	} {
		nodes := find(tree, path)
		if len(nodes) == 0 {
			t.Errorf("%s: missing", path)
			continue
		}
		if got := nodes[0].Owners; !slices.Equal(got, want) {
			t.Errorf("%s: owners %v, want %v", path, got, want)
		}
	}
	if n := len(find(tree, "/configuration/interfaces/interface/unit")); n != 2 {
		t.Errorf("%d units, want 2", n)
	}
}

// TestConflict checks that two services setting one leaf differently yield a
// diagnostic that names both services' files and the path.
func TestConflict(t *testing.T) {
	for _, platform := range []string{schema.PlatformIETF, schema.PlatformJunos} {
		t.Run(platform, func(t *testing.T) {
			dev := device("pe1", platform)
			a := circuit("a", "pe1", map[string]any{"interface": "ge-0/0/1", "vlan": int64(100), "ipv4": "192.0.2.1/30", "description": "first"})
			b := circuit("b", "pe1", map[string]any{"interface": "ge-0/0/1", "vlan": int64(100), "ipv4": "192.0.2.1/30", "description": "second"})
			r := mustNew(t, intent([]*schema.Device{dev}, a, b))
			_, diags := r.Device("pe1")
			if len(diags) != 1 {
				t.Fatalf("diagnostics = %v, want 1", diags)
			}
			d := diags[0].String()
			t.Log(d)
			for _, want := range []string{"services/acme/a.yaml", "services/acme/b.yaml", "description", `"first"`, `"second"`, `"pe1"`} {
				if !strings.Contains(d, want) {
					t.Errorf("diagnostic %q lacks %q", d, want)
				}
			}
		})
	}
}

// userType makes an intent with one user-defined type whose ietf template is
// src, and one service of it on an ietf device.
func userType(src string, spec map[string]any) (*schema.Intent, *schema.Device) {
	dev := device("pe1", schema.PlatformIETF)
	in := intent([]*schema.Device{dev}, &schema.Service{
		Kind: "custom", Name: "svc", Spec: spec, Devices: []string{"pe1"},
		Pos: schema.Pos{File: "services/svc.yaml", Line: 1, Col: 1},
	})
	in.Types["custom"] = &schema.ServiceType{Kind: "custom", Dir: "service-types/custom", Template: map[string]schema.Template{
		"ietf": {Name: "service-types/custom/ietf.xml.tmpl", Source: src},
	}}
	return in, dev
}

// TestTemplateDiagnostics checks that each way a template can fail is
// reported at the template's file, with its line when it is known.
func TestTemplateDiagnostics(t *testing.T) {
	const file = "service-types/custom/ietf.xml.tmpl"
	for _, c := range []struct {
		name     string
		src      string
		spec     map[string]any
		atNew    bool
		line     int
		contains []string
	}{
		{
			name:     "parse error",
			src:      "<a>\n  <b>{{ .Spec.x }</b>\n</a>\n",
			atNew:    true,
			line:     2,
			contains: []string{file + ":2"},
		},
		{
			name:     "unknown function",
			src:      "<a>\n\n  <b>{{ nosuch .Spec.x }}</b>\n</a>\n",
			atNew:    true,
			line:     3,
			contains: []string{"nosuch"},
		},
		{
			name:     "script element",
			src:      "<a>\n  <Script>{{ .Spec.x }}</Script>\n</a>\n",
			atNew:    true,
			line:     2,
			contains: []string{"<Script>", "html/template"},
		},
		{
			name:     "execution error",
			src:      "<a>\n  <b>{{ ipaddr .Spec.x }}</b>\n</a>\n",
			spec:     map[string]any{"x": "not-an-address"},
			line:     2,
			contains: []string{file + ":2", "ipaddr", `"svc"`, "services/svc.yaml", `"pe1"`},
		},
		{
			name:     "malformed output",
			src:      "<a>\n  <b>{{ .Spec.x }}</c>\n</a>\n",
			spec:     map[string]any{"x": "1"},
			line:     2,
			contains: []string{file, "rendered line 2", "<b>1</c>"},
		},
		{
			name:     "closes an element it did not open",
			src:      "{{/* a comment\n   of two lines */}}<a>{{ .Spec.x }}</a>\n</interfaces>\n<delete/>\n",
			spec:     map[string]any{"x": "1"},
			line:     3,
			contains: []string{file, "rendered line 2", "</interfaces>"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			in, _ := userType(c.src, c.spec)
			r, diags := New(in)
			if !c.atNew {
				if diags.HasErrors() {
					t.Fatalf("New: %v", diags)
				}
				_, diags = r.Device("pe1")
			}
			if len(diags) != 1 {
				t.Fatalf("diagnostics = %v, want 1", diags)
			}
			d := diags[0]
			t.Log(d)
			if d.Pos.File != file || d.Pos.Line != c.line {
				t.Errorf("position %v, want %s:%d", d.Pos, file, c.line)
			}
			for _, want := range c.contains {
				if !strings.Contains(d.String(), want) {
					t.Errorf("diagnostic %q lacks %q", d, want)
				}
			}
		})
	}
}

// TestValueErrors checks that a string XML cannot carry is refused at its
// field, before any template runs.
func TestValueErrors(t *testing.T) {
	dev := device("pe1", schema.PlatformJunos)
	svc := circuit("ac1", "pe1", map[string]any{"interface": "ge-0/0/1", "vlan": int64(100), "ipv4": "192.0.2.1/30", "description": "bell\x07"})
	svc.Fields = map[string]schema.Pos{"spec.description": {File: svc.Pos.File, Line: 9, Col: 16}}
	r := mustNew(t, intent([]*schema.Device{dev}, svc))
	_, err := r.Fragment(svc, dev)
	var ve *ValueError
	if !errors.As(err, &ve) || ve.Field != "spec.description" {
		t.Fatalf("Fragment error = %v, want a ValueError at spec.description", err)
	}
	_, diags := r.Device("pe1")
	if len(diags) != 1 || diags[0].Pos.Line != 9 || diags[0].Field != "spec.description" {
		t.Fatalf("diagnostics = %v, want one at line 9, spec.description", diags)
	}
}

// TestRequired checks that a built-in template fails, rather than rendering
// the sub-interface ".100", when the loader let a spec through without its
// interface.
func TestRequired(t *testing.T) {
	for _, platform := range []string{schema.PlatformIETF, schema.PlatformJunos} {
		dev := device("pe1", platform)
		svc := circuit("ac1", "pe1", map[string]any{"vlan": int64(100), "ipv4": "192.0.2.1/30"})
		r := mustNew(t, intent([]*schema.Device{dev}, svc))
		_, err := r.Fragment(svc, dev)
		var te *TemplateError
		if !errors.As(err, &te) || te.Line == 0 || !strings.Contains(te.Error(), "spec.interface is required") {
			t.Errorf("%s: error = %v, want a TemplateError with a line saying spec.interface is required", platform, err)
		}
	}
}

func TestNoTemplate(t *testing.T) {
	in, _ := userType("<a/>", nil)
	jdev := device("pe9", schema.PlatformJunos)
	in.Devices = append(in.Devices, jdev)
	in.Services[0].Devices = []string{"pe9"}
	r := mustNew(t, in)
	_, err := r.Fragment(in.Services[0], jdev)
	var ne *NoTemplateError
	if !errors.As(err, &ne) {
		t.Fatalf("error = %v, want NoTemplateError", err)
	}
	if _, diags := r.Device("pe9"); len(diags) != 1 || !strings.Contains(diags[0].Summary, "junos") {
		t.Fatalf("diagnostics = %v", diags)
	}
}

// TestDevices checks the parallel entry point against Device, one by one.
func TestDevices(t *testing.T) {
	in := benchIntent(40, 7)
	r := mustNew(t, in)
	all, diags := r.Devices(context.Background(), nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if len(all) != len(in.Devices) {
		t.Fatalf("%d trees, want %d", len(all), len(in.Devices))
	}
	for _, d := range in.Devices {
		one, _ := r.Device(d.Name)
		if diff := cmp.Diff(flatten(one), flatten(all[d.Name])); diff != "" {
			t.Errorf("%s: Devices differs from Device:\n%s", d.Name, diff)
		}
	}

	some, diags := r.Devices(context.Background(), []string{in.Devices[1].Name, "nosuch"})
	if len(some) != 1 || len(diags) != 1 || !strings.Contains(diags[0].Summary, `"nosuch"`) {
		t.Errorf("got %d trees, diagnostics %v; want 1 tree and one unknown-device error", len(some), diags)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, diags = r.Devices(ctx, nil)
	if !diags.HasErrors() || !strings.Contains(diags.Err().Error(), "canceled") {
		t.Errorf("cancelled: diagnostics %v, want a cancellation error", diags)
	}
}

func TestKeys(t *testing.T) {
	types := map[string]*schema.ServiceType{
		"transit": {Kind: "transit", Lists: map[string][]string{
			"/configuration/protocols/bgp/group":          {"name"},
			"/configuration/protocols/bgp/group/neighbor": {"name"},
		}},
	}
	k := Keys(schema.PlatformJunos, types)
	if !slices.Equal(k["/configuration/protocols/bgp/group/neighbor"], []string{"name"}) {
		t.Error("user-defined list missing")
	}
	if !slices.Equal(k["/configuration/interfaces/interface/unit"], []string{"name"}) {
		t.Error("built-in list missing")
	}
	k["/configuration/interfaces/interface/unit"] = nil
	if Keys(schema.PlatformJunos, nil)["/configuration/interfaces/interface/unit"] == nil {
		t.Error("Keys returns a shared map: a caller's change leaked")
	}
	ik := Keys(schema.PlatformIETF, nil)
	if !slices.Equal(ik["/routing/control-plane-protocols/control-plane-protocol"], []string{"type", "name"}) {
		t.Error("ietf control-plane-protocol keys wrong")
	}
}

func TestFuncs(t *testing.T) {
	for _, c := range []struct {
		fn   string
		f    func(any) (any, error)
		in   any
		want any
		err  bool
	}{
		{"ipaddr", wrap(ipaddr), "192.0.2.1/30", "192.0.2.1", false},
		{"ipaddr", wrap(ipaddr), "2001:DB8:0::1/64", "2001:db8::1", false},
		{"ipaddr", wrap(ipaddr), "192.0.2.9", "192.0.2.9", false},
		{"ipaddr", wrap(ipaddr), "x", nil, true},
		{"ipaddr", wrap(ipaddr), 42, nil, true},
		{"ipaddr", wrap(ipaddr), nil, nil, true},
		{"prefixlen", wrap(prefixlen), "192.0.2.1/30", 30, false},
		{"prefixlen", wrap(prefixlen), "2001:db8::1", 128, false},
		{"netmask", wrap(netmask), "192.0.2.1/30", "255.255.255.252", false},
		{"netmask", wrap(netmask), "10.0.0.1/8", "255.0.0.0", false},
		{"netmask", wrap(netmask), "0.0.0.0/0", "0.0.0.0", false},
		{"netmask", wrap(netmask), "2001:db8::1/64", nil, true},
		{"network", wrap(network), "192.0.2.1/30", "192.0.2.0/30", false},
		{"network", wrap(network), "2001:DB8::1/32", "2001:db8::/32", false},
		{"family", wrap(family), "198.51.100.0/24", "ipv4", false},
		{"family", wrap(family), "2001:db8::/32", "ipv6", false},
	} {
		got, err := c.f(c.in)
		if (err != nil) != c.err || (!c.err && fmt.Sprint(got) != fmt.Sprint(c.want)) {
			t.Errorf("%s(%v) = %v, %v; want %v (error %v)", c.fn, c.in, got, err, c.want, c.err)
		}
	}
	if got, _ := join(",", []any{"a", int64(2)}); got != "a,2" {
		t.Errorf("join = %q", got)
	}
	if _, err := join(",", 3); err == nil {
		t.Error("join of a number: no error")
	}
	if dflt(true, false) != false || dflt("d", nil) != "d" || dflt("d", "") != "d" || dflt(1, int64(0)) != int64(0) {
		t.Error("default: false, 0 must be kept; nil and empty string replaced")
	}
}

func wrap[T any](f func(any) (T, error)) func(any) (any, error) {
	return func(v any) (any, error) { return f(v) }
}
