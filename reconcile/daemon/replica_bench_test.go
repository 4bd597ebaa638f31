package daemon

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the benchmark's own database

	"github.com/netrecon/netrecon/bench/intentgen"
	"github.com/netrecon/netrecon/lab/labtest"
)

// BenchmarkReplicasNoopPass measures a no-op pass over many devices by 1 and
// by 3 replicas sharing one PostgreSQL journal (the lab's), in this process:
// each replica plans its shard on its own sessions; an op is one pass of
// every replica, run at once. It reports the journal's statements and
// transactions per op. NETRECON_BENCH_DEVICES and NETRECON_BENCH_SERVICES
// change the size (default 3,000 devices, 3,000 services).
//
//	go test ./reconcile/daemon -run '^$' -bench ReplicasNoopPass -benchtime 3x
func BenchmarkReplicasNoopPass(b *testing.B) {
	devices, services := envInt("NETRECON_BENCH_DEVICES", 3000), envInt("NETRECON_BENCH_SERVICES", 3000)
	admin := labtest.PostgresDSN(b)
	l := newLab(b, intentgen.Files(intentgen.Config{Services: services, Devices: devices, Seed: 1}))
	l.cfg.Concurrency = 20
	_, desired := l.desired()
	for _, dev := range l.sim.Devices() {
		if t := desired[dev.Name]; t != nil {
			dev.SetRunning(t)
		}
	}
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			dsn := benchDatabase(b, admin)
			var ds []*Daemon
			for i := range n {
				cfg := *l.cfg
				cfg.StateDir = filepath.Join(b.TempDir(), "state")
				cfg.State = StateConfig{Database: dsn, Replica: ReplicaConfig{ID: fmt.Sprintf("r%d", i+1),
					LeaseTTL: Duration(time.Hour), Renew: Duration(20 * time.Minute)}}
				lc := *l
				lc.cfg = &cfg
				ds = append(ds, lc.start(Options{Logger: slog.New(slog.DiscardHandler)}))
			}
			passAll := func() {
				var wg sync.WaitGroup
				for _, d := range ds {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if p := d.SyncOnce(context.Background(), "bench"); p.Error != "" || len(p.Applied)+len(p.Failed) != 0 {
							b.Errorf("%s: pass: %s, applied %d, failed %v", d.replica.id, p.Error, len(p.Applied), p.Failed)
						}
					}()
				}
				wg.Wait()
			}
			// The first passes claim the shards, load, render and record the
			// in-sync devices; with several replicas, the first commit's
			// change set is every device: the leader gathers it, settles it
			// and hands the shares back. Measured: the steady passes after.
			owned := 0
			for range 10 {
				passAll()
				owned = 0
				for _, d := range ds {
					owned += d.replica.status().Shard
				}
				if owned == devices && len(ds[0].replica.coordination()) == 0 {
					break
				}
			}
			if owned != devices {
				b.Fatalf("the replicas own %d devices, want %d", owned, devices)
			}
			var s0 uint64
			var t0 uint64
			for _, d := range ds {
				s0 += d.journal.Stats().Statements
				t0 += d.journal.Stats().Transactions
			}
			cpu0 := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				passAll()
			}
			b.StopTimer()
			var s1, t1 uint64
			for _, d := range ds {
				s1 += d.journal.Stats().Statements
				t1 += d.journal.Stats().Transactions
			}
			b.ReportMetric(float64(s1-s0)/float64(b.N), "journal-stmts/op")
			b.ReportMetric(float64(t1-t0)/float64(b.N), "journal-txns/op")
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// benchDatabase creates a database of its own on the lab's PostgreSQL
// (admin) and drops it when the test or benchmark ends.
func benchDatabase(b testing.TB, admin string) string {
	var rnd [6]byte
	rand.Read(rnd[:])
	name := "nrb_" + hex.EncodeToString(rnd[:])
	db, err := sql.Open("pgx", admin)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		db, _ := sql.Open("pgx", admin)
		defer db.Close()
		db.Exec("DROP DATABASE " + name + " WITH (FORCE)")
	})
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	return u.String()
}
