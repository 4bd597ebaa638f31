package render

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/diag"
	"github.com/netrecon/netrecon/schema"
)

// Shapes for hand-made types: what schema.Load reads from a schema.cue.
func scalarShape() *schema.Shape { return &schema.Shape{Kind: schema.ShapeScalar} }

func structShape(fields ...schema.Field) *schema.Shape {
	return &schema.Shape{Kind: schema.ShapeStruct, Fields: fields}
}

func field(name string, line int, s *schema.Shape) schema.Field {
	return schema.Field{Name: name, Required: true, Pos: schema.Pos{File: "service-types/custom/schema.cue", Line: line, Col: 2}, Shape: s}
}

// peeringShape is a BGP peering type's #Spec, fields sorted by name as
// schema.Shape keeps them.
func peeringShape() *schema.Shape {
	route := structShape(field("description", 12, scalarShape()), field("nextHop", 11, scalarShape()), field("prefix", 10, scalarShape()))
	route.Fields[0].Required = false
	s := structShape(
		field("bgp", 5, structShape(field("password", 7, scalarShape()), field("peerAs", 6, scalarShape()))),
		field("description", 4, scalarShape()),
		field("device", 2, scalarShape()),
		field("labels", 8, &schema.Shape{Kind: schema.ShapeStruct, Rest: scalarShape()}),
		field("neighbor", 3, scalarShape()),
		field("routes", 9, &schema.Shape{Kind: schema.ShapeList, Elem: route}),
		field("tags", 13, &schema.Shape{Kind: schema.ShapeList, Elem: scalarShape()}),
	)
	s.Fields[1].Required = false
	s.Fields[0].Required = false
	return s
}

// peeringType is userType with peeringShape as the type's schema.
func peeringType(src string, spec map[string]any) (*schema.Intent, *schema.Device) {
	in, dev := userType(src, spec)
	in.Types["custom"].Shape = peeringShape()
	return in, dev
}

