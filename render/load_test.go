package render

import (
	"context"
	"io/fs"
	"os"
	"testing"
	"testing/fstest"

	"github.com/netrecon/netrecon/bench/intentgen"
	"github.com/netrecon/netrecon/schema"
)

// TestIntentExample loads the project's example intent repo with the real
// loader and renders every device: the repo the demo and the docs use must
// render without a diagnostic, user-defined types included.
func TestIntentExample(t *testing.T) {
	in, diags := schema.Load(os.DirFS("../intent-example"), schema.Options{})
	if diags.HasErrors() {
		t.Fatalf("intent-example does not load: %v", diags)
	}
	if len(in.Devices) == 0 || len(in.Services) == 0 {
		t.Fatalf("intent-example has %d devices, %d services", len(in.Devices), len(in.Services))
	}
	r, diags := New(in)
	if len(diags) > 0 {
		t.Fatalf("New: %v", diags)
	}
	trees, diags := r.Devices(context.Background(), nil)
	if len(diags) > 0 {
		t.Fatalf("Devices: %v", diags)
	}
	for _, d := range in.Devices {
		tree := trees[d.Name]
		if tree == nil {
			t.Errorf("%s: no tree", d.Name)
			continue
		}
		// Every node a service rendered must say whose it is.
		for _, c := range tree.Root.Children {
			if len(c.Owners) == 0 {
				t.Errorf("%s: top-level <%s> has no owner", d.Name, c.Name)
			}
		}
	}
}

// BenchmarkDevicesIntentgen renders the generated intent of 10,000 services
// over 1,000 devices, as loaded by schema.Load: the benchmark of record,
// with the loader's real spec values (defaults filled, YAML numbers).
func BenchmarkDevicesIntentgen(b *testing.B) {
	files := intentgen.Files(intentgen.Config{Services: 10000, Devices: 1000, Seed: 1})
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: data}
	}
	// The generated repo has no user-defined types; schema.Load (as of
	// writing) refuses a missing service-types folder, so give it an empty one.
	if _, ok := fsys["service-types"]; !ok {
		fsys["service-types"] = &fstest.MapFile{Mode: fs.ModeDir | 0o755}
	}
	in, diags := schema.Load(fsys, schema.Options{})
	if diags.HasErrors() {
		b.Fatalf("intentgen repo does not load: %v", diags.Err())
	}
	r, diags := New(in)
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	b.ReportAllocs()
	for b.Loop() {
		trees, diags := r.Devices(context.Background(), nil)
		if diags.HasErrors() || len(trees) != len(in.Devices) {
			b.Fatalf("%d trees, %v", len(trees), diags.Err())
		}
	}
}
