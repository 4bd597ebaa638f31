package schema

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// validPlus returns testdata/valid with files added or replaced.
func validPlus(t *testing.T, files map[string]string) fstest.MapFS {
	t.Helper()
	fsys := readTree(t, "testdata/valid")
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

func circuit(name, customer, device, iface string, vlan int, ipv4, vrf string) string {
	s := "apiVersion: netrecon.io/v1\nkind: attachment-circuit\nmetadata: {name: " + name + ", customer: " + customer + "}\n" +
		"spec:\n  device: " + device + "\n  interface: " + iface + "\n  vlan: " + strconv.Itoa(vlan) + "\n  ipv4: " + ipv4 + "\n"
	if vrf != "" {
		s += "  vrf: " + vrf + "\n"
	}
	return s
}

func TestCrossChecks(t *testing.T) {
	// related, when set, is the place (file:line:col) the diagnostic must
	// name as related.
	type want struct{ file, field, text, related string }
	tests := []struct {
		name    string
		files   map[string]string
		trusted bool
		want    []want // empty: the repo must be valid
	}{{
		name:  "duplicate-service-name",
		files: map[string]string{"services/zz/copy.yaml": circuit("acme-tokyo-hq", "acme", "pe2-tyo", "ge-0/0/5", 5, "192.0.2.129/30", "")},
		want:  []want{{"services/zz/copy.yaml", "metadata.name", `service name "acme-tokyo-hq" is already used`, "services/acme/tokyo-hq.yaml:4:3"}},
	}, {
		name: "duplicate-device-name",
		files: map[string]string{"inventory/zz.yaml": `apiVersion: netrecon.io/v1
kind: Inventory
devices:
  - {name: pe1-tyo, platform: junos, address: 192.0.2.99, credentials: {username: x, passwordEnv: X}}
`},
		want: []want{{"inventory/zz.yaml", "devices[0].name", `device "pe1-tyo" is defined twice`, "inventory/tokyo.yaml:4:5"}},
	}, {
		// pe1-tyo is 192.0.2.11 on the default port.
		name: "duplicate-address-default-port",
		files: map[string]string{"inventory/zz.yaml": `apiVersion: netrecon.io/v1
kind: Inventory
devices:
  - {name: pe9-tyo, platform: ietf, address: 192.0.2.11, port: 830, credentials: {username: x, passwordEnv: X}}
`},
		want: []want{
			{"inventory/zz.yaml", "devices[0].address", `device "pe9-tyo" has the same address and port as device "pe1-tyo" (192.0.2.11 port 830)`, ""},
			{"inventory/tokyo.yaml", "devices[0].address", `device "pe1-tyo" has the same address and port as device "pe9-tyo" (192.0.2.11 port 830)`, ""},
		},
	}, {
		// pe1-osa is 2001:db8::21.
		name: "duplicate-address-ipv6-forms",
		files: map[string]string{"inventory/zz.yaml": `apiVersion: netrecon.io/v1
kind: Inventory
devices:
  - {name: pe9-osa, platform: junos, address: "2001:DB8:0:0:0:0:0:21", credentials: {username: x, passwordEnv: X}}
`},
		want: []want{
			{"inventory/zz.yaml", "devices[0].address", `same address and port as device "pe1-osa" (2001:db8::21 port 830)`, ""},
			{"inventory/osaka.yaml", "devices[0].address", `same address and port as device "pe9-osa"`, ""},
		},
	}, {
		// pe2-tyo is pe2-tyo.mgmt.example.net port 22830.
		name: "duplicate-address-host-name-case",
		files: map[string]string{"inventory/zz.yaml": `apiVersion: netrecon.io/v1
kind: Inventory
devices:
  - {name: pe9-tyo, platform: junos, address: PE2-TYO.Mgmt.Example.NET, port: 22830, credentials: {username: x, passwordEnv: X}}
`},
		want: []want{
			{"inventory/zz.yaml", "devices[0].address", `same address and port as device "pe2-tyo" (pe2-tyo.mgmt.example.net port 22830)`, ""},
			{"inventory/tokyo.yaml", "devices[1].address", `same address and port as device "pe9-tyo"`, ""},
		},
	}, {
		name: "duplicate-address-same-file-ipv4-mapped",
		files: map[string]string{"inventory/zz.yaml": `apiVersion: netrecon.io/v1
kind: Inventory
devices:
  - {name: pe8-tyo, platform: ietf, address: 192.0.2.99, credentials: {username: x, passwordEnv: X}}
  - {name: pe9-tyo, platform: ietf, address: "::ffff:192.0.2.99", credentials: {username: x, passwordEnv: X}}
`},
		want: []want{
			{"inventory/zz.yaml", "devices[0].address", `device "pe8-tyo" has the same address and port as device "pe9-tyo"`, ""},
			{"inventory/zz.yaml", "devices[1].address", `device "pe9-tyo" has the same address and port as device "pe8-tyo"`, ""},
		},
	}, {
		name: "same-address-other-port",
		files: map[string]string{"inventory/zz.yaml": `apiVersion: netrecon.io/v1
kind: Inventory
devices:
  - {name: pe9-tyo, platform: ietf, address: 192.0.2.11, port: 831, credentials: {username: x, passwordEnv: X}}
  - {name: pe8-tyo, platform: junos, address: pe2-tyo.mgmt.example.net, credentials: {username: x, passwordEnv: X}}
`},
	}, {
		name:  "missing-device",
		files: map[string]string{"services/x.yaml": circuit("x", "acme", "pe9-nowhere", "ge-0/0/5", 5, "192.0.2.129/30", "")},
		want:  []want{{"services/x.yaml", "spec.device", `no device "pe9-nowhere" in the inventory`, ""}},
	}, {
		name: "missing-template",
		files: map[string]string{"services/x.yaml": `apiVersion: netrecon.io/v1
kind: transit
metadata: {name: x, customer: globex}
spec: {devices: [pe2-tyo, pe1-tyo], peerAS: 64500, neighbor: 192.0.2.1}
`},
		want: []want{{"services/x.yaml", "spec.devices[1]", `service type "transit" has no template for platform "ietf"`, ""}},
	}, {
		name:  "interface-vlan-clash",
		files: map[string]string{"services/x.yaml": circuit("x", "initech", "pe1-tyo", "ge-0/0/1", 100, "192.0.2.129/30", "")},
		want:  []want{{"services/x.yaml", "spec.vlan", `interface ge-0/0/1 vlan 100 on device "pe1-tyo" is already used`, ""}},
	}, {
		name:  "same-vlan-other-interface",
		files: map[string]string{"services/x.yaml": circuit("x", "initech", "pe1-tyo", "ge-0/0/2", 100, "192.0.2.129/30", "")},
	}, {
		name:  "prefix-overlap",
		files: map[string]string{"services/x.yaml": circuit("x", "initech", "pe1-tyo", "ge-0/0/2", 7, "198.51.100.5/29", "acme")},
		want:  []want{{"services/x.yaml", "spec.ipv4", `link 198.51.100.0/29 overlaps link 198.51.100.0/30 of service "acme-tokyo-hq" on device "pe1-tyo" (vrf acme)`, "services/acme/tokyo-hq.yaml:13:3"}},
	}, {
		name:  "prefix-overlap-other-vrf",
		files: map[string]string{"services/x.yaml": circuit("x", "initech", "pe1-tyo", "ge-0/0/2", 7, "198.51.100.5/29", "initech")},
	}, {
		name: "static-route-overlaps-other-customer",
		files: map[string]string{"services/x.yaml": `apiVersion: netrecon.io/v1
kind: static-routing
metadata: {name: x, customer: initech}
spec:
  device: pe1-osa
  routes:
    - {prefix: 198.51.100.0/24, nextHop: 198.51.100.10}
`},
		want: []want{
			{"services/x.yaml", "spec.routes[0].prefix", `prefix 198.51.100.0/24 of customer "initech" overlaps 198.51.100.8/29 of customer "globex" in vrf global`, "services/globex/osaka.yml:10:3"},
		},
	}, {
		name:  "network-address",
		files: map[string]string{"services/x.yaml": circuit("x", "acme", "pe2-tyo", "ge-0/0/2", 7, "192.0.2.128/30", "")},
		want:  []want{{"services/x.yaml", "spec.ipv4", "192.0.2.128/30 is not a host address of its subnet", ""}},
	}, {
		name:  "broadcast-address",
		files: map[string]string{"services/x.yaml": circuit("x", "acme", "pe2-tyo", "ge-0/0/2", 7, "192.0.2.131/30", "")},
		want:  []want{{"services/x.yaml", "spec.ipv4", "192.0.2.131/30 is not a host address of its subnet", ""}},
	}, {
		name:  "point-to-point-31",
		files: map[string]string{"services/x.yaml": circuit("x", "acme", "pe2-tyo", "ge-0/0/2", 7, "192.0.2.130/31", "")},
	}, {
		name: "next-hop-outside",
		files: map[string]string{"services/acme/tokyo-routes.yaml": `apiVersion: netrecon.io/v1
kind: static-routing
metadata: {name: acme-tokyo-routes, customer: acme}
spec:
  device: pe1-tyo
  vrf: acme
  routes:
    - {prefix: 203.0.113.0/25, nextHop: 198.51.100.2}
    - {prefix: 203.0.113.128/25, nextHop: 10.9.9.9}
`},
		want: []want{{"services/acme/tokyo-routes.yaml", "spec.routes[1].nextHop", `next hop 10.9.9.9 is not inside any attachment circuit of customer "acme" on device "pe1-tyo" (vrf acme)`, ""}},
	}, {
		name: "next-hop-other-vrf",
		files: map[string]string{"services/x.yaml": `apiVersion: netrecon.io/v1
kind: static-routing
metadata: {name: x, customer: acme}
spec:
  device: pe1-tyo
  routes: [{prefix: 203.0.113.0/25, nextHop: 198.51.100.2}]
`},
		want: []want{{"services/x.yaml", "spec.routes[0].nextHop", `(vrf global)`, ""}},
	}, {
		name: "next-hop-other-customer",
		files: map[string]string{"services/x.yaml": `apiVersion: netrecon.io/v1
kind: static-routing
metadata: {name: x, customer: initech}
spec:
  device: pe1-osa
  routes: [{prefix: 10.0.0.0/8, nextHop: 198.51.100.10}]
`},
		want: []want{{"services/x.yaml", "spec.routes[0].nextHop", `not inside any attachment circuit of customer "initech"`, ""}},
	}, {
		name: "prefix-host-bits",
		files: map[string]string{"services/acme/tokyo-routes.yaml": `apiVersion: netrecon.io/v1
kind: static-routing
metadata: {name: acme-tokyo-routes, customer: acme}
spec:
  device: pe1-tyo
  vrf: acme
  routes: [{prefix: 203.0.113.1/25, nextHop: 198.51.100.2}]
`},
		want: []want{{"services/acme/tokyo-routes.yaml", "spec.routes[0].prefix", "prefix 203.0.113.1/25 has host bits set", ""}},
	}, {
		name:    "vlan-range-trusted",
		files:   map[string]string{"services/x.yaml": circuit("x", "acme", "pe2-tyo", "ge-0/0/2", 5000, "192.0.2.129/30", "")},
		trusted: true,
		want:    []want{{"services/x.yaml", "spec.vlan", "vlan 5000 is out of range 1-4094", ""}},
	}, {
		name:  "ipv6-only-circuit",
		files: map[string]string{"services/x.yaml": strings.Replace(circuit("x", "acme", "pe2-tyo", "ge-0/0/2", 7, "192.0.2.129/30", ""), "ipv4: 192.0.2.129/30", "ipv6: 2001:db8:7::1/64", 1)},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{}
			if tt.trusted {
				opts.Trusted = func(string) bool { return true }
			}
			_, diags := Load(validPlus(t, tt.files), opts)
			if len(tt.want) == 0 {
				if diags.HasErrors() {
					t.Fatalf("want no error; got:\n%s", diagText(diags))
				}
				return
			}
			checkDiags(t, diags)
			for _, w := range tt.want {
				found := false
				for _, d := range diags {
					if d.Pos.File == w.file && d.Field == w.field && strings.Contains(d.Summary, w.text) && d.Pos.Line > 0 &&
						(w.related == "" || slices.ContainsFunc(d.Related, func(r Related) bool { return r.Pos.String() == w.related })) {
						found = true
					}
				}
				if !found {
					t.Errorf("want %s: %s: %q; got:\n%s", w.file, w.field, w.text, diagText(diags))
				}
			}
		})
	}
}

