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
		{Severity: schema.Error, Pos: schema.Pos{File: "services/b.yaml", Line: 14, Col: 3}, Field: "spec.ipv4",
			Summary: `address 100.64.0.1 is already used by service "a" on device "pe1" (vrf ACME)`, Detail: "give each link its own subnet",
			Related: []schema.Related{{Pos: schema.Pos{File: "services/a.yaml", Line: 14, Col: 3}, Field: "spec.ipv4", Message: `service "a" has 100.64.0.1/30`}}},
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
	if len(lines) != 6 {
		t.Fatalf("want 4 annotations, a notice and a count, got %d lines:\n%s", len(lines), b.String())
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

// Of two clashing services, both files get an annotation: the error on one,
// a notice naming it on the other.
func TestGitHubAnnotatesRelated(t *testing.T) {
	var b bytes.Buffer
	if err := Diagnostics(&b, "github", sampleDiagnostics()[3:]); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "::error file=services/b.yaml,line=14,col=3,") ||
		!strings.HasPrefix(lines[1], "::notice file=services/a.yaml,line=14,col=3,") ||
		!strings.Contains(lines[1], "error at services/b.yaml:14:3: address 100.64.0.1 is already used") {
		t.Errorf("annotations:\n%s", b.String())
	}
}

func TestErrorJSON(t *testing.T) {
	var b bytes.Buffer
	if err := ErrorJSON(&b, "--base: unknown revision", 1, nil); err != nil {
		t.Fatal(err)
	}
	golden(t, "diagnostics/error.json", b.Bytes())
	b.Reset()
	if err := ErrorJSON(&b, "the head revision is not valid intent", 1, sampleDiagnostics()[3:]); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		FormatVersion string `json:"format_version"`
		Error         struct {
			Message     string           `json:"message"`
			ExitCode    int              `json:"exit_code"`
			Diagnostics []jsonDiagnostic `json:"diagnostics"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.FormatVersion != FormatVersion || doc.Error.ExitCode != 1 || len(doc.Error.Diagnostics) != 1 ||
		doc.Error.Diagnostics[0].Related[0].File != "services/a.yaml" {
		t.Errorf("error document: %s", b.String())
	}
}
