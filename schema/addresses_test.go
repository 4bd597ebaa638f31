package schema

import (
	"net/netip"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestFieldPathValues(t *testing.T) {
	doc, diags := parseDocument("services/x.yaml", []byte(`spec:
  vrf: A
  peer: 192.0.2.2
  prefixes: [198.51.100.0/26, 198.51.100.64/26, 7]
  routes:
    - {prefix: 10.0.0.0/8, nextHop: 192.0.2.2}
    - {prefix: 10.1.0.0/16}
    - {prefix: 10.2.0.0/16, nextHop: 192.0.2.3}
  sites:
    - links: [{ipv4: 192.0.2.1/30}, {ipv4: 192.0.2.5/30}]
    - links: [{ipv4: 192.0.2.9/30}]
`))
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	spec := doc.data["spec"].(map[string]any)
	fields := func(vs []fieldValue) (out []string) {
		for _, v := range vs {
			out = append(out, v.field+"="+v.text)
		}
		return out
	}
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"vrf", []string{"spec.vrf=A"}},
		{"prefixes[]", []string{"spec.prefixes[0]=198.51.100.0/26", "spec.prefixes[1]=198.51.100.64/26"}}, // 7 is no string
		{"routes[].nextHop", []string{"spec.routes[0].nextHop=192.0.2.2", "spec.routes[2].nextHop=192.0.2.3"}},
		{"sites[].links[].ipv4", []string{"spec.sites[0].links[0].ipv4=192.0.2.1/30", "spec.sites[0].links[1].ipv4=192.0.2.5/30", "spec.sites[1].links[0].ipv4=192.0.2.9/30"}},
		{"nope", nil}, {"vrf[]", nil}, {"routes.prefix", nil}, {"", nil},
	} {
		if diff := cmp.Diff(tc.want, fields(compilePath(tc.path).values(spec, nil, nil))); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.path, diff)
		}
	}
	// A route's next hop is its own element's; a next hop outside the list
	// is every prefix's.
	for _, tc := range []struct {
		route RouteFields
		want  []string
	}{
		{RouteFields{"routes[].prefix", "routes[].nextHop"}, []string{
			"spec.routes[0].prefix=10.0.0.0/8 -> spec.routes[0].nextHop=192.0.2.2",
			"spec.routes[1].prefix=10.1.0.0/16 ->",
			"spec.routes[2].prefix=10.2.0.0/16 -> spec.routes[2].nextHop=192.0.2.3"}},
		{RouteFields{"prefixes[]", "peer"}, []string{
			"spec.prefixes[0]=198.51.100.0/26 -> spec.peer=192.0.2.2",
			"spec.prefixes[1]=198.51.100.64/26 -> spec.peer=192.0.2.2"}},
	} {
		r := compileAddresses(Addresses{Routes: []RouteFields{tc.route}}).routes[0]
		var got []string
		for _, p := range r.prefix.values(spec, nil, nil) {
			hops := fields(r.nextHop.values(spec, p.idx[:min(r.shared, p.n)], nil))
			got = append(got, strings.TrimSpace(p.field+"="+p.text+" -> "+strings.Join(hops, " ")))
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tc.route, diff)
		}
	}
}

func TestOtherHost(t *testing.T) {
	for in, want := range map[string]string{
		"100.64.0.1/30": "100.64.0.2", "100.64.0.2/30": "100.64.0.1", "192.0.2.0/31": "192.0.2.1", "192.0.2.1/31": "192.0.2.0",
		"2001:db8::1/127": "2001:db8::", "2001:db8::2/126": "2001:db8::1", "2001:db8:100:1::1/64": "", "10.0.0.1/29": "",
	} {
		got, ok := otherHost(mustPrefix(t, in))
		if (want == "") == ok || (ok && got.String() != want) {
			t.Errorf("otherHost(%s) = %v, %v; want %q", in, got, ok, want)
		}
	}
}