// TestDuplicateNamesBothPlaces checks that two services of one name are one
// error on the later file naming the earlier one, whichever of them is new:
// the order of files decides, never which was loaded first. (When the copy
// comes first, the routes through the circuit it displaces follow from the
// clash, and are listed under it.)
func TestDuplicateNamesBothPlaces(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"services/zz/copy.yaml", `services/zz/copy.yaml:3:12: metadata.name: service name "acme-tokyo-hq" is already used in services/acme/tokyo-hq.yaml (service names are unique across the repo, as each owns the config it renders: rename one of the two); see services/acme/tokyo-hq.yaml:4:3: metadata.name: the other service named "acme-tokyo-hq"`},
		{"services/aa/copy.yaml", `services/acme/tokyo-hq.yaml:4:3: metadata.name: service name "acme-tokyo-hq" is already used in services/aa/copy.yaml (service names are unique across the repo, as each owns the config it renders: rename one of the two); see services/aa/copy.yaml:3:12: metadata.name: the other service named "acme-tokyo-hq"`},
	} {
		_, diags := Load(validPlus(t, map[string]string{
			tc.file: circuit("acme-tokyo-hq", "acme", "pe2-tyo", "ge-0/0/5", 5, "192.0.2.129/30", ""),
		}), Options{})
		if len(diags) != 1 || !strings.HasPrefix(diags[0].String(), tc.want) {
			t.Errorf("with %s:\n%s\nwant one error, starting\n%s", tc.file, diagText(diags), tc.want)
		}
	}
}

