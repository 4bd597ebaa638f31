package schema

import (
	"strings"
	"testing"
)

// bgpCustomer is a bgp-customer document on pe1-tyo in vrf acme, whose
// attachment circuit (testdata/valid) is 198.51.100.1/30: the customer
// router is 198.51.100.2. extra lines go at the end of the spec.
func bgpCustomer(name, neighbor, customerAS, imp string, extra ...string) string {
	s := "apiVersion: netrecon.io/v1\nkind: bgp-customer\nmetadata: {name: " + name + ", customer: acme}\nspec:\n" +
		"  device: pe1-tyo\n  vrf: acme\n  neighbor: " + neighbor + "\n  customer_as: " + customerAS + "\n  import: " + imp + "\n" +
		"  max_prefix: 100\n  provider_as_set: AS-NETRECON-CUSTOMERS\n  irr_databases: [JPIRR, RADB]\n"
	for _, e := range extra {
		s += "  " + e + "\n"
	}
	return s
}

// withIRR adds irr/settings.yaml defining the databases bgpCustomer names,
// which a bgp-customer's irr_databases must find there.
func withIRR(files map[string]string) map[string]string {
	out := map[string]string{IRRSettingsFile: "apiVersion: netrecon.io/v1\nkind: irr-settings\ndatabases:\n" +
		"  - {name: JPIRR, whois: \"jpirr.nic.ad.jp:43\", submission: {email: {to: auto-dbm@nic.ad.jp, from: irr@example.net}}, maintainer: MAINT-X, auth: {password: {secret: \"env:X\"}}}\n" +
		"  - {name: RADB, whois: \"whois.radb.net:43\", submission: {email: {to: auto-dbm@radb.net, from: irr@example.net}}, maintainer: MAINT-X, auth: {password: {secret: \"env:X\"}}}\n"}
	for k, v := range files {
		out[k] = v
	}
	return out
}

