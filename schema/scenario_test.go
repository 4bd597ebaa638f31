package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExampleScenarios loads a copy of intent-example overlaid with each
// testdata/example/<case>/ (as TestLoadBad does) and compares what validate
// would say with the case's want.golden: one line per diagnostic, its
// detail and related places indented under it, then the verdict. These are
// the mistakes seen when netrecon was tried as a new user would.
func TestExampleScenarios(t *testing.T) {
	base := readTree(t, "../intent-example")
	cases, err := os.ReadDir("testdata/example")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name(), func(t *testing.T) {
			dir := filepath.Join("testdata/example", c.Name())
			_, diags := Load(overlay(t, base, dir), Options{})
			compareGolden(t, filepath.Join(dir, "want.golden"), scenarioText(diags))
		})
	}
}

// scenarioText writes diagnostics as the text view does (package views
// imports this one, so it cannot be used here).
func scenarioText(ds Diagnostics) string {
	var b strings.Builder
	errs, warns := 0, 0
	for _, d := range ds {
		if d.Severity == Error {
			errs++
		} else {
			warns++
		}
		field := ""
		if d.Field != "" {
			field = d.Field + ": "
		}
		b.WriteString(d.Pos.String() + ": " + d.Severity.String() + ": " + field + d.Summary + "\n")
		if d.Detail != "" {
			b.WriteString("    " + d.Detail + "\n")
		}
		for _, r := range d.Related {
			b.WriteString("    " + r.String() + "\n")
		}
	}
	switch {
	case errs > 0:
		b.WriteString("invalid\n")
	case warns > 0:
		b.WriteString("valid, with warnings\n")
	default:
		b.WriteString("valid\n")
	}
	return b.String()
}
