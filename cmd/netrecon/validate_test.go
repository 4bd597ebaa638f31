package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestValidateRenders: the cases seen where validate said "valid" and the
// first error came from render, the plan or the router. Each runs against a
// copy of intent-example, through the real sandbox for its user-defined
// types, and must fail validate at the template's file:line and, where a
// service is at fault, the service's.
func TestValidateRenders(t *testing.T) {
	for _, c := range []struct {
		name  string
		setUp func(t *testing.T, dir string)
		code  int
		want  []string
	}{
		{
			name: "mismatched end tag in a template",
			setUp: func(t *testing.T, dir string) {
				edit(t, dir, "service-types/internet-access/ietf.xml.tmpl", "<description>{{ . }}</description>", "<description>{{ . }}</descripton>")
			},
			code: 1,
			want: []string{
				"service-types/internet-access/ietf.xml.tmpl:21: error: rendering service",
				"(services/hooli/hooli-tokyo.yaml:1:1)", "(services/initech/initech-osaka.yaml:1:1)",
				"end tag </descripton> does not match <description>",
				"1 error,",
			},
		},
		{
			name: "a control character in a description",
			setUp: func(t *testing.T, dir string) {
				edit(t, dir, "services/acme/acme-tokyo-hq.yaml", "description: ACME Corp — Tokyo HQ, circuit SO-2026-0142", `description: "ACME Corp\u0001 Tokyo HQ"`)
			},
			code: 1,
			want: []string{
				"services/acme/acme-tokyo-hq.yaml:13:3: error: spec.description: character U+0001 cannot be written in XML",
				"builtin/attachment-circuit/ietf.xml.tmpl:25:20 writes it to device \"pe1-tyo\"",
			},
		},
		{
			name: "a typo of a spec field in a user template",
			setUp: func(t *testing.T, dir string) {
				if err := os.CopyFS(dir, os.DirFS("testdata/validate/peer-as-typo")); err != nil {
					t.Fatal(err)
				}
			},
			code: 1,
			want: []string{
				`service-types/bgp-peering/junos.xml.tmpl:14:29: error: .Spec.peerAS: the schema of service type "bgp-peering" has no field "peerAS" in spec`,
				`did you mean "peerAs"?`,
				"1 error, 0 warnings",
			},
		},
		{
			name: "a schema field no template reads",
			setUp: func(t *testing.T, dir string) {
				edit(t, dir, "service-types/internet-access/schema.cue", "\t// The PE's address on the access link.",
					"\t// The order's circuit ID, for the NOC.\n\tcircuitId?: string\n\n\t// The PE's address on the access link.")
			},
			code: 0,
			want: []string{
				`service-types/internet-access/schema.cue:30:2: warning: spec.circuitId of service type "internet-access" is read by no template`,
				"service-types/internet-access/ietf.xml.tmpl and service-types/internet-access/junos.xml.tmpl",
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := copyExample(t)
			c.setUp(t, dir)
			code, out, errs := netrecon(t, "validate", dir)
			if code != c.code {
				t.Errorf("exit %d, want %d", code, c.code)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s%s", out, errs)
			}

			// The same in JSON, for CI: a diagnostic with the file and line.
			code, out, _ = netrecon(t, "validate", dir, "-o", "json")
			var res struct {
				Valid       bool `json:"valid"`
				Diagnostics []struct {
					File string `json:"file"`
					Line int    `json:"line"`
				} `json:"diagnostics"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("json: %v\n%s", err, out)
			}
			if code != c.code || res.Valid != (c.code == 0) || len(res.Diagnostics) == 0 || res.Diagnostics[0].Line == 0 {
				t.Errorf("json: exit %d, %+v", code, res)
			}
		})
	}
}
