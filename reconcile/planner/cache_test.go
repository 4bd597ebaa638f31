package planner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netrecon/netrecon/bench/intentgen"
	"github.com/netrecon/netrecon/diskcache"
	"github.com/netrecon/netrecon/reconcile/plan"
	"github.com/netrecon/netrecon/schema"
)

// generatedRepo writes a generated repo of 200 services on 8 devices, plus
// the example's user-defined type internet-access with an instance on each
// of the first three devices, and commits it.
func generatedRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := intentgen.Files(intentgen.Config{Services: 200, Devices: 8, Seed: 5})
	if err := intentgen.Write(dir, intentgen.Config{Services: 200, Devices: 8, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(dir, "service-types"), os.DirFS("../../intent-example/service-types")); err != nil {
		t.Fatal(err)
	}
	fsys := make(map[string][]byte, len(files))
	for name, data := range files {
		fsys[name] = data
	}
	in, diags := schema.Load(os.DirFS(dir), schema.Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	for i, d := range in.Devices[:3] {
		doc := fmt.Sprintf(`apiVersion: netrecon.io/v1
kind: internet-access
metadata: {name: inet-%d, customer: inet}
spec:
  device: %s
  interface: xe-9/9/9
  vlan: %d
  ipv4: 192.0.2.%d/30
  peer: 192.0.2.%d
  prefixes: [198.51.100.%d/26]
`, i, d.Name, 3000+i, 4*i+1, 4*i+2, 64*i)
		writeFile(t, dir, fmt.Sprintf("services/inet/inet-%d.yaml", i), doc)
	}
	git(t, dir, "init", "-q", "-b", "main")
	git(t, dir, "config", "gc.auto", "0")
	commit(t, dir, "base")
	return dir
}

func writeFile(t *testing.T, dir, file, data string) {
	t.Helper()
	p := filepath.Join(dir, file)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// cachedPlan is one `netrecon plan --base HEAD~1 --head HEAD` run with the
// document cache in cache ("": none). It returns the cache's statistics.
func cachedPlan(t *testing.T, dir, cache string, opts diskcache.Options) (*plan.Plan, diskcache.Stats) {
	t.Helper()
	g := GitOptions{Dir: dir, Base: "HEAD~1", Head: "HEAD"}
	var c *diskcache.Cache
	if cache != "" {
		var err error
		if opts.Version == "" {
			opts.Version = "test"
		}
		if c, err = diskcache.Open(cache, opts); err != nil {
			t.Fatal(err)
		}
		g.Load.Cache = c
	}
	p, err := FromGit(context.Background(), g)
	var inv *InvalidRevisionError
	if errors.As(err, &inv) {
		t.Fatalf("%v\n%v", err, inv.Diagnostics.Err())
	}
	if err != nil {
		t.Fatal(err)
	}
	var st diskcache.Stats
	if c != nil {
		st = c.Stats()
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return p, st
}

// samePlan fails the test when two plans differ in anything, unexported
// fields included.
func samePlan(t *testing.T, what string, want, got *plan.Plan) {
	t.Helper()
	if diff := cmp.Diff(want, got, cmp.Exporter(func(reflect.Type) bool { return true })); diff != "" {
		t.Errorf("%s: the plan differs from the uncached one (-uncached +cached):\n%s", what, diff)
	}
}

// Pull requests of every kind, planned with an empty cache and with one
// that the earlier plans filled, give exactly the plan made without a
// cache; a changed user-defined schema misses.
func TestCachedPlanIsTheUncachedPlan(t *testing.T) {
	dir := generatedRepo(t)
	warm := t.TempDir()
	files, _ := filepath.Glob(filepath.Join(dir, "services", "*", "*.yaml"))
	rel := func(p string) string { r, _ := filepath.Rel(dir, p); return r }
	steps := []struct {
		name   string
		change func()
	}{
		{"one file edited", func() {
			for _, f := range files {
				if !strings.HasSuffix(f, "-routes.yaml") && !strings.Contains(f, "inet-") {
					edit(t, dir, rel(f), "  description: ", "  description: edited ")
					return
				}
			}
		}},
		{"a user-defined schema's default changed", func() {
			// The schema gains a default description, which the template
			// renders for every instance without one: a document validated
			// by the old schema must not be taken as is.
			edit(t, dir, "service-types/internet-access/schema.cue",
				`description?: string & strings.MaxRunes(200)`, `description: *"Internet access" | string & strings.MaxRunes(200)`)
		}},
		{"a file removed and one added", func() {
			for _, f := range files {
				if strings.HasSuffix(f, "-routes.yaml") {
					if err := os.Remove(f); err != nil {
						t.Fatal(err)
					}
					break
				}
			}
			writeFile(t, dir, "services/inet/inet-9.yaml", strings.ReplaceAll(readFile(t, dir, "services/inet/inet-0.yaml"), "inet-0", "inet-9"))
			edit(t, dir, "services/inet/inet-9.yaml", "vlan: 3000", "vlan: 3009")
			edit(t, dir, "services/inet/inet-9.yaml", "198.51.100.0/26", "203.0.113.0/26")
			edit(t, dir, "services/inet/inet-9.yaml", "ipv4: 192.0.2.1/30", "ipv4: 192.0.2.201/30")
			edit(t, dir, "services/inet/inet-9.yaml", "peer: 192.0.2.2", "peer: 192.0.2.202")
		}},
		{"an inventory entry changed", func() {
			inv, _ := filepath.Glob(filepath.Join(dir, "inventory", "*.yaml"))
			edit(t, dir, rel(inv[0]), "platform: ietf", "platform: junos")
		}},
	}
	// The cache starts warm with the base, as a previous push leaves it.
	git(t, dir, "commit", "-q", "--allow-empty", "-m", "nothing")
	cachedPlan(t, dir, warm, diskcache.Options{})
	for _, step := range steps {
		step.change()
		commit(t, dir, step.name)
		want, _ := cachedPlan(t, dir, "", diskcache.Options{})
		if s := want.Summary(); !s.HasChanges() {
			t.Fatalf("%s: no change planned; the step proves nothing", step.name)
		}
		cold, _ := cachedPlan(t, dir, t.TempDir(), diskcache.Options{})
		samePlan(t, step.name+", cold", want, cold)
		got, st := cachedPlan(t, dir, warm, diskcache.Options{})
		samePlan(t, step.name+", warm", want, got)
		if st.Hits == 0 {
			t.Errorf("%s: the warm plan had no hit: %+v", step.name, st)
		}
		again, st := cachedPlan(t, dir, warm, diskcache.Options{})
		samePlan(t, step.name+", warm again", want, again)
		if st.Added != 0 {
			t.Errorf("%s: a second warm plan still added %d entries", step.name, st.Added)
		}
	}
}

// Damaged segment files are ignored: the plan is the same, the damage is
// counted, and the next run finds a clean cache.
func TestCorruptCacheIsIgnored(t *testing.T) {
	dir := generatedRepo(t)
	edit(t, dir, "services/inet/inet-1.yaml", "prefixes: [198.51.100.64/26]", "prefixes: [198.51.100.64/27]")
	commit(t, dir, "inet-1 shrinks")
	want, _ := cachedPlan(t, dir, "", diskcache.Options{})
	for name, damage := range map[string]func([]byte) []byte{
		"flipped":   func(b []byte) []byte { b[len(b)/2] ^= 0x55; return b },
		"truncated": func(b []byte) []byte { return b[:len(b)*2/3] },
		"zeroed":    func(b []byte) []byte { return make([]byte, len(b)) },
	} {
		t.Run(name, func(t *testing.T) {
			cache := t.TempDir()
			cachedPlan(t, dir, cache, diskcache.Options{})
			segs, _ := filepath.Glob(filepath.Join(cache, "*.seg"))
			for _, s := range segs {
				b, err := os.ReadFile(s)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(s, damage(b), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, st := cachedPlan(t, dir, cache, diskcache.Options{})
			samePlan(t, name, want, got)
			if st.Corrupt == 0 {
				t.Errorf("the damage went unnoticed: %+v", st)
			}
			got, st = cachedPlan(t, dir, cache, diskcache.Options{})
			samePlan(t, name+", rebuilt", want, got)
			if st.Corrupt != 0 || st.Hits == 0 {
				t.Errorf("after the rebuild: %+v, want clean hits", st)
			}
		})
	}
}

// Plans at once on one cache folder all succeed with the right plan.
func TestConcurrentCachedPlans(t *testing.T) {
	dir := generatedRepo(t)
	edit(t, dir, "services/inet/inet-2.yaml", "vlan: 3002", "vlan: 3102")
	commit(t, dir, "inet-2 moves")
	want, _ := cachedPlan(t, dir, "", diskcache.Options{})
	cache := t.TempDir()
	var wg sync.WaitGroup
	plans := make([]*plan.Plan, 4*3)
	for g := range 4 {
		wg.Go(func() {
			for r := range 3 {
				plans[3*g+r], _ = cachedPlan(t, dir, cache, diskcache.Options{})
			}
		})
	}
	wg.Wait()
	for i, p := range plans {
		samePlan(t, fmt.Sprintf("run %d", i), want, p)
	}
	if _, st := cachedPlan(t, dir, cache, diskcache.Options{}); st.Corrupt != 0 || st.Hits == 0 {
		t.Errorf("after the concurrent runs: %+v", st)
	}
}

// A cache bounded below what the repo needs still gives the right plan,
// and stays within its bound.
func TestSmallCacheBound(t *testing.T) {
	dir := generatedRepo(t)
	edit(t, dir, "services/inet/inet-0.yaml", "vlan: 3000", "vlan: 3100")
	commit(t, dir, "inet-0 moves")
	want, _ := cachedPlan(t, dir, "", diskcache.Options{})
	cache := t.TempDir()
	opts := diskcache.Options{MaxBytes: 64 << 10}
	for run := range 3 {
		got, _ := cachedPlan(t, dir, cache, opts)
		samePlan(t, fmt.Sprintf("run %d", run), want, got)
		var n int64
		segs, _ := filepath.Glob(filepath.Join(cache, "*"))
		for _, s := range segs {
			if fi, err := os.Stat(s); err == nil {
				n += fi.Size()
			}
		}
		if n > opts.MaxBytes {
			t.Errorf("run %d: the cache holds %d bytes, over its bound of %d", run, n, opts.MaxBytes)
		}
	}
}

func readFile(t *testing.T, dir, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A pull request whose ONE changed file clashes with an unchanged one is
// refused on a warm cache as without one: the cache knows the base's set
// passed the cross-document checks, and the head's set, one blob apart, is
// checked for real. Its refusal is never stored as a pass: the next run
// refuses it again.
func TestWarmCacheStillRefusesAClashInOneFile(t *testing.T) {
	dir := generatedRepo(t)
	cache := t.TempDir()
	// main's last run: the base's set checked and found clean.
	git(t, dir, "commit", "-q", "--allow-empty", "-m", "nothing")
	cachedPlan(t, dir, cache, diskcache.Options{})
	// inet-1 takes inet-0's link address, on another PE of the global
	// table: each file is valid alone.
	edit(t, dir, "services/inet/inet-1.yaml", "ipv4: 192.0.2.5/30", "ipv4: 192.0.2.1/30")
	edit(t, dir, "services/inet/inet-1.yaml", "peer: 192.0.2.6", "peer: 192.0.2.2")
	commit(t, dir, "inet-1 takes inet-0's address")
	_, want := FromGit(context.Background(), GitOptions{Dir: dir, Base: "HEAD~1", Head: "HEAD"})
	var wantInv *InvalidRevisionError
	if !errors.As(want, &wantInv) || wantInv.Side != "head" {
		t.Fatalf("without a cache: %v; want the head refused", want)
	}
	for _, d := range wantInv.Diagnostics {
		if !strings.Contains(d.Summary, "already used by service") {
			t.Fatalf("%v: the test means one cross-document clash, each file valid alone", d)
		}
	}
	for _, run := range []string{"warm", "warm again"} {
		c, err := diskcache.Open(cache, diskcache.Options{Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = FromGit(context.Background(), GitOptions{Dir: dir, Base: "HEAD~1", Head: "HEAD", Load: schema.Options{Cache: c}})
		st := c.Stats()
		if cerr := c.Close(); cerr != nil {
			t.Fatal(cerr)
		}
		var inv *InvalidRevisionError
		if !errors.As(err, &inv) || inv.Side != "head" {
			t.Fatalf("%s: %v; want the head refused", run, err)
		}
		if diff := cmp.Diff(wantInv.Diagnostics.Err().Error(), inv.Diagnostics.Err().Error()); diff != "" {
			t.Errorf("%s: diagnostics differ (-without cache +with):\n%s", run, diff)
		}
		if st.Hits == 0 {
			t.Errorf("%s: the cache was not warm: %+v", run, st)
		}
	}
}
