package schema

import (
	"strings"
	"testing"
)

func TestYAMLFileCheck(t *testing.T) {
	const src = `#C: {a?: {b?: int, c?: string}, d?: [...{e?: bool}]}`
	f, diags := ParseYAML("c.yaml", []byte("a:\n  b: x\n  z: 1\nd:\n  - {e: true, f: 1}\nempty:\n"))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if _, ok := f.Value("empty"); ok {
		t.Error("a key with no value is kept; want it unset")
	}
	diags, err := f.Check(src, "#C")
	if err != nil {
		t.Fatal(err)
	}
	diags.Sort()
	var got []string
	for _, d := range diags {
		got = append(got, d.String())
	}
	for _, want := range []string{
		`c.yaml:2:3: a.b: must be an integer, not a string`,
		`c.yaml:3:3: a.z: unknown field "z" (b, c)`,
		`c.yaml:5:15: d[0].f: unknown field "f" (e)`,
	} {
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("want %q; got:\n%s", want, strings.Join(got, "\n"))
		}
	}
	if len(got) != 3 {
		t.Errorf("got %d problems, want 3 (a key with no value is unset, not unknown)", len(got))
	}
	if p := f.ValuePos("a.b"); p.Line != 2 || p.Col != 6 {
		t.Errorf("ValuePos(a.b) = %v, want 2:6", p)
	}
}
