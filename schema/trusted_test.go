package schema

import (
	"io/fs"
	"os"
	"strings"
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

// A second Load that takes unchanged files from a first one gives the same
// Intent as a Load from scratch, and does not read those files.
func TestLoadReusesPrevious(t *testing.T) {
	fsys := os.DirFS("testdata/valid")
	first, diags := Load(fsys, Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var reads atomic.Int64
	counting := countingFS{FS: fsys, reads: &reads}
	second, diags := Load(counting, Options{Previous: first, Unchanged: func(string) bool { return true }})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("reused load differs (-first +second):\n%s", diff)
	}
	if n := reads.Load(); n != 0 {
		t.Errorf("%d YAML files read; unchanged files must be taken from Previous", n)
	}
}

// A document of a user-defined kind is the same document only under the
// same schema: when a pull request changes the type's schema.cue, its
// unchanged instances are validated again, never taken from Previous.
func TestLoadReusesPreviousOnlyUnderTheSameSchema(t *testing.T) {
	fsys := readTree(t, "testdata/valid")
	first, diags := Load(fsys, Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	schema := fsys["service-types/transit/schema.cue"]
	fsys["service-types/transit/schema.cue"] = &fstest.MapFile{Data: []byte(strings.Replace(string(schema.Data), "*100", "*200", 1))}
	want, _ := Load(fsys, Options{})
	got, diags := Load(fsys, Options{Previous: first, Unchanged: func(p string) bool { return !strings.HasPrefix(p, "service-types/") }})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reused load differs from a fresh one (-fresh +reused):\n%s", diff)
	}
}

// countingFS counts the documents opened (service types, a handful, are
// always read).
type countingFS struct {
	fs.FS
	reads *atomic.Int64
}

func (c countingFS) Open(name string) (fs.File, error) {
	if strings.HasSuffix(name, ".yaml") && !strings.HasPrefix(name, "service-types/") {
		c.reads.Add(1)
	}
	return c.FS.Open(name)
}
