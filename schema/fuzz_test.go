package schema

import (
	"strings"
	"testing"
)

// FuzzLoadDocument feeds one file to the loader, as a service and as an
// inventory: whatever the bytes, no panic, and every error names the file.
func FuzzLoadDocument(f *testing.F) {
	for _, seed := range []string{
		"apiVersion: netrecon.io/v1\nkind: attachment-circuit\nmetadata: {name: a, customer: b}\nspec: {device: pe1, interface: ge-0/0/1, vlan: 1, ipv4: 10.0.0.1/30}\n",
		"apiVersion: netrecon.io/v1\nkind: static-routing\nmetadata: {name: a, customer: b}\nspec: {device: pe1, routes: [{prefix: 10.0.0.0/8, nextHop: 10.0.0.1}]}\n",
		"apiVersion: netrecon.io/v1\nkind: Inventory\ndevices:\n  - {name: pe1, platform: ietf, address: 192.0.2.1, credentials: {username: x, keyFile: /k}}\n",
		"a: &a [1, *a]\n",
		"a: !!binary aGVsbG8=\n",
		"---\na: 1\n---\nb: 2\n",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]",
		"kind: transit\nspec: {devices: [a]}\n",
		"\xff\xfe",
		"a:\n\tb: 1\n",
		"{a: 1, a: 2}",
	} {
		f.Add([]byte(seed))
	}
	v, err := newValidator(builtinTypes())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, j := range []job{{file: "services/f.yaml"}, {file: "inventory/f.yaml", inventory: true}} {
			fsys := fuzzFS{name: j.file, data: data}
			l := loader{v: v, r: &repoFS{fsys: fsys, maxSize: DefaultMaxFileSize}, types: v.types, broken: map[string]bool{}}
			j.typ = 0 // a regular file
			res := l.load(j)
			in := &Intent{Types: v.types, Devices: res.devices}
			if res.service != nil {
				in.Services = []*Service{res.service}
			}
			var broken []brokenDoc
			if res.broken != nil {
				broken = append(broken, *res.broken)
			}
			ds, fos := crossCheck(in, nil, broken)
			for _, d := range group(append(res.diags, ds...), fos) {
				if d.Pos.File != j.file {
					t.Errorf("diagnostic without the file's name: %v", d)
				}
				if strings.HasPrefix(d.Summary, "internal error") {
					t.Errorf("panic while loading: %v", d)
				}
			}
		}
	})
}

// FuzzAddresses reads any document's spec through any address paths, as a
// user type's type.yaml may declare them (CUE checks their form, but the
// reading must not depend on it): no panic, every diagnostic at the file.
func FuzzAddresses(f *testing.F) {
	f.Add([]byte("spec: {ipv4: 192.0.2.1/30, peer: 192.0.2.2, prefixes: [198.51.100.0/26]}\n"), "ipv4", "prefixes[]", "peer")
	f.Add([]byte("spec: {routes: [{prefix: 10.0.0.0/8, nextHop: 10.0.0.1}, {prefix: 10.0.0.0/8, nextHop: 10.0.0.2}]}\n"), "routes[].prefix", "routes[].prefix", "routes[].nextHop")
	f.Add([]byte("spec: {a: [[1]], b: {c: [x, 192.0.2.1/31]}}\n"), "a[][]", "b.c[]", "b.c[].d")
	f.Add([]byte("spec: {x: 192.0.2.0/30, y: 192.0.2.0/30}\n"), "x", "y", "..[]..")
	f.Fuzz(func(t *testing.T, data []byte, link, prefix, hop string) {
		doc, diags := parseDocument("services/f.yaml", data)
		if diags.HasErrors() {
			return
		}
		spec, _ := doc.data["spec"].(map[string]any)
		typ := &ServiceType{Kind: "f", Template: map[string]Template{}, Addresses: Addresses{
			VRF: hop, Links: []string{link, prefix}, Neighbors: []string{hop},
			Routes: []RouteFields{{Prefix: prefix, NextHop: hop}, {Prefix: link, NextHop: link}}}}
		var svcs []*Service
		for _, name := range []string{"a", "b"} {
			svcs = append(svcs, &Service{Kind: "f", Name: name, Customer: name, Spec: spec, Devices: []string{"pe1"}, Pos: doc.pos, Fields: doc.fields})
		}
		in := &Intent{Types: map[string]*ServiceType{"f": typ}, Services: svcs,
			Devices: []*Device{{Name: "pe1", Platform: PlatformIETF, Address: "192.0.2.99", Pos: doc.pos}}}
		ds, fos := crossCheck(in, nil, []brokenDoc{{cause: cause{file: "services/f.yaml"}, links: true}})
		for _, d := range group(ds, fos) {
			if d.Pos.File != "services/f.yaml" {
				t.Errorf("diagnostic without the file's name: %v", d)
			}
		}
	})
}
