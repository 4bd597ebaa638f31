package apply

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/planner"
)

// BenchmarkSimApply100 applies one change set to 100 simulated devices (an
// update of one description each, two-phase, verified, journaled). The
// simulator runs in this process, so the CPU time reported includes it.
func BenchmarkSimApply100(b *testing.B) { benchSimApply(b, 100) }

// BenchmarkSimApply1000 is the same change set over 1,000 devices.
func BenchmarkSimApply1000(b *testing.B) { benchSimApply(b, 1000) }

func benchSimApply(b *testing.B, n int) {
	env := newSim(b, n)
	j := openJournal(b)
	names := env.names()
	mk := func(i int) map[string]*configtree.Tree {
		out := map[string]*configtree.Tree{}
		for _, n := range names {
			out[n] = ifaces(b, "svc-a", "ge-0/0/1", fmt.Sprintf("v%d", i), "ge-0/0/2", "uplink")
		}
		return out
	}
	b.ReportAllocs()
	var cpu time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		desired := mk(i)
		p, err := planner.Live(b.Context(), planner.LiveOptions{Intent: env.inv, Desired: desired, Dialer: env.dialer, Journal: j, Concurrency: DefaultConcurrency})
		if err != nil {
			b.Fatal(err)
		}
		before := cpuTime()
		b.StartTimer()
		res, err := Apply(b.Context(), p, desired, env.inv, Options{Dialer: env.dialer, Journal: j})
		b.StopTimer()
		cpu += cpuTime() - before
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Devices) != n {
			b.Fatalf("%d devices applied", len(res.Devices))
		}
		b.StartTimer()
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "maxrss-MiB")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
