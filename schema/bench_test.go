//go:build linux

package schema

import (
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/netrecon/netrecon/bench/intentgen"
)

// BenchmarkLoad10k loads 10,000 services over 1,000 devices from disk through
// os.Root, as the CLI does: the size of a large ISP's intent repo. Target:
// under 2 s and 500 MiB on two cores. Besides ns/op it reports the CPU time
// per load (user+system, all workers), which does not depend on what else the
// machine runs, and the process's peak RSS.
func BenchmarkLoad10k(b *testing.B) {
	benchLoad(b, Options{})
}

// BenchmarkLoad10kTrusted is the planner's case: every file unchanged since
// the base revision, so CUE is skipped for built-in kinds.
func BenchmarkLoad10kTrusted(b *testing.B) {
	benchLoad(b, Options{Trusted: func(string) bool { return true }})
}

func benchLoad(b *testing.B, opts Options) {
	dir := b.TempDir()
	if err := intentgen.Write(dir, intentgen.Config{Services: 10000, Devices: 1000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer root.Close()
	b.ReportAllocs()
	before := cpuTime()
	for b.Loop() {
		in, diags := Load(root.FS(), opts)
		if diags.HasErrors() {
			b.Fatalf("generated repo is invalid: %v", diags.Err())
		}
		if len(in.Services) != 10000 || len(in.Devices) != 1000 {
			b.Fatalf("loaded %d services and %d devices, want 10000 and 1000", len(in.Services), len(in.Devices))
		}
	}
	b.ReportMetric((cpuTime()-before).Seconds()/float64(b.N), "cpu-s/op")
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MiB")
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

// BenchmarkCrossCheck10k times the cross-document and address-plan checks
// alone on the 10,000-service repo: they run on every load, trusted or not.
func BenchmarkCrossCheck10k(b *testing.B) {
	dir := b.TempDir()
	if err := intentgen.Write(dir, intentgen.Config{Services: 10000, Devices: 1000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer root.Close()
	in, diags := Load(root.FS(), Options{Trusted: func(string) bool { return true }})
	if diags.HasErrors() {
		b.Fatalf("generated repo is invalid: %v", diags.Err())
	}
	b.ReportAllocs()
	before := cpuTime()
	for b.Loop() {
		if ds, _ := crossCheck(in, nil, nil, false); ds.HasErrors() {
			b.Fatalf("cross-checks fail: %v", ds.Err())
		}
	}
	b.ReportMetric((cpuTime()-before).Seconds()*1000/float64(b.N), "cpu-ms/op")
}
