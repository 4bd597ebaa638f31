package schema

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFindRepo(t *testing.T) {
	top := t.TempDir()
	repo := filepath.Join(top, "git", "intent")
	for _, d := range []string{"git/.git", "git/intent/inventory", "git/intent/services/acme", "git/docs"} {
		if err := os.MkdirAll(filepath.Join(top, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(repo, "services/acme/hq.yaml")
	if err := os.WriteFile(file, []byte("x: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, root, rel string
		ok              bool
	}{
		{file, repo, "services/acme/hq.yaml", true},
		{filepath.Join(repo, "services/acme"), repo, "services/acme", true},
		{filepath.Join(repo, "services"), repo, "services", true},
		{repo, repo, ".", true},
		{filepath.Join(top, "git/docs"), "", "", false}, // stops at .git
	} {
		root, rel, ok, err := FindRepo(tc.path)
		if err != nil || root != tc.root || rel != tc.rel || ok != tc.ok {
			t.Errorf("FindRepo(%s) = %q, %q, %v, %v; want %q, %q, %v", tc.path, root, rel, ok, err, tc.root, tc.rel, tc.ok)
		}
	}
	if _, _, _, err := FindRepo(filepath.Join(repo, "nope.yaml")); err == nil {
		t.Error("a missing path gives no error")
	}
	for rel, want := range map[string]bool{".": true, "services/acme/hq.yaml": true, "inventory": true,
		"service-types/x/schema.cue": true, "README.md": false, "servicesx/a.yaml": false} {
		if got := IsIntentPath(rel); got != want {
			t.Errorf("IsIntentPath(%q) = %v", rel, got)
		}
	}
}
