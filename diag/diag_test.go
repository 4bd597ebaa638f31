package diag

import (
	"errors"
	"slices"
	"testing"
)

func TestDiagnostics(t *testing.T) {
	var ds Diagnostics
	if ds.HasErrors() || ds.Err() != nil {
		t.Fatal("an empty list has errors")
	}
	ds = ds.Append(Diagnostic{Severity: Warning, Pos: Pos{File: "b.yaml"}, Summary: "odd"})
	if ds.HasErrors() || ds.Err() != nil {
		t.Fatal("a warning counts as an error")
	}
	ds = ds.Errorf(Pos{File: "a.yaml", Line: 3, Col: 5}, "spec.vlan", "must be int, not string")
	ds = ds.Append(Diagnostic{Severity: Error, Pos: Pos{File: "a.yaml", Line: 1}, Summary: "first", Detail: "fix it"})
	ds.Sort()
	for i, want := range []string{
		"a.yaml:1: first (fix it)",
		"a.yaml:3:5: spec.vlan: must be int, not string",
		"b.yaml: odd",
	} {
		if got := ds[i].String(); got != want {
			t.Errorf("[%d] = %q, want %q", i, got, want)
		}
	}
	err := ds.Err()
	var de *DiagnosticsError
	if !errors.As(err, &de) || len(de.Diagnostics) != 3 {
		t.Fatalf("Err() = %v, want a *DiagnosticsError with all three", err)
	}
	if got, want := err.Error(), "a.yaml:1: first (fix it) (and 1 more errors)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestRelatedInString(t *testing.T) {
	d := Diagnostic{Severity: Error, Pos: Pos{File: "b.yaml", Line: 4, Col: 3}, Field: "spec.ipv4", Summary: "address is already used",
		Related: []Related{{Pos: Pos{File: "a.yaml", Line: 9, Col: 3}, Field: "spec.ipv4", Message: "the other service"}}}
	if got, want := d.String(), "b.yaml:4:3: spec.ipv4: address is already used; see a.yaml:9:3: spec.ipv4: the other service"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestAbout(t *testing.T) {
	ds := Diagnostics{
		{Pos: Pos{File: "services/acme/a.yaml"}, Summary: "a"},
		{Pos: Pos{File: "services/acme-2/b.yaml"}, Summary: "b"},
		{Pos: Pos{File: "services/globex/c.yaml"}, Summary: "c", Related: []Related{{Pos: Pos{File: "services/acme/a.yaml"}}}},
		{Pos: Pos{}, Summary: "whole repo"},
		{Pos: Pos{File: "inventory/x.yaml"}, Summary: "x"},
	}
	names := func(ds Diagnostics) (s []string) {
		for _, d := range ds {
			s = append(s, d.Summary)
		}
		return s
	}
	about, other := ds.About([]string{"services/acme"})
	if got, want := names(about), []string{"a", "c", "whole repo"}; !slices.Equal(got, want) {
		t.Errorf("about services/acme = %q, want %q", got, want)
	}
	if got, want := names(other), []string{"b", "x"}; !slices.Equal(got, want) {
		t.Errorf("others = %q, want %q", got, want)
	}
	if about, _ := ds.About([]string{"inventory/x.yaml", "services/acme-2/"}); !slices.Equal(names(about), []string{"b", "whole repo", "x"}) {
		t.Errorf("about a file and a folder = %q", names(about))
	}
	if about, other := ds.About([]string{"."}); len(about) != len(ds) || len(other) != 0 {
		t.Errorf(`"." does not select everything: %q`, names(about))
	}
}