// TestDuplicateAddressNamesTheOther checks that each of two devices with one
// address and port points at the other's file and line, and that three of
// them give each one error, in the same order on every run.
func TestDuplicateAddressNamesTheOther(t *testing.T) {
	fsys := validPlus(t, map[string]string{
		"inventory/zz.yaml": `apiVersion: netrecon.io/v1
kind: Inventory
devices:
  - {name: pe8-tyo, platform: ietf, address: 192.0.2.11, credentials: {username: x, passwordEnv: X}}
  - {name: pe9-tyo, platform: ietf, address: 192.0.2.11, credentials: {username: x, passwordEnv: X}}
`,
	})
	_, diags := Load(fsys, Options{})
	var got []string
	for _, d := range diags {
		if strings.Contains(d.Summary, "same address and port") {
			got = append(got, d.String())
		}
	}
	want := []string{
		`inventory/tokyo.yaml:4:5: devices[0].address: device "pe1-tyo" has the same address and port as device "pe8-tyo" (192.0.2.11 port 830) (also used by device "pe8-tyo" at inventory/zz.yaml:4:5 and device "pe9-tyo" at inventory/zz.yaml:5:5; each device needs its own address and port, or netrecon locks and edits one router as two)`,
		`inventory/zz.yaml:4:5: devices[0].address: device "pe8-tyo" has the same address and port as device "pe1-tyo" (192.0.2.11 port 830) (also used by device "pe1-tyo" at inventory/tokyo.yaml:4:5 and device "pe9-tyo" at inventory/zz.yaml:5:5; each device needs its own address and port, or netrecon locks and edits one router as two)`,
		`inventory/zz.yaml:5:5: devices[1].address: device "pe9-tyo" has the same address and port as device "pe1-tyo" (192.0.2.11 port 830) (also used by device "pe1-tyo" at inventory/tokyo.yaml:4:5 and device "pe8-tyo" at inventory/zz.yaml:4:5; each device needs its own address and port, or netrecon locks and edits one router as two)`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("duplicate address errors (-want +got):\n%s", diff)
	}
}
