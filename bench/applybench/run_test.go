package applybench

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestMain lets Run start this test binary as its simulator.
func TestMain(m *testing.M) {
	if sim, err := MaybeSim(context.Background(), os.Stdin, os.Stdout); sim {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestRunSmall(t *testing.T) {
	f, err := Run(t.Context(), Config{Devices: 3, Interfaces: 2, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if f.Outcome != "applied" || f.Changes == 0 {
		t.Errorf("outcome %s with %d changes, want applied with some", f.Outcome, f.Changes)
	}
	if f.ApplyWall <= 0 || f.ApplyPeakRSS <= 0 || f.SimPeakRSS <= 0 || f.JournalSize <= 0 {
		t.Errorf("figures missing: %+v", f)
	}
	var b strings.Builder
	if err := Print(&b, f, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "apply wall") || strings.Contains(b.String(), "before") {
		t.Errorf("print without before:\n%s", b.String())
	}
}

func TestPrintBeside(t *testing.T) {
	before, err := ReadFigures("testdata/before-1000.json")
	if err != nil {
		t.Fatal(err)
	}
	now := *before
	now.ApplyWall = before.ApplyWall / 4
	var b strings.Builder
	if err := Print(&b, &now, before); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"before", "now/before", "0.25"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q:\n%s", want, out)
		}
	}
	other := now
	other.Devices = 10
	b.Reset()
	if err := Print(&b, &other, before); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "not the same work") {
		t.Errorf("a comparison of different work is not flagged:\n%s", b.String())
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	for _, cfg := range []Config{{Devices: 0, Interfaces: 1}, {Devices: 1, Interfaces: 0}, {Devices: 1, Interfaces: 1, Concurrency: -1}} {
		if _, err := Run(t.Context(), cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}
