package yangcheck_test

import (
	"bytes"
	"context"
	"os"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/netrecon/netrecon/bench/intentgen"
	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
	"github.com/netrecon/netrecon/yangcheck"
)

// BenchmarkCheckIntent is the YANG check of validate on the generated
// 10,000-service, 1,000-device repo, against the modules of the example's
// ietf PEs (the lab's netconfd's): the compile of the platform's modules
// (once per call, as validate does) and the check of every rendered tree.
// "generated": the repo as intentgen makes it, half Junos (not checked);
// "all-ietf": every device on the ietf platform, 1,000 trees checked.
func BenchmarkCheckIntent(b *testing.B) {
	repo, diags := yangcheck.ReadRepo(os.DirFS("../intent-example"))
	if len(diags) > 0 {
		b.Fatal(diags)
	}
	for _, tc := range []struct {
		name    string
		allIETF bool
	}{{"generated", false}, {"all-ietf", true}} {
		b.Run(tc.name, func(b *testing.B) {
			in, desired := generated(b, tc.allIETF)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			n := 0
			for b.Loop() {
				ds := yangcheck.CheckIntent(in, desired, repo, yangcheck.CheckOptions{})
				if ds.HasErrors() {
					b.Fatal(ds)
				}
				n++
			}
			// CPU time is what the check costs whatever else the shared
			// machine runs; wall time on 2 busy cores varies threefold.
			b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(n), "cpu-ms/op")
		})
	}
}

// BenchmarkCompile is the compile of the example's ietf modules alone.
func BenchmarkCompile(b *testing.B) {
	repo, diags := yangcheck.ReadRepo(os.DirFS("../intent-example"))
	if len(diags) > 0 {
		b.Fatal(diags)
	}
	mods, features := repo["ietf"].ModulesFor("pe1-tyo")
	b.ReportAllocs()
	for b.Loop() {
		yangcheck.Compile(mods, features)
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func generated(b *testing.B, allIETF bool) (*schema.Intent, map[string]*configtree.Tree) {
	b.Helper()
	fsys := fstest.MapFS{}
	for name, data := range intentgen.Files(intentgen.Config{Services: 10000, Devices: 1000, Seed: 1}) {
		if allIETF {
			data = bytes.ReplaceAll(data, []byte("platform: junos"), []byte("platform: ietf"))
		}
		fsys[name] = &fstest.MapFile{Data: data, Mode: 0o644}
	}
	bld, diags, err := render.BuildFS(context.Background(), fsys, render.BuildOptions{})
	if err != nil || bld == nil || bld.Desired == nil {
		b.Fatalf("build: %v %v", err, diags)
	}
	return bld.Intent, bld.Desired
}
