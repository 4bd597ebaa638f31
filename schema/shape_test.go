package schema

import (
	"fmt"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"github.com/google/go-cmp/cmp"
)

// outline writes a shape as one line per field, "name: kind" with "?" for a
// field a spec may leave out, nested by indentation: a comparison that
// ignores positions.
func outline(s *Shape) string {
	var b strings.Builder
	var walk func(s *Shape, indent string)
	walk = func(s *Shape, indent string) {
		switch s.Kind {
		case ShapeStruct:
			for _, f := range s.Fields {
				opt := ""
				if !f.Required {
					opt = "?"
				}
				fmt.Fprintf(&b, "%s%s%s: %s\n", indent, f.Name, opt, f.Shape.Kind)
				walk(f.Shape, indent+"  ")
			}
			if s.Rest != nil {
				fmt.Fprintf(&b, "%s[string]: %s\n", indent, s.Rest.Kind)
			}
		case ShapeList:
			fmt.Fprintf(&b, "%s[]: %s\n", indent, s.Elem.Kind)
			walk(s.Elem, indent+"  ")
		}
	}
	walk(s, "")
	return b.String()
}

// TestBuiltinShapes: the built-in kinds' fields as a template sees them,
// including those CUE alone reports as errors before a spec is unified with
// them (a list with list.MinItems, a field a comprehension makes required).
// A validator such as net.IP admits more than one form, so it is unknown.
func TestBuiltinShapes(t *testing.T) {
	for kind, want := range map[string]string{
		KindAttachmentCircuit: `description?: scalar
device: scalar
enabled: scalar
interface: scalar
ipv4: scalar
ipv6?: scalar
vlan: scalar
vrf?: scalar
`,
		KindStaticRouting: `device: scalar
routes: list
  []: struct
    description?: scalar
    nextHop: unknown
    prefix: unknown
vrf?: scalar
`,
	} {
		s, ok := BuiltinShape(kind)
		if !ok {
			t.Fatalf("%s: no shape", kind)
		}
		if diff := cmp.Diff(want, outline(s)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", kind, diff)
		}
		if f := s.Field("device"); f == nil || !strings.HasPrefix(f.Pos.File, "builtin/") || f.Pos.Line == 0 {
			t.Errorf("%s: device field at %v, want a line of the built-in schema", kind, f)
		}
	}
	if _, ok := BuiltinShape("nope"); ok {
		t.Error("a kind that is not built in has a shape")
	}
}

// TestShapeOf covers the forms a user schema may give a field.
func TestShapeOf(t *testing.T) {
	src := `
import "list"
#Spec: {
	device!: string
	tree?: #Node
	labels?: [string]: string
	open?: {x: int, ...}
	anything?: _
	either?: int | {a: int}
	bgp?: {peerAs!: int, password?: string} | error("bgp needs peerAs")
	vlans: [...int] & list.MinItems(1)
}
#Node: {name!: string, child?: #Node}
`
	v := cuecontext.New().CompileString(src, cue.Filename("service-types/x/schema.cue"))
	if v.Err() != nil {
		t.Fatal(v.Err())
	}
	s := shapeOf(v.LookupPath(cue.MakePath(cue.Def("Spec"))))
	got := outline(s)
	for _, want := range []string{
		"anything?: unknown\n",
		"bgp?: struct\n  password?: scalar\n  peerAs: scalar\n",
		"device: scalar\n",
		"either?: unknown\n",
		"labels?: struct\n  [string]: scalar\n",
		"open?: struct\n  x: scalar\n  [string]: unknown\n",
		"tree?: struct\n  child?: ",
		"vlans: list\n  []: scalar\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("shape lacks %q:\n%s", want, got)
		}
	}
	if f := s.Field("labels"); f == nil || f.Pos != (Pos{File: "service-types/x/schema.cue", Line: 6, Col: 2}) {
		t.Errorf("labels declared at %v, want service-types/x/schema.cue:6:2", f)
	}
	// The recursive #Node ends, as unknown, within the depth limit.
	depth, n := 0, s.Field("tree").Shape
	for n.Kind == ShapeStruct && n.Field("child") != nil {
		depth, n = depth+1, n.Field("child").Shape
	}
	if depth > maxShapeDepth {
		t.Errorf("recursive field described %d levels deep, limit %d", depth, maxShapeDepth)
	}
}

// TestUserShapeThroughSandbox: a user-defined type's shape comes from its
// evaluation, in-process or in the sandbox alike (TestSandboxGivesTheSameIntent
// compares the whole intent; this names what a template relies on).
func TestUserShapeThroughSandbox(t *testing.T) {
	fsys := validPlus(t, nil)
	in, diags := Load(fsys, Options{Evaluator: testSandbox(Budget{})})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	tr := in.Types["transit"]
	if tr == nil || tr.Shape == nil {
		t.Fatalf("transit has no shape: %+v", tr)
	}
	want := "devices: list\n  []: scalar\nmaxPrefixes: scalar\nneighbor: unknown\npeerAS: scalar\n"
	if diff := cmp.Diff(want, outline(tr.Shape)); diff != "" {
		t.Errorf("transit (-want +got):\n%s", diff)
	}
	if f := tr.Shape.Field("peerAS"); f == nil || f.Pos.File != "service-types/transit/schema.cue" || f.Pos.Line != 9 {
		t.Errorf("peerAS declared at %v, want service-types/transit/schema.cue:9", f)
	}
	for _, k := range []string{KindAttachmentCircuit, KindStaticRouting} {
		if in.Types[k].Shape == nil {
			t.Errorf("built-in %s has no shape after Load", k)
		}
	}
}
