package planner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/bench/intentgen"
)

// BenchmarkOneFilePR plans a pull request that edits one service file of a
// 10,000-service, 1,000-device repo: the case reviewers wait for on every push.
func BenchmarkOneFilePR(b *testing.B) {
	dir := b.TempDir()
	if err := intentgen.Write(dir, intentgen.Config{Services: 10000, Devices: 1000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	gitB(b, dir, "init", "-q", "-b", "main")
	gitB(b, dir, "add", "-A")
	gitB(b, dir, "commit", "-q", "-m", "base")
	var file string
	filepath.WalkDir(filepath.Join(dir, "services"), func(p string, d os.DirEntry, err error) error {
		if file == "" && err == nil && !d.IsDir() && !strings.HasSuffix(p, "-routes.yaml") {
			file = p
		}
		return nil
	})
	body, _ := os.ReadFile(file)
	lines := strings.Split(string(body), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "  description:") {
			lines[i] = "  description: changed by the benchmark"
		}
	}
	os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o644)
	gitB(b, dir, "commit", "-q", "-am", "one file")
	b.ResetTimer()
	for range b.N {
		p, err := FromGit(context.Background(), GitOptions{Dir: dir, Base: "HEAD~1", Head: "HEAD"})
		if err != nil {
			var inv *InvalidRevisionError
			if errors.As(err, &inv) {
				b.Fatal(inv.Diagnostics)
			}
			b.Fatal(err)
		}
		if s := p.Summary(); s.Update != 1 {
			b.Fatalf("summary %+v, want one update", s)
		}
	}
}
