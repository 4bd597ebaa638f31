package schema

import (
	"os"
	"testing"
)

func loadDir(t *testing.T, dir string, opts Options) (*Intent, Diagnostics) {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return Load(root.FS(), opts)
}

func TestLoadValid(t *testing.T) {
	in, diags := loadDir(t, "testdata/valid", Options{})
	for _, d := range diags {
		t.Log(d)
	}
	if diags.HasErrors() {
		t.Fatal("valid repo has errors")
	}
	if len(in.Devices) != 3 || len(in.Services) != 4 {
		t.Fatalf("got %d devices, %d services; want 3, 4", len(in.Devices), len(in.Services))
	}
}
