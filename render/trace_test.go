package render

import (
	"os"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/diag"
)

// TestOrigins: every node of every device of intent-example is traced to
// each service that owns it and to the template line that writes its start
// tag, built-in and user-defined templates alike.
func TestOrigins(t *testing.T) {
	fsys := os.DirFS("../intent-example")
	b, diags, err := BuildFS(t.Context(), fsys, BuildOptions{})
	if err != nil || diags.HasErrors() {
		t.Fatal(err, diags)
	}
	source := func(file string) string {
		if rest, ok := strings.CutPrefix(file, builtinPrefix); ok {
			src, _ := builtinFS.ReadFile("templates/" + rest)
			return string(src)
		}
		src, _ := os.ReadFile("../intent-example/" + file)
		return string(src)
	}
	nodes, shared := 0, 0
	for dev, tree := range b.Desired {
		tree.Walk(func(p configtree.Path, n *configtree.Node) bool {
			nodes++
			origins := b.Origins(dev, p)
			if len(origins) != len(n.Owners) {
				t.Fatalf("%s %s: %d origins for owners %v", dev, p, len(origins), n.Owners)
			}
			if len(origins) > 1 {
				shared++
			}
			for i, o := range origins {
				if o.Service != n.Owners[i] || o.Document != b.Intent.Services[indexOf(b, o.Service)].Pos {
					t.Errorf("%s %s: origin %+v for owner %s", dev, p, o, n.Owners[i])
				}
				lines := strings.Split(source(o.Template.File), "\n")
				if o.Template.Line == 0 || o.Template.Line > len(lines) {
					t.Errorf("%s %s: %s: no line", dev, p, o.Template)
					continue
				}
				line := []rune(lines[o.Template.Line-1])
				if at := string(line[min(o.Template.Col-1, len(line)):]); !strings.HasPrefix(at, "<"+n.Name) {
					t.Errorf("%s %s (%s): %s points at %q", dev, p, o.Service, o.Template, at)
				}
			}
			return true
		})
	}
	if nodes < 100 || shared == 0 {
		t.Errorf("walked %d nodes, %d shared: intent-example changed?", nodes, shared)
	}

	desc := configtree.Path("/interfaces/interface[name=ge-0/0/1.142]/description")
	got := b.Origins("pe1-tyo", desc)
	if len(got) != 1 || got[0].Service != "acme-tokyo-hq" || got[0].Document.File != "services/acme/acme-tokyo-hq.yaml" ||
		got[0].Template.File != "builtin/attachment-circuit/ietf.xml.tmpl" {
		t.Errorf("%s: %+v", desc, got)
	}
	if b.Origins("pe1-tyo", "/nope") != nil || b.Origins("nope", desc) != nil {
		t.Error("a node or device that is not there has origins")
	}
	var zero diag.Pos
	if (&Build{}).Origins("pe1-tyo", desc) != nil || zero != (diag.Pos{}) {
		t.Error("an empty build has origins")
	}
}

func indexOf(b *Build, svc string) int {
	for i, s := range b.Intent.Services {
		if s.Name == svc {
			return i
		}
	}
	return -1
}
