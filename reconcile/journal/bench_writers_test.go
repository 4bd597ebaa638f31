package journal

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkConcurrentWriters measures phase records per second with several
// writers at once (apply's device workers), on SQLite and on PostgreSQL
// fenced by a lease as a replica writes, with the process's write
// semaphore letting one write in at a time (sem=1) or six (sem=6, the
// PostgreSQL journal's pgWriteSlots). Parallelism p runs p x GOMAXPROCS
// writers.
//
//	go test ./reconcile/journal -run '^$' -bench ConcurrentWriters -benchtime 2s
func BenchmarkConcurrentWriters(b *testing.B) {
	const devices = 64
	names := make([]string, devices)
	for i := range names {
		names[i] = fmt.Sprintf("pe%02d", i)
	}
	ctx := context.Background()
	for _, be := range []backend{sqliteBackend, postgresBackend} {
		for _, sem := range []int{1, pgWriteSlots} {
			for _, writers := range []int{1, 8} {
				b.Run(fmt.Sprintf("%s/sem=%d/p=%d", be.name, sem, writers), func(b *testing.B) {
					base, _ := be.open(b)
					base.writeSem = make(chan struct{}, sem)
					j := base
					if be.name == "postgres" {
						l, err := base.AcquireLease(ctx, "bench", time.Hour)
						if err != nil {
							b.Fatal(err)
						}
						if _, err := base.ClaimDevices(ctx, l, names); err != nil {
							b.Fatal(err)
						}
						j = base.Fenced(l)
					}
					id := mustBegin(b, j, Run{}, names...)
					var next atomic.Int64
					b.SetParallelism(writers)
					b.ResetTimer()
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if err := j.EnterPhase(ctx, id, names[next.Add(1)%devices], Locked, "", ""); err != nil {
								b.Error(err)
								return
							}
						}
					})
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
				})
			}
		}
	}
}
