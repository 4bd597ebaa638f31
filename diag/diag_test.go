package diag

import (
	"errors"
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
