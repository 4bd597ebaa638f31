package render

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/schema"
)

// FuzzDescription checks escaping by construction for any text: a
// description is either refused as a ValueError (XML cannot carry it) or
// comes back as exactly one description leaf holding that text, as XML
// reads it (line ends normalised, surrounding blanks trimmed by Parse), with
// no other node added.
func FuzzDescription(f *testing.F) {
	for _, s := range []string{"plain", "xml:lang", "</description><delete/>", "]]>]]>", "<![CDATA[x]]>", "&amp;", "&#0;", "\x00", "a\r\nb", " padded ", "{{ . }}", "\xff"} {
		f.Add(s)
	}
	devs := []*schema.Device{device("pe1", schema.PlatformIETF), device("pe2", schema.PlatformJunos)}
	base := func(desc string) *schema.Service {
		return circuit("ac1", "pe1", map[string]any{"interface": "ge-0/0/1", "vlan": int64(7), "ipv4": "192.0.2.1/30", "description": desc})
	}
	r := mustNew(f, intent(devs, base("x")))
	want := map[string]int{}
	for _, d := range devs {
		tree, err := r.Fragment(base("x"), d)
		if err != nil {
			f.Fatal(err)
		}
		want[d.Platform] = len(flatten(tree))
	}
	f.Fuzz(func(t *testing.T, desc string) {
		for _, d := range devs {
			tree, err := r.Fragment(base(desc), d)
			var ve *ValueError
			if errors.As(err, &ve) {
				continue
			}
			if strings.TrimSpace(desc) == "" {
				// An empty description renders <description/>, which is
				// still one leaf; only its value differs.
				if err != nil {
					t.Fatalf("%s: %v", d.Platform, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %q: %v", d.Platform, desc, err)
			}
			leaves := find(tree, descPath[d.Platform])
			norm := strings.Trim(strings.ReplaceAll(strings.ReplaceAll(desc, "\r\n", "\n"), "\r", "\n"), " \t\n")
			if len(leaves) != 1 || leaves[0].Value != norm {
				t.Fatalf("%s: %q rendered as %v", d.Platform, desc, flatten(tree))
			}
			if n := len(flatten(tree)); n != want[d.Platform] {
				t.Fatalf("%s: %q rendered %d nodes, want %d", d.Platform, desc, n, want[d.Platform])
			}
		}
	})
}

// FuzzTemplateCheck feeds any template text to New, which parses it and
// checks it statically against a type's schema, then renders a service with
// it when New accepts it: bad input is a diagnostic, never a panic, and a
// template the check passes still fails only as a TemplateError.
func FuzzTemplateCheck(f *testing.F) {
	for _, s := range []string{
		"<a>{{ .Spec.bgp.peerAS }}</a>",
		"{{ range $i, $r := .Spec.routes }}<r>{{ $r.prefix }}{{ $i }}</r>{{ end }}",
		"{{ define \"x\" }}{{ template \"x\" .bgp }}{{ end }}{{ template \"x\" .Spec }}",
		"{{ with $b := .Spec.bgp }}{{ $b = .Spec }}{{ $b.x }}{{ end }}",
		"{{ index .Spec \"routes\" 0 \"prefix\" }}{{ (.Spec).bgp.peerAs }}{{ .Spec.labels.x.y }}",
		"{{ range .Spec }}{{ . }}{{ else }}{{ .Devce }}{{ end }}{{ block \"b\" . }}{{ .Service.Nmae }}{{ end }}",
		"{{ .Spec.tags | join \",\" | printf \"%s\" }}{{ len .Spec.routes | not }}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		spec := map[string]any{"device": "pe1", "neighbor": "192.0.2.2", "tags": []any{"a"},
			"bgp": map[string]any{"peerAs": int64(64500), "password": "x"}, "labels": map[string]any{"x": "y"},
			"routes": []any{map[string]any{"prefix": "10.0.0.0/8", "nextHop": "192.0.2.2"}}}
		in, dev := peeringType(src, spec)
		r, diags := New(in, WithBudget(Budget{Time: 200 * time.Millisecond, Output: 1 << 16}))
		if r == nil {
			t.Fatalf("no renderer: %v", diags)
		}
		if diags.HasErrors() {
			return
		}
		_, err := r.Fragment(in.Services[0], dev)
		var (
			te *TemplateError
			be *BudgetError
		)
		if err != nil && !errors.As(err, &te) && !errors.As(err, &be) {
			t.Fatalf("%q: %T %v", src, err, err)
		}
	})
}