// TestStaticCheck: each field a template reads is looked up in its type's
// schema before anything runs, through with, range, variables, index and
// {{template}} calls; a field the schema lacks is an error at its
// line:column with the closest name.
func TestStaticCheck(t *testing.T) {
	const file = "service-types/custom/ietf.xml.tmpl"
	for _, c := range []struct {
		name string
		src  string
		pos  diag.Pos // of the one error; zero: no error
		want []string
	}{
		{"the seen typo", "<neighbor>\n  <name>{{ .Spec.neighbor }}</name>\n  <peer-as>{{ .Spec.bgp.peerAS }}</peer-as>\n</neighbor>\n",
			diag.Pos{File: file, Line: 3, Col: 25}, []string{`"peerAS"`, `spec.bgp`, `did you mean "peerAs"?`, `"custom"`}},
		{"top level", "<a>{{ .Spec.neigbor }}</a>", diag.Pos{File: file, Line: 1, Col: 13}, []string{`did you mean "neighbor"?`}},
		{"in a range", "<a>{{ range .Spec.routes }}<r>{{ .prefx }}</r>{{ end }}</a>", diag.Pos{File: file, Line: 1, Col: 35}, []string{"spec.routes[]", `did you mean "prefix"?`}},
		{"range variable", "<a>{{ range $i, $r := .Spec.routes }}<r>{{ $r.nexthop }}</r>{{ end }}</a>", diag.Pos{File: file, Line: 1, Col: 47}, []string{`did you mean "nextHop"?`}},
		{"with", "<a>{{ with .Spec.bgp }}{{ .peer }}{{ end }}</a>", diag.Pos{File: file, Line: 1, Col: 28}, []string{`"peer"`}},
		{"through a variable and $", "{{ $b := .Spec.bgp }}<a>{{ range .Spec.routes }}{{ $b.pasword }}{{ $.Spec.neighbor }}{{ end }}</a>", diag.Pos{File: file, Line: 1, Col: 55}, []string{`did you mean "password"?`}},
		{"a defined template", "{{ define \"peer\" }}<p>{{ .peerAz }}</p>{{ end }}<a>{{ template \"peer\" .Spec.bgp }}</a>", diag.Pos{File: file, Line: 1, Col: 27}, []string{`did you mean "peerAs"?`}},
		{"index with a constant", "<a>{{ index .Spec \"neighbour\" }}</a>", diag.Pos{File: file, Line: 1, Col: 19}, []string{`did you mean "neighbor"?`}},
		{"a field of a list", "<a>{{ .Spec.routes.prefix }}</a>", diag.Pos{File: file, Line: 1, Col: 20}, []string{"is a list", "range over"}},
		{"a field of a value", "<a>{{ .Spec.neighbor.ip }}</a>", diag.Pos{File: file, Line: 1, Col: 22}, []string{"single value"}},
		{"the data", "<a>{{ .Service.Nmae }}</a>", diag.Pos{File: file, Line: 1, Col: 16}, []string{`did you mean "Name"?`}},
		{"the data's top", "<a>{{ .Devce.Name }}</a>", diag.Pos{File: file, Line: 1, Col: 8}, []string{`did you mean "Device"?`}},
		{"no such template", "<a>{{ template \"nope\" . }}</a>", diag.Pos{File: file, Line: 1, Col: 16}, []string{`"nope"`}},
		{"required passes its value on", "<a>{{ range required \"spec.routes\" .Spec.routes }}{{ .nexthop }}{{ end }}</a>", diag.Pos{File: file, Line: 1, Col: 55}, []string{`"nextHop"`}},

		{"optional fields, labels, functions", "<a>{{ with .Spec.description }}<d>{{ . }}</d>{{ end }}<l>{{ .Spec.labels.anything }}</l>" +
			"<v>{{ default \"x\" .Spec.description }}</v><t>{{ .Spec.tags | join \",\" }}</t>{{ if .Spec.bgp }}{{ .Spec.bgp.peerAs }}{{ end }}</a>", diag.Pos{}, nil},
		{"a key known only at run time", "{{ $k := \"neighbor\" }}<a>{{ index .Spec $k }}</a>", diag.Pos{}, nil},
		{"a value the check cannot follow", "<a>{{ with default .Spec.bgp .Spec.bgp }}{{ .anything }}{{ end }}</a>", diag.Pos{}, nil},
		{"recursion", "{{ define \"r\" }}{{ range . }}{{ template \"r\" . }}{{ end }}{{ end }}<a>{{ template \"r\" .Spec.tags }}</a>", diag.Pos{}, nil},
		{"recursion with the schema's help", "{{ define \"r\" }}{{ if . }}{{ template \"r\" .bgp }}{{ end }}{{ end }}<a>{{ template \"r\" .Spec }}</a>",
			diag.Pos{File: file, Line: 1, Col: 44}, []string{`no field "bgp" in spec.bgp`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			in, _ := peeringType(c.src, nil)
			_, diags := New(in)
			var errs diag.Diagnostics
			for _, d := range diags {
				if d.Severity == diag.Error {
					errs = append(errs, d)
				}
			}
			if c.pos == (diag.Pos{}) {
				if len(errs) > 0 {
					t.Fatalf("want no error, got %v", errs)
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("want 1 error at %v, got %v", c.pos, diags)
			}
			d := errs[0]
			t.Log(d)
			if d.Pos != c.pos {
				t.Errorf("at %v, want %v", d.Pos, c.pos)
			}
			for _, w := range c.want {
				if !strings.Contains(d.String(), w) {
					t.Errorf("%q lacks %q", d, w)
				}
			}
		})
	}
}

// TestStrictTemplates: a template runs with missing keys as errors, so a
// field the check cannot see (a type without a known schema here) fails
// the service with the template's line instead of rendering nothing; an
// optional field a spec leaves out is not missing.
func TestStrictTemplates(t *testing.T) {
	src := "<a>\n  <b>{{ .Spec.peerAS }}</b>\n</a>\n"
	in, dev := userType(src, map[string]any{"peerAs": int64(64500)})
	r := mustNew(t, in)
	_, err := r.Fragment(in.Services[0], dev)
	var te *TemplateError
	if !errors.As(err, &te) || te.Line != 2 || !strings.Contains(te.Error(), "peerAS") {
		t.Fatalf("error = %v, want a TemplateError at line 2 naming peerAS", err)
	}

	// Optional fields absent at every level: the spec, a struct in it, the
	// elements of a list.
	src = "<a>{{ with .Spec.description }}<d>{{ . }}</d>{{ end }}{{ with .Spec.bgp }}{{ with .password }}<p>{{ . }}</p>{{ end }}{{ end }}" +
		"{{ range .Spec.routes }}<r><p>{{ .prefix }}</p>{{ with .description }}<d>{{ . }}</d>{{ end }}</r>{{ end }}</a>"
	spec := map[string]any{"device": "pe1", "neighbor": "192.0.2.2", "bgp": map[string]any{"peerAs": int64(64500)},
		"routes": []any{map[string]any{"prefix": "10.0.0.0/8", "nextHop": "192.0.2.2"}}}
	in, dev = peeringType(src, spec)
	in.Types["custom"].Shape.Fields[0].Shape.Fields[0].Required = false // bgp.password
	r = mustNew(t, in)
	frag, err := r.Fragment(in.Services[0], dev)
	if err != nil {
		t.Fatalf("optional fields left out: %v", err)
	}
	if got := strings.Join(flatten(frag), " "); got != "/a /a/r /a/r/p=10.0.0.0/8" {
		t.Errorf("rendered %s", got)
	}
	if _, ok := spec["description"]; ok {
		t.Error("the service's own spec was changed")
	}
	if _, ok := spec["routes"].([]any)[0].(map[string]any)["description"]; ok {
		t.Error("the service's own route was changed")
	}
}

// TestBuiltinTemplatesPassTheCheck: netrecon's own templates read only
// fields of their schemas.
func TestBuiltinTemplatesPassTheCheck(t *testing.T) {
	r, diags := New(intent(nil))
	if len(diags) > 0 {
		t.Fatalf("built-in templates: %v", diags)
	}
	for _, k := range []tmplKey{{schema.KindAttachmentCircuit, "ietf"}, {schema.KindStaticRouting, "junos"}} {
		if len(r.reads[k]) == 0 {
			t.Errorf("%v: the check recorded no read", k)
		}
	}
}

// TestUnreadFields: a field of a user-defined type that no template reads
// is a warning at its declaration in schema.cue; device is netrecon's, a
// value used as a whole reads everything in it, and a field read by one
// platform's template only is read.
func TestUnreadFields(t *testing.T) {
	in, _ := peeringType("<a>{{ .Spec.neighbor }}{{ range .Spec.routes }}<r>{{ .prefix }}{{ .nextHop }}</r>{{ end }}{{ .Spec.tags | join \",\" }}</a>", nil)
	in.Types["custom"].Template["junos"] = schema.Template{Name: "service-types/custom/junos.xml.tmpl",
		Source: "<configuration>{{ with .Spec.bgp }}<p>{{ .peerAs }}</p>{{ end }}</configuration>"}
	_, diags := New(in)
	var got []string
	for _, d := range diags {
		if d.Severity != diag.Warning {
			t.Errorf("unexpected %v", d)
			continue
		}
		got = append(got, d.Pos.String()+" "+d.Summary)
		if !strings.Contains(d.Detail, "ietf.xml.tmpl and service-types/custom/junos.xml.tmpl") {
			t.Errorf("%v: detail names not both templates", d)
		}
	}
	want := []string{
		`service-types/custom/schema.cue:4:2 spec.description of service type "custom" is read by no template`,
		`service-types/custom/schema.cue:7:2 spec.bgp.password of service type "custom" is read by no template`,
		`service-types/custom/schema.cue:8:2 spec.labels of service type "custom" is read by no template`,
		`service-types/custom/schema.cue:12:2 spec.routes[].description of service type "custom" is read by no template`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A template that does not parse reads nothing the check could see:
	// no warning rather than false ones.
	in.Types["custom"].Template["junos"] = schema.Template{Name: "service-types/custom/junos.xml.tmpl", Source: "{{ with }"}
	_, diags = New(in)
	for _, d := range diags {
		if d.Severity == diag.Warning {
			t.Errorf("warning with a broken template: %v", d)
		}
	}
}

// TestOneDiagnosticPerTemplateError: the same error of one template line in
// many services is one diagnostic naming them; the services of a template
// New refused are not reported again by Build.Render.
func TestOneDiagnosticPerTemplateError(t *testing.T) {
	src := "<a>\n  <b>{{ .Spec.x }}</c>\n</a>\n"
	in, _ := userType(src, map[string]any{"x": "1"})
	for _, n := range []string{"svc2", "svc3", "svc4", "svc5"} {
		s := *in.Services[0]
		s.Name, s.Pos.File = n, "services/"+n+".yaml"
		in.Services = append(in.Services, &s)
	}
	r := mustNew(t, in)
	_, diags := r.Devices(context.Background(), nil)
	if len(diags) != 1 {
		t.Fatalf("diagnostics = %v, want 1", diags)
	}
	d := diags[0].String()
	for _, w := range []string{`service "svc" (services/svc.yaml:1:1)`, `"svc2" (services/svc2.yaml:1:1)`, `"svc4"`, "and 1 more", ":2:"} {
		if !strings.Contains(d, w) {
			t.Errorf("%q lacks %q", d, w)
		}
	}

	in.Types["custom"].Template["ietf"] = schema.Template{Name: "service-types/custom/ietf.xml.tmpl", Source: "<a>{{ .Spec.x }</a>"}
	r, newDiags := New(in)
	_, diags = r.Devices(context.Background(), nil)
	if len(newDiags) != 1 || len(diags) != 1 || !strings.Contains(diags[0].Summary, "is not rendered") {
		t.Fatalf("New: %v; Devices: %v; want one each", newDiags, diags)
	}
	b := &Build{Intent: in}
	if diags := b.Render(context.Background(), nil, Budget{}); len(diags) != 1 || b.Desired != nil {
		t.Errorf("Build.Render: %v, desired %v; want New's one error and no trees", diags, b.Desired)
	}
}

// TestValueErrorNamesTheTemplate: a value XML cannot carry is reported at
// the service's field, with the template line that would write it.
func TestValueErrorNamesTheTemplate(t *testing.T) {
	for _, platform := range []string{schema.PlatformIETF, schema.PlatformJunos} {
		dev := device("pe1", platform)
		svc := circuit("ac1", "pe1", map[string]any{"interface": "ge-0/0/1", "vlan": int64(100), "ipv4": "192.0.2.1/30", "description": "ACME\x01"})
		svc.Fields = map[string]schema.Pos{"spec.description": {File: svc.Pos.File, Line: 9, Col: 16}}
		r := mustNew(t, intent([]*schema.Device{dev}, svc))
		_, diags := r.Device("pe1")
		if len(diags) != 1 {
			t.Fatalf("%s: diagnostics = %v", platform, diags)
		}
		src, _ := builtinFS.ReadFile("templates/attachment-circuit/" + platform + ".xml.tmpl")
		line := 0
		for i, l := range strings.Split(string(src), "\n") {
			if strings.Contains(l, ".Spec.description") {
				line = i + 1
			}
		}
		want := "builtin/attachment-circuit/" + platform + ".xml.tmpl:" + strconv.Itoa(line)
		if d := diags[0]; d.Pos.Line != 9 || !strings.Contains(d.Detail, want) || !strings.Contains(d.Summary, "U+0001") {
			t.Errorf("%s: %v, want at line 9 naming %s", platform, d, want)
		}
	}
}
