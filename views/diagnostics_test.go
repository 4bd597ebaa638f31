package views

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/schema"
)

func sampleDiagnostics() schema.Diagnostics {
	return schema.Diagnostics{
		{Severity: schema.Error, Pos: schema.Pos{File: "services/acme/a.yaml", Line: 9, Col: 9}, Field: "spec.vlan", Summary: "invalid value 5000 (out of bound <=4094)"},
		{Severity: schema.Error, Pos: schema.Pos{File: "services/a,b:c.yaml", Line: 1, Col: 1}, Summary: "100% wrong\n::error::injected", Detail: "fix it"},
		{Severity: schema.Warning, Pos: schema.Pos{File: "inventory/pe.yaml"}, Summary: "no devices"},
	}
}

func TestDiagnosticsGolden(t *testing.T) {
	for _, f := range DiagnosticFormats {
		t.Run(f, func(t *testing.T) {
			var b bytes.Buffer
			if err := Diagnostics(&b, f, sampleDiagnostics()); err != nil {
				t.Fatal(err)
			}
			golden(t, "diagnostics/sample."+f, b.Bytes())
		})
	}
}

// A message must not be able to end its workflow command and start another.
func TestGitHubAnnotationsCannotBeInjected(t *testing.T) {
	var b bytes.Buffer
	if err := Diagnostics(&b, "github", sampleDiagnostics()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("want 3 annotations and a count, got %d lines:\n%s", len(lines), b.String())
	}
	if !strings.HasPrefix(lines[1], "::error file=services/a%2Cb%3Ac.yaml,line=1,col=1,") || !strings.Contains(lines[1], "100%25 wrong%0A::error::injected") {
		t.Errorf("escaping wrong: %s", lines[1])
	}
}

func TestDiagnosticsJSON(t *testing.T) {
	var b bytes.Buffer
	if err := Diagnostics(&b, "json", nil); err != nil {
		t.Fatal(err)
	}
	var doc jsonValidation
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if !doc.Valid || doc.Diagnostics == nil || doc.FormatVersion != FormatVersion {
		t.Errorf("empty result: %+v (diagnostics must be [] not null)", doc)
	}
}