func TestBGPCustomer(t *testing.T) {
	type want struct{ file, field, text, detail string }
	const f = "services/acme/bgp.yaml"
	tests := []struct {
		name  string
		files map[string]string
		want  []want // empty: valid
	}{
		{name: "valid", files: map[string]string{f: bgpCustomer("acme-bgp", "198.51.100.2", "64500", "AS-ACME", `session_key: {secret: "env:ACME_BGP_KEY"}`)}},
		{name: "valid-hierarchical-and-as", files: map[string]string{
			f:                         bgpCustomer("acme-bgp", "198.51.100.2", "64500", "AS64500:AS-ACME"),
			"services/acme/bgp6.yaml": bgpCustomer("acme-bgp6", `"2001:db8:100::"`, "4200000001", "AS4200000001", "allow_private_as: true"),
		}},
		{name: "private-as", files: map[string]string{f: bgpCustomer("acme-bgp", "198.51.100.2", "64512", "AS-ACME")},
			want: []want{{f, "spec.customer_as", "AS64512 is a private-use AS number (RFC 6996 64512-65534)", "allow_private_as: true"}}},
		{name: "as-trans", files: map[string]string{f: bgpCustomer("acme-bgp", "198.51.100.2", "23456", "AS-ACME", "allow_private_as: true")},
			want: []want{{f, "spec.customer_as", "AS23456 is reserved (AS_TRANS)", ""}}},
		{name: "as-out-of-range", files: map[string]string{f: bgpCustomer("acme-bgp", "198.51.100.2", "4294967296", "AS-ACME")},
			want: []want{{f, "spec.customer_as", "4294967296", ""}}},
		{name: "as-zero", files: map[string]string{f: bgpCustomer("acme-bgp", "198.51.100.2", "0", "AS-ACME")},
			want: []want{{f, "spec.customer_as", "invalid value 0", ""}}},
		{name: "bad-as-set", files: map[string]string{f: bgpCustomer("acme-bgp", "198.51.100.2", "64500", "ACME-SET")},
			want: []want{{f, "spec.import", "must be an RPSL as-set name", ""}}},
		{name: "as-set-trailing-dash", files: map[string]string{f: bgpCustomer("acme-bgp", "198.51.100.2", "64500", "AS-ACME-")},
			want: []want{{f, "spec.import", "must be an RPSL as-set name", ""}}},
		{name: "hierarchical-without-set", files: map[string]string{f: bgpCustomer("acme-bgp", "198.51.100.2", "64500", "AS64500:AS64501")},
			want: []want{{f, "spec.import", "must be an RPSL as-set name", ""}}},
		{name: "import-as-any", files: map[string]string{f: bgpCustomer("acme-bgp", "198.51.100.2", "64500", "AS-ANY")},
			want: []want{{f, "spec.import", "reserved set AS-ANY", ""}}},
		{name: "import-as-too-big", files: map[string]string{f: bgpCustomer("acme-bgp", "198.51.100.2", "64500", "AS9999999999")},
			want: []want{{f, "spec.import", "not a valid AS number", ""}}},
		{name: "bad-provider-set", files: map[string]string{f: strings.Replace(bgpCustomer("acme-bgp", "198.51.100.2", "64500", "AS-ACME"), "AS-NETRECON-CUSTOMERS", "AS64500", 1)},
			want: []want{{f, "spec.provider_as_set", "must be an RPSL as-set name", ""}}},
		{name: "bad-neighbor", files: map[string]string{f: bgpCustomer("acme-bgp", "198.51.100.300", "64500", "AS-ACME")},
			want: []want{{f, "spec.neighbor", "must be an IP address", ""}}},
		{name: "max-prefix-zero", files: map[string]string{f: strings.Replace(bgpCustomer("acme-bgp", "198.51.100.2", "64500", "AS-ACME"), "max_prefix: 100", "max_prefix: 0", 1)},
			want: []want{{f, "spec.max_prefix", "invalid value 0", ""}}},
		{name: "secret-literal", files: map[string]string{f: bgpCustomer("acme-bgp", "198.51.100.2", "64500", "AS-ACME", `session_key: {secret: "hunter2"}`)},
			want: []want{{f, "spec.session_key.secret", "must be a secret reference", ""}}},
		{name: "irr-name", files: map[string]string{f: strings.Replace(bgpCustomer("acme-bgp", "198.51.100.2", "64500", "AS-ACME"), "[JPIRR, RADB]", "[jpirr]", 1)},
			want: []want{{f, "spec.irr_databases[0]", "must be an IRR database name", ""}}},
		{name: "typo-field", files: map[string]string{f: bgpCustomer("acme-bgp", "198.51.100.2", "64500", "AS-ACME", "max_prefixes: 10")},
			want: []want{{f, "spec.max_prefixes", `unknown field "max_prefixes"`, `did you mean "max_prefix"?`}}},
		{name: "unknown-device", files: map[string]string{f: strings.Replace(bgpCustomer("acme-bgp", "198.51.100.2", "64500", "AS-ACME"), "device: pe1-tyo", "device: pe1-tya", 1)},
			want: []want{{f, "spec.device", `no device "pe1-tya"`, `did you mean "pe1-tyo"?`}}},
		{name: "neighbor-off-link", files: map[string]string{f: bgpCustomer("acme-bgp", "203.0.113.9", "64500", "AS-ACME")},
			want: []want{{f, "spec.neighbor", `neighbour address 203.0.113.9 is not inside any attachment circuit of customer "acme" on device "pe1-tyo" (vrf acme)`, "a neighbour is the customer's own router"}}},
		{name: "neighbor-is-pe", files: map[string]string{f: bgpCustomer("acme-bgp", "198.51.100.1", "64500", "AS-ACME")},
			want: []want{{"services/acme/tokyo-hq.yaml", "spec.ipv4", `the PE's address 198.51.100.1/30 is also the neighbour address of service "acme-bgp"`, "point it at 198.51.100.2"}}},
		{name: "same-neighbor-twice", files: map[string]string{
			f:                         bgpCustomer("acme-bgp", "198.51.100.2", "64500", "AS-ACME"),
			"services/acme/bgp2.yaml": bgpCustomer("acme-bgp2", "198.51.100.2", "64501", "AS-ACME2"),
		}, want: []want{{"services/acme/bgp2.yaml", "spec.neighbor", `neighbour 198.51.100.2 on device "pe1-tyo" (vrf acme) is already the session of service "acme-bgp"`, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := Load(validPlus(t, withIRR(tt.files)), Options{})
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
					if d.Pos.File == w.file && d.Field == w.field && strings.Contains(d.Summary, w.text) && d.Pos.Line > 0 && strings.Contains(d.Detail, w.detail) {
						found = true
					}
				}
				if !found {
					t.Errorf("want %s: %s: %q (%q); got:\n%s", w.file, w.field, w.text, w.detail, diagText(diags))
				}
			}
		})
	}
}

