//go:build linux

package main

import (
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netrecon/netrecon/bench/intentgen"
)

// BenchmarkValidateCLI10k runs `netrecon validate` (load, cross-checks,
// static template check, render of every device) on the generated repo of
// 10,000 services over 1,000 devices, as a pull request's CI would. The
// issue's budget for validate with rendering and the YANG check is 3 s on
// two cores; render.BenchmarkValidate10k shows the load alone and with the
// render side by side. Besides ns/op it reports the CPU time per run, which
// does not depend on what else the machine runs, and the peak RSS.
func BenchmarkValidateCLI10k(b *testing.B) {
	dir := b.TempDir()
	if err := intentgen.Write(dir, intentgen.Config{Services: 10000, Devices: 1000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	before := cpuTime()
	for b.Loop() {
		var errb strings.Builder
		if code := run(&app{stdout: io.Discard, stderr: &errb, stdin: strings.NewReader("")}, []string{"validate", dir}); code != 0 {
			b.Fatalf("exit %d: %s", code, errb.String())
		}
	}
	b.ReportMetric((cpuTime()-before).Seconds()/float64(b.N), "cpu-s/op")
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MiB")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