// A user type takes part in the address plan through type.yaml: here one
// with a list of links per site, whose links clash with a built-in circuit
// and whose neighbour is off its links.
func TestUserTypeAddresses(t *testing.T) {
	files := map[string]string{
		"service-types/multi/schema.cue": `#Spec: {
	device!: string
	vrf?: string
	sites!: [...{links!: [...{ipv4!: string}]}]
	peers?: [...string]
}
`,
		"service-types/multi/ietf.xml.tmpl": "<interfaces xmlns=\"urn:ietf:params:xml:ns:yang:ietf-interfaces\"/>\n",
		"service-types/multi/type.yaml": `addresses:
  vrf: vrf
  links: ["sites[].links[].ipv4"]
  neighbors: ["peers[]"]
`,
		"services/x.yaml": `apiVersion: netrecon.io/v1
kind: multi
metadata: {name: x, customer: initech}
spec:
  device: pe1-tyo
  sites:
    - links: [{ipv4: 198.51.100.2/30}]
    - links: [{ipv4: 203.0.113.1/30}]
  peers: [203.0.113.2, 203.0.113.9]
`,
	}
	for _, opts := range []Options{{}, {Evaluator: EvaluateType}} {
		_, diags := Load(validPlus(t, files), opts)
		want := []string{
			// acme-tokyo-hq has 198.51.100.1/30 in vrf acme: another context.
			`services/x.yaml:9:24: spec.peers[1]: neighbour address 203.0.113.9 is not inside any attachment circuit of customer "initech" on device "pe1-tyo" (vrf global)`,
		}
		var got []string
		for _, d := range diags {
			got = append(got, d.Pos.String()+": "+d.Field+": "+d.Summary)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("evaluator %v (-want +got):\n%s", opts.Evaluator != nil, diff)
		}
		_, diags = Load(validPlus(t, mapWith(files, "services/x.yaml", strings.Replace(files["services/x.yaml"], "  sites:", "  vrf: acme\n  sites:", 1))), opts)
		if !strings.Contains(diagText(diags), `spec.sites[0].links[0].ipv4: link 198.51.100.0/30 is already the link of service "acme-tokyo-hq"`) {
			t.Errorf("evaluator %v: no clash with acme-tokyo-hq in vrf acme:\n%s", opts.Evaluator != nil, diagText(diags))
		}
	}
}

func mapWith(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for a, b := range m {
		out[a] = b
	}
	out[k] = v
	return out
}

// A broken instance of a user type, evaluated in-process or by an
// Evaluator, takes the routes through its link with it, under its error.
func TestUserTypeFollowOns(t *testing.T) {
	base := readTree(t, "../intent-example")
	for _, opts := range []Options{{}, {Evaluator: EvaluateType}} {
		fsys := overlay(t, base, "testdata/example/broken-circuit")
		for k := range fsys {
			if k == "services/acme/acme-tokyo-hq.yaml" {
				fsys[k] = base[k] // only the user type's instance is broken here
			}
		}
		b := string(base["services/hooli/hooli-tokyo.yaml"].Data)
		fsys["services/hooli/hooli-tokyo.yaml"] = mapFile(strings.Replace(b, "vlan: 500", "vlan: 5000", 1))
		fsys["services/hooli/hooli-tokyo-extra-routes.yaml"] = mapFile(`apiVersion: netrecon.io/v1
kind: static-routing
metadata: {name: hooli-tokyo-extra-routes, customer: hooli}
spec:
  device: pe1-tyo
  routes: [{prefix: 203.0.113.192/26, nextHop: 192.0.2.2}]
`)
		_, diags := Load(fsys, opts)
		if len(diags) != 1 || diags[0].Pos.File != "services/hooli/hooli-tokyo.yaml" || len(diags[0].Related) != 1 ||
			diags[0].Related[0].Pos.File != "services/hooli/hooli-tokyo-extra-routes.yaml" {
			t.Errorf("evaluator %v: want one error on hooli-tokyo with the route under it:\n%s", opts.Evaluator != nil, diagText(diags))
		}
	}
}

// A follow-on whose cause has no error of its own (a trusted file skips
// CUE) stands on its own: nothing is lost.
func TestFollowOnWithoutCauseStands(t *testing.T) {
	fsys := overlay(t, readTree(t, "../intent-example"), "testdata/example/platform-typo")
	_, diags := Load(fsys, Options{Trusted: func(p string) bool { return strings.HasPrefix(p, "inventory/") }})
	n := 0
	for _, d := range diags {
		if strings.Contains(d.Summary, `platform "juniper"`) && len(d.Related) == 0 {
			n++
		}
	}
	if n != 11 {
		t.Errorf("want the 11 platform errors on their own, got %d:\n%s", n, diagText(diags))
	}
}

func mustPrefix(t *testing.T, s string) netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mapFile(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s), Mode: 0o644} }
