package journal

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/netrecon/netrecon/configtree"
)

// BenchmarkEnterPhase measures write-ahead records per second: each is one
// durable transaction (synchronous=FULL, an fsync of the WAL), which bounds
// how many device phases an apply can record.
func BenchmarkEnterPhase(b *testing.B) {
	const devices = 64
	names := make([]string, devices)
	for i := range names {
		names[i] = fmt.Sprintf("pe%02d", i)
	}
	ctx := context.Background()

	b.Run("serial", func(b *testing.B) {
		j, _ := openTemp(b)
		id := mustBegin(b, j, Run{}, names...)
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			if err := j.EnterPhase(ctx, id, names[i%devices], Locked, "", ""); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})
	// A run's plan holds every device's desired tree: megabytes for a large
	// change set. A phase write must not read through it.
	b.Run("big-plan", func(b *testing.B) {
		j, _ := openTemp(b)
		plan := `{"plan":"` + strings.Repeat("x", 8<<20) + `"}`
		id := mustBegin(b, j, Run{Plan: []byte(plan)}, names...)
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			if err := j.EnterPhase(ctx, id, names[i%devices], Locked, "", ""); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})
	b.Run("parallel", func(b *testing.B) {
		j, _ := openTemp(b)
		id := mustBegin(b, j, Run{}, names...)
		var next atomic.Int64
		b.SetParallelism(8) // apply's device workers outnumber the cores
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				dev := names[next.Add(1)%devices]
				if err := j.EnterPhase(ctx, id, dev, Locked, "", ""); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})
}

// BenchmarkApplied measures storing and reading the applied tree of a PE
// with 10,000 service interfaces (about 50,000 nodes).
func BenchmarkApplied(b *testing.B) {
	ctx := context.Background()
	var x strings.Builder
	x.WriteString(`<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces" xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type">`)
	for i := range 10000 {
		fmt.Fprintf(&x, `<interface><name>ge-0/0/%d.%d</name><type>ianaift:l2vlan</type><description>customer %d</description><enabled>true</enabled></interface>`,
			i/4000, i%4000, i)
	}
	x.WriteString(`</interfaces>`)
	tree, err := configtree.Parse(strings.NewReader(x.String()), "bench", testKeys)
	if err != nil {
		b.Fatal(err)
	}
	tree.SetOwner("svc")
	j, _ := openTemp(b)
	b.ResetTimer()
	for b.Loop() {
		if err := setApplied(ctx, j, "pe1", tree, "c"); err != nil {
			b.Fatal(err)
		}
		if _, _, err := applied(ctx, j, "pe1"); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var size int
	if err := j.db.QueryRowContext(ctx, `SELECT LENGTH(tree) FROM applied`).Scan(&size); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(size), "stored-bytes")
	b.ReportMetric(float64(tree.Len()), "nodes")
}
