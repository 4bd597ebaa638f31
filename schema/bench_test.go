package schema

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/netrecon/netrecon/bench/intentgen"
)

// writeGenerated writes an intentgen repo into a temp dir and returns it.
func writeGenerated(tb testing.TB, cfg intentgen.Config) string {
	tb.Helper()
	dir := tb.TempDir()
	if err := intentgen.Write(dir, cfg); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// BenchmarkLoad10k loads 10,000 services over 1,000 devices from disk: the
// size of a large ISP's intent repo. Target: under 2 s and 500 MiB on two cores.
func BenchmarkLoad10k(b *testing.B) {
	dir := writeGenerated(b, intentgen.Config{Services: 10000, Devices: 1000, Seed: 1})
	root, err := os.OpenRoot(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer root.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		in, diags := Load(root.FS(), Options{})
		if diags.HasErrors() {
			b.Fatalf("generated repo is invalid: %v", diags.Err())
		}
		if len(in.Services) != 10000 {
			b.Fatalf("loaded %d services, want 10000", len(in.Services))
		}
	}
}

// BenchmarkLoad10kTrusted is the planner's case: every file unchanged since
// the base revision, so CUE is skipped for built-in kinds.
func BenchmarkLoad10kTrusted(b *testing.B) {
	dir := writeGenerated(b, intentgen.Config{Services: 10000, Devices: 1000, Seed: 1})
	root, err := os.OpenRoot(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer root.Close()
	all := func(string) bool { return true }
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, diags := Load(root.FS(), Options{Trusted: all}); diags.HasErrors() {
			b.Fatalf("generated repo is invalid: %v", diags.Err())
		}
	}
}

var _ = filepath.Join
