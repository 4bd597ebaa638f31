package intentgen_test

import (
	"os"
	"testing"
	"testing/fstest"

	"github.com/netrecon/netrecon/bench/intentgen"
	"github.com/netrecon/netrecon/schema"
)

// A generated repo passes the real loader: CUE schemas and cross-document
// checks, not only the invariants this package checks itself.
func TestGeneratedRepoLoads(t *testing.T) {
	cfg := intentgen.Config{Services: 200, Devices: 20, Seed: 1}
	fsys := fstest.MapFS{}
	for name, data := range intentgen.Files(cfg) {
		fsys[name] = &fstest.MapFile{Data: data, Mode: 0o644}
	}
	in, diags := schema.Load(fsys, schema.Options{})
	for _, d := range diags {
		t.Errorf("%s: %s", d.Severity, d)
	}
	if len(in.Devices) != cfg.Devices || len(in.Services) != cfg.Services {
		t.Errorf("loaded %d devices and %d services, want %d and %d",
			len(in.Devices), len(in.Services), cfg.Devices, cfg.Services)
	}
}

// The example repo, which the demo and the docs use, loads without a single
// diagnostic, warnings included, and keeps its user-defined type.
func TestExampleLoads(t *testing.T) {
	in, diags := schema.Load(os.DirFS(exampleDir), schema.Options{})
	for _, d := range diags {
		t.Errorf("%s: %s", d.Severity, d)
	}
	typ := in.Types["internet-access"]
	if typ == nil || typ.BuiltIn || len(typ.Template) != 2 || len(typ.Lists) == 0 {
		t.Errorf("internet-access type = %+v, want a user-defined type with two templates and list keys", typ)
	}
	uses := 0
	for _, s := range in.Services {
		if s.Kind == "internet-access" {
			uses++
		}
	}
	if uses == 0 || len(in.Services) < 25 || len(in.Devices) < 3 {
		t.Errorf("%d devices, %d services, %d of kind internet-access; want at least 3, 25, 1",
			len(in.Devices), len(in.Services), uses)
	}
}
