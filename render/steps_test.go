package render

import (
	"context"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/netrecon/netrecon/schema"
)

// exampleWith is intent-example with type.yaml of internet-access replaced.
func exampleWith(t testing.TB, typeYAML string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	root := os.DirFS("../intent-example")
	err := fsWalk(root, func(p string, b []byte) { m[p] = &fstest.MapFile{Data: b} })
	if err != nil {
		t.Fatal(err)
	}
	if typeYAML != "" {
		// typeYAML takes the place of the type's manual_steps, first in the
		// file so that its lines keep their numbers; the rest of type.yaml
		// (its addresses, which other services' checks lean on) stays.
		const file = "service-types/internet-access/type.yaml"
		var rest []string
		inSteps := false
		for _, line := range strings.SplitAfter(string(m[file].Data), "\n") {
			if top := line != "" && line[0] != ' ' && line[0] != '\n'; top {
				inSteps = strings.HasPrefix(line, "manual_steps:")
			}
			if !inSteps {
				rest = append(rest, line)
			}
		}
		m[file] = &fstest.MapFile{Data: []byte(typeYAML + strings.Join(rest, ""))}
	}
	return m
}

// The JPNIC step of intent-example renders, per internet-access service,
// the values a person types, unescaped (they are copied, not parsed).
func TestStepsRenderTheExampleJPNICRegistration(t *testing.T) {
	b, diags, err := BuildFS(context.Background(), exampleWith(t, ""), BuildOptions{})
	if err != nil || diags.HasErrors() {
		t.Fatalf("%v %v", err, diags.Err())
	}
	got := map[string]map[string]string{}
	for _, st := range b.Steps {
		if st.ID != "jpnic-registration" || st.Title == "" || !strings.Contains(st.Instructions, "JPNIC") {
			t.Errorf("step %+v", st)
		}
		vals := map[string]string{}
		for _, v := range st.Data {
			vals[v.Name] = v.Value
		}
		got[st.Service] = vals
	}
	if len(got) != 4 {
		t.Fatalf("steps for %d services, want the 4 internet-access ones: %v", len(got), got)
	}
	h := got["hooli-tokyo"]
	want := map[string]string{"network_name": "HOOLI-TOKYO", "address_block": "198.51.100.0/26", "customer": "hooli",
		"order": "SO-2026-0610", "description": "Hooli — Tokyo sales office, Internet access, circuit SO-2026-0610"}
	for k, v := range want {
		if h[k] != v {
			t.Errorf("hooli-tokyo %s = %q, want %q", k, h[k], v)
		}
	}
}

func TestStepErrorsHavePositions(t *testing.T) {
	base := "manual_steps:\n  - id: reg\n    title: Register\n    data:\n"
	tests := []struct{ name, yaml, want string }{
		{"syntax", base + "      block: '{{ .Spec.prefixes '\n", "service-types/internet-access/type.yaml:5:7"},
		{"missing-field", base + "      block: '{{ .Spec.nope }}'\n", "services/"},
		{"duplicate", base + "      a: x\n  - id: reg\n    title: Again\n", "service-types/internet-access/type.yaml:6:5"},
		{"no-title", "manual_steps:\n  - id: reg\n", "service-types/internet-access/type.yaml:2:5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags, _ := BuildFS(context.Background(), exampleWith(t, tt.yaml), BuildOptions{})
			if !diags.HasErrors() {
				t.Fatal("want an error")
			}
			for _, d := range diags {
				if strings.HasPrefix(d.Pos.String(), tt.want) {
					return
				}
			}
			t.Errorf("no error at %s:\n%v", tt.want, diags.Err())
		})
	}
}

func fsWalk(root fs.FS, fn func(string, []byte)) error {
	return fs.WalkDir(root, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, p)
		fn(p, b)
		return err
	})
}

// FuzzStepTemplate: any data template of a manual step either renders
// within the step budget or is an error with a position, never a panic.
func FuzzStepTemplate(f *testing.F) {
	for _, s := range []string{"{{ upper .Service.Name }}", "{{ join \", \" .Spec.prefixes }}", "{{ range 100000 }}x{{ end }}", "{{ .Spec.", "{{ printf \"%s%s\" .Service.Name .Service.Name }}"} {
		f.Add(s)
	}
	in := exampleWith(f, "")
	b, _, err := BuildFS(context.Background(), in, BuildOptions{})
	if err != nil || b == nil {
		f.Fatal(err)
	}
	kind := b.Intent.Types["internet-access"]
	f.Fuzz(func(t *testing.T, tmpl string) {
		typ := *kind
		typ.ManualSteps = []schema.ManualStep{{ID: "s", Title: "S", Data: []schema.StepField{{Name: "v", Template: tmpl}}}}
		in := *b.Intent
		in.Types = map[string]*schema.ServiceType{"internet-access": &typ}
		steps, diags := Steps(&in)
		for _, st := range steps {
			for _, v := range st.Data {
				if int64(len(v.Value)) > stepBudget.Output {
					t.Fatalf("value of %d bytes passed the budget", len(v.Value))
				}
			}
		}
		for _, d := range diags {
			if d.Pos.File == "" && d.Summary == "" {
				t.Fatalf("an error without place or words: %+v", d)
			}
		}
	})
}
