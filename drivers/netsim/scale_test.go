package netsim

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// TestThousandDevices starts 1,000 devices in one process, as the demo and
// the scale tests do, and reports what it costs: start time and heap.
func TestThousandDevices(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 1,000 listeners")
	}
	const n = 1000
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()

	start := time.Now()
	sim := startSim(t, n)
	elapsed := time.Since(start)

	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	stack := int64(after.StackInuse) - int64(before.StackInuse)
	t.Logf("%d devices: start %v, heap +%.1f MiB, stacks +%.1f MiB (%.1f KiB/device in all), goroutines +%d",
		n, elapsed.Round(time.Millisecond), float64(heap)/(1<<20), float64(stack)/(1<<20),
		float64(heap+stack)/1024/n, runtime.NumGoroutine()-g0)

	// Every tenth device answers a session.
	for i := 1; i <= n; i += 100 {
		c := dialDevice(t, sim, sim.Device(fmt.Sprintf("d%d", i)))
		c.call(getRunning)
		c.close()
	}
	if len(sim.KnownHosts()) == 0 {
		t.Fatal("no known_hosts")
	}
	if elapsed > 30*time.Second {
		t.Errorf("start took %v", elapsed)
	}
}

func BenchmarkStart1000(b *testing.B) {
	opts := Options{Username: testUser, Password: testPassword}
	for i := range 1000 {
		opts.Devices = append(opts.Devices, DeviceSpec{Name: fmt.Sprintf("d%d", i)})
	}
	for b.Loop() {
		sim, err := Start(context.Background(), opts)
		if err != nil {
			b.Fatal(err)
		}
		if err := sim.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSessionSetup(b *testing.B) {
	sim := startSim(b, 1)
	dev := sim.Device("d1")
	for b.Loop() {
		c := dialDevice(b, sim, dev)
		c.close()
	}
}
