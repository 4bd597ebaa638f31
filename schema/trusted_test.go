package schema

import (
	"io/fs"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/netrecon/netrecon/bench/intentgen"
)

// TestTrustedGivesTheSameIntent: skipping CUE for vouched-for files must not
// change the result, defaults included.
func TestTrustedGivesTheSameIntent(t *testing.T) {
	gen := fstest.MapFS{}
	for name, data := range intentgen.Files(intentgen.Config{Services: 300, Devices: 20, Seed: 7}) {
		gen[name] = &fstest.MapFile{Data: data}
	}
	repos := map[string]fs.FS{"valid": readTree(t, "testdata/valid"), "intentgen": gen}
	for name, fsys := range repos {
		t.Run(name, func(t *testing.T) {
			want, diags := Load(fsys, Options{})
			if diags.HasErrors() {
				t.Fatalf("repo is invalid:\n%s", diagText(diags))
			}
			var asked atomic.Int64 // Trusted is called from every worker
			got, diags := Load(fsys, Options{Trusted: func(p string) bool {
				asked.Add(1)
				return true
			}})
			if diags.HasErrors() {
				t.Fatalf("trusted load has errors:\n%s", diagText(diags))
			}
			if asked.Load() == 0 {
				t.Error("Trusted was never asked")
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Load with Trusted differs (-untrusted +trusted):\n%s", diff)
			}
		})
	}
}

// TestTrustedStillChecksAcrossDocuments: a vouched-for file still takes part
// in the cross-document checks.
func TestTrustedStillChecksAcrossDocuments(t *testing.T) {
	fsys := validPlus(t, map[string]string{
		"services/x.yaml": circuit("x", "initech", "pe1-tyo", "ge-0/0/1", 100, "192.0.2.129/30", ""),
	})
	_, diags := Load(fsys, Options{Trusted: func(string) bool { return true }})
	if !diags.HasErrors() {
		t.Fatal("a clash between trusted files went unnoticed")
	}
}