func TestPrefixLists(t *testing.T) {
	const svc = "services/acme/bgp.yaml"
	good := "# Generated by `netrecon irr sync` from JPIRR, RADB. Do not edit.\nobject: AS-ACME\nsources: [JPIRR, RADB]\nipv4: [192.0.2.0/24, 198.51.100.0/24]\nipv6: [\"2001:db8::/32\"]\n"
	t.Run("read", func(t *testing.T) {
		in, diags := Load(validPlus(t, withIRR(map[string]string{svc: bgpCustomer("acme-bgp", "198.51.100.2", "64500", "as-acme"), "generated/irr/as-acme.yaml": good})), Options{})
		if len(diags) > 0 {
			t.Fatalf("want no diagnostic; got:\n%s", diagText(diags))
		}
		pl := in.PrefixList("as-acme")
		if pl == nil || pl.Object != "AS-ACME" || strings.Join(pl.IPv4, " ") != "192.0.2.0/24 198.51.100.0/24" || strings.Join(pl.IPv6, " ") != "2001:db8::/32" || strings.Join(pl.Sources, " ") != "JPIRR RADB" {
			t.Fatalf("prefix list = %+v", pl)
		}
	})
	t.Run("missing-warns", func(t *testing.T) {
		_, diags := Load(validPlus(t, withIRR(map[string]string{svc: bgpCustomer("acme-bgp", "198.51.100.2", "64500", "AS-ACME")})), Options{})
		if diags.HasErrors() || len(diags) != 1 || diags[0].Severity != Warning || diags[0].Pos.File != svc || diags[0].Field != "spec.import" ||
			!strings.Contains(diags[0].Summary, "no prefix list for AS-ACME yet (generated/irr/as-acme.yaml): the session will accept no route") {
			t.Fatalf("want one warning at spec.import; got:\n%s", diagText(diags))
		}
	})
	for _, tc := range []struct{ name, file, data, field, text string }{
		{"wrong-name", "generated/irr/as-other.yaml", good, "object", "object AS-ACME does not match the file name as-other.yaml"},
		{"host-bits", "generated/irr/as-acme.yaml", strings.Replace(good, "192.0.2.0/24", "192.0.2.1/24", 1), "ipv4[0]", "prefix 192.0.2.1/24 has host bits set"},
		{"v6-in-v4", "generated/irr/as-acme.yaml", strings.Replace(good, "198.51.100.0/24", `"2001:db8::/48"`, 1), "ipv4[1]", "2001:db8::/48 is not an IPv4 prefix"},
		{"garbage", "generated/irr/as-acme.yaml", strings.Replace(good, "192.0.2.0/24", "permit-any", 1), "ipv4[0]", `invalid prefix "permit-any"`},
		{"unknown-field", "generated/irr/as-acme.yaml", good + "aggregate: true\n", "aggregate", `unknown field "aggregate"`},
		{"malformed", "generated/irr/as-acme.yaml", "object: [\n", "", "malformed YAML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := Load(validPlus(t, map[string]string{tc.file: tc.data}), Options{})
			checkDiags(t, diags)
			for _, d := range diags {
				if d.Severity == Error && d.Pos.File == tc.file && d.Field == tc.field && strings.Contains(d.Summary, tc.text) && d.Pos.Line > 0 {
					return
				}
			}
			t.Fatalf("want %s: %s: %q; got:\n%s", tc.file, tc.field, tc.text, diagText(diags))
		})
	}
}
