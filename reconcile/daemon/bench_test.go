package daemon

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/netrecon/netrecon/bench/intentgen"
)

// BenchmarkNoopPass measures a pass with nothing to do over many devices:
// fetch (nothing new), the cached intent, a live plan that reads every
// device's managed subtrees on the warm pool's sessions, no apply. The devices start with the intent in
// their running configuration (seeded, not applied: applying 1,000 devices is
// not what is measured). NETRECON_BENCH_DEVICES and NETRECON_BENCH_SERVICES
// change the size (default 1,000 and 10,000). NETRECON_BENCH_CPUPROFILE=FILE
// profiles the measured passes alone (-cpuprofile would also take in the
// first pass, which loads and renders the intent and dials every device).
// The simulator runs in this process: its CPU is in cpu-s/op, its heap in
// heap-MiB; BenchmarkNoopPassSplit measures netrecon alone.
//
//	go test ./reconcile/daemon -run '^$' -bench NoopPass -benchtime 5x
func BenchmarkNoopPass(b *testing.B) {
	devices, services := envInt("NETRECON_BENCH_DEVICES", 1000), envInt("NETRECON_BENCH_SERVICES", 10000)
	l := newLab(b, intentgen.Files(intentgen.Config{Services: services, Devices: devices, Seed: 1}))
	_, desired := l.desired()
	for _, dev := range l.sim.Devices() {
		if t := desired[dev.Name]; t != nil {
			dev.SetRunning(t)
		}
	}
	desired = nil
	noopPasses(b, l, services, devices)
}

// BenchmarkNoopPassSplit is BenchmarkNoopPass with the simulator in a child
// process (this test binary run again, TestMain): cpu-s/op is netrecon's own,
// sim-cpu-s/op the simulator's, so that the simulator's XML and SSH work
// neither hides nor inflates the pass's.
//
//	go test ./reconcile/daemon -run '^$' -bench NoopPassSplit -benchtime 5x
func BenchmarkNoopPassSplit(b *testing.B) {
	devices, services := envInt("NETRECON_BENCH_DEVICES", 1000), envInt("NETRECON_BENCH_SERVICES", 10000)
	l := newChildLab(b, childSimConfig{Devices: devices, Services: services, Seed: true})
	noopPasses(b, l, services, devices)
}

// noopPasses runs the first pass (not measured), then b.N no-op passes.
func noopPasses(b *testing.B, l *lab, services, devices int) {
	l.cfg.Concurrency = 20
	before := heapInuse()
	d := l.start(Options{})
	ctx := context.Background()
	t0 := time.Now()
	p := d.SyncOnce(ctx, "bench") // loads, renders and records the in-sync devices
	if p.Error != "" || len(p.Applied)+len(p.Failed) != 0 {
		b.Fatalf("first pass: %s applied %d failed %v", p.Error, len(p.Applied), p.Failed)
	}
	b.Logf("first pass (load, render %d services, plan %d devices, journal records): %s", services, devices, time.Since(t0).Round(time.Millisecond))
	// The second pass plans every device in full again (the first wrote
	// their ownership records) and verifies them in sync
	// (planner.Verified): the passes measured are the warm daemon's.
	t0 = time.Now()
	if p := d.SyncOnce(ctx, "bench"); p.Error != "" || len(p.Applied)+len(p.Failed) != 0 {
		b.Fatalf("second pass: %+v", p)
	}
	b.Logf("second pass (every device planned in full and verified): %s", time.Since(t0).Round(time.Millisecond))
	edits := l.editRPCs()
	l.sessionsOpened()
	var sim0 time.Duration
	if l.child != nil {
		sim0 = l.child.counts().CPU
	}
	stopProfile := startCPUProfile(b, os.Getenv("NETRECON_BENCH_CPUPROFILE"))
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		p := d.SyncOnce(ctx, "bench")
		if p.Error != "" || len(p.Applied)+len(p.Failed) != 0 {
			b.Fatalf("no-op pass: %+v", p)
		}
	}
	b.StopTimer()
	stopProfile()
	// CPU time says more than wall time on a shared machine: the pass's
	// (and, in one process, the simulator's), per pass.
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	if l.child != nil {
		n := l.child.counts()
		b.ReportMetric((n.CPU-sim0).Seconds()/float64(b.N), "sim-cpu-s/op")
	}
	if l.editRPCs() != edits {
		b.Fatal("a no-op pass sent edit-config")
	}
	for name, n := range l.sessionsOpened() {
		if n != 0 {
			b.Fatalf("%s: a warm pass opened %d sessions", name, n)
		}
	}
	after := heapInuse()
	b.ReportMetric(float64(after)/(1<<20), "heap-MiB")
	// The daemon's share: the heap it added on top of the harness (and, in
	// one process, the simulator): its cached intent and desired trees,
	// journal, status.
	b.ReportMetric((float64(after)-float64(before))/(1<<20), "daemon-heap-MiB")
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "maxrss-MiB") // Linux: KiB
	}
}

// startCPUProfile profiles into file until the returned func is called; an
// empty file profiles nothing.
func startCPUProfile(b *testing.B, file string) func() {
	if file == "" {
		return func() {}
	}
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Error(err)
		}
	}
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}
