//go:build linux

package render

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/netrecon/netrecon/bench/intentgen"
	"github.com/netrecon/netrecon/schema"
)

// BenchmarkValidate10k is what `netrecon validate` does on the generated
// repo of 10,000 services over 1,000 devices, read from disk through
// os.Root as the CLI reads it: "load" validates only (validate before it
// rendered), "load+render" is BuildFS, the load and the render of every
// device from that same load. The budget for validate with
// rendering and the YANG check is 3 s on two cores. Besides ns/op each
// reports the CPU time per run (all workers), which does not depend on what
// else the machine runs.
func BenchmarkValidate10k(b *testing.B) {
	dir := b.TempDir()
	if err := intentgen.Write(dir, intentgen.Config{Services: 10000, Devices: 1000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer root.Close()
	b.Run("load", func(b *testing.B) {
		b.ReportAllocs()
		before := cpuTime()
		for b.Loop() {
			bd, diags := Load(root.FS(), schema.Options{})
			if diags.HasErrors() || len(bd.Intent.Services) != 10000 {
				b.Fatalf("%d services: %v", len(bd.Intent.Services), diags.Err())
			}
		}
		b.ReportMetric((cpuTime()-before).Seconds()/float64(b.N), "cpu-s/op")
	})
	b.Run("load+render", func(b *testing.B) {
		b.ReportAllocs()
		before := cpuTime()
		for b.Loop() {
			bd, diags, err := BuildFS(context.Background(), root.FS(), BuildOptions{})
			if err != nil || diags.HasErrors() || len(bd.Desired) != 1000 {
				b.Fatalf("%v %v", err, diags.Err())
			}
		}
		b.ReportMetric((cpuTime()-before).Seconds()/float64(b.N), "cpu-s/op")
	})
}

// cpuTime is the CPU time this process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
