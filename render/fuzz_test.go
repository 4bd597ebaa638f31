package render

import (
	"errors"
	"strings"
	"testing"

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
