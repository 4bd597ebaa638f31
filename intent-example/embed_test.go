package intentexample

import (
	"bytes"
	"io/fs"
	"os"
	"strings"
	"testing"
)

// The embedded copy is the folder: every file of it, byte for byte, and no
// other (Go files excepted, which are not part of the intent repo).
func TestEmbeddedCopyEqualsTheFolder(t *testing.T) {
	disk := os.DirFS(".")
	seen := map[string]bool{}
	err := fs.WalkDir(disk, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".go") {
			return err
		}
		seen[p] = true
		want, err := fs.ReadFile(disk, p)
		if err != nil {
			return err
		}
		got, err := fs.ReadFile(FS, p)
		if err != nil {
			t.Errorf("%s is not embedded: add it to the go:embed pattern in embed.go", p)
			return nil
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the embedded copy differs from the folder", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = fs.WalkDir(FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !seen[p] {
			t.Errorf("%s is embedded but not in the folder", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) < 30 {
		t.Errorf("only %d files: the walk missed the repo", len(seen))
	}
}
