//go:build linux

package planner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netrecon/netrecon/bench/intentgen"
	"github.com/netrecon/netrecon/diskcache"
	"github.com/netrecon/netrecon/gitsrc"
	"github.com/netrecon/netrecon/reconcile/plan"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
)

// BenchmarkOneFilePR plans a pull request that edits one service file of a
// 10,000-service, 1,000-device repo: the case reviewers wait for on every
// push. Side by side, on the same repo: without the document cache, with an
// empty one (the first run of a pull request with nothing restored), with
// the one main's CI and the pull request's previous run filled (warm), and
// with the one main's CI alone filled (warm-from-main: the pull request's
// first run). Target (issue 14): warm < 0.3 s, cold no slower than
// uncached.
func BenchmarkOneFilePR(b *testing.B) {
	dir := b.TempDir()
	if err := intentgen.Write(dir, intentgen.Config{Services: 10000, Devices: 1000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	gitB(b, dir, "init", "-q", "-b", "main")
	// No automatic gc in the background of the measurement.
	gitB(b, dir, "config", "gc.auto", "0")
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
	// As a clone from GitHub has it: one pack, not loose objects.
	gitB(b, dir, "gc", "-q")

	// Besides ns/op, the CPU time per plan (user+system, all workers):
	// on a shared machine it moves far less than the wall clock.
	b.Run("uncached", func(b *testing.B) {
		before := cpuTime()
		for b.Loop() {
			planOneFile(b, dir, "")
		}
		b.ReportMetric((cpuTime()-before).Seconds()/float64(b.N), "cpu-s/op")
	})
	b.Run("cold", func(b *testing.B) {
		var cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			cache := b.TempDir()
			b.StartTimer()
			before := cpuTime()
			planOneFile(b, dir, cache)
			cpu += cpuTime() - before
		}
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	})
	// The pull request planned again (a re-run, a push that changes the
	// same file back), with what main's last CI run (it validated the base)
	// and the pull request's previous run left in the cache.
	b.Run("warm", func(b *testing.B) {
		cache := b.TempDir()
		validateRev(b, dir, "HEAD~1", cache)
		planOneFile(b, dir, cache)
		before := cpuTime()
		for b.Loop() {
			planOneFile(b, dir, cache)
		}
		b.ReportMetric((cpuTime()-before).Seconds()/float64(b.N), "cpu-s/op")
	})
	// The pull request's first plan, with the cache that main's last CI run
	// left (it validated the base): the changed file and the head's
	// document set are new to it, only the base's set and the unchanged
	// files are known. Each plan starts from a copy of that cache.
	b.Run("warm-from-main", func(b *testing.B) {
		main := b.TempDir()
		validateRev(b, dir, "HEAD~1", main)
		var cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			cache := b.TempDir()
			copyDir(b, main, cache)
			b.StartTimer()
			before := cpuTime()
			planOneFile(b, dir, cache)
			cpu += cpuTime() - before
		}
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	})
}

// validateRev loads and checks revision rev of the repo in dir with the
// document cache in cache, as `netrecon validate` on a push to main does.
func validateRev(b *testing.B, dir, rev, cache string) {
	b.Helper()
	repo, err := gitsrc.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer repo.Close()
	r, err := repo.Resolve(rev)
	if err != nil {
		b.Fatal(err)
	}
	fsys, err := r.FS()
	if err != nil {
		b.Fatal(err)
	}
	c, err := diskcache.Open(cache, diskcache.Options{Version: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	if _, diags := render.Load(fsys, schema.Options{Cache: c}); diags.HasErrors() {
		b.Fatal(diags)
	}
	if err := c.Close(); err != nil {
		b.Fatal(err)
	}
}

func copyDir(b *testing.B, from, to string) {
	b.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		b.Fatal(err)
	}
}

// cpuTime is the CPU time this process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// planOneFile is one run of netrecon plan --base HEAD~1 --head HEAD, with
// the document cache in cache ("" for none).
func planOneFile(b *testing.B, dir, cache string) *plan.Plan {
	b.Helper()
	opts := GitOptions{Dir: dir, Base: "HEAD~1", Head: "HEAD"}
	var c *diskcache.Cache
	if cache != "" {
		var err error
		if c, err = diskcache.Open(cache, diskcache.Options{Version: "bench"}); err != nil {
			b.Fatal(err)
		}
		opts.Load.Cache = c
	}
	p, err := FromGit(context.Background(), opts)
	if err != nil {
		var inv *InvalidRevisionError
		if errors.As(err, &inv) {
			b.Fatal(inv.Diagnostics)
		}
		b.Fatal(err)
	}
	if c != nil {
		if err := c.Close(); err != nil {
			b.Fatal(err)
		}
	}
	if s := p.Summary(); s.Update != 1 {
		b.Fatalf("summary %+v, want one update", s)
	}
	return p
}
