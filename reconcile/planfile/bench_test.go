package planfile

import (
	"bytes"
	"fmt"

	"strings"
	"testing"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/plan"
)

// benchPlan is the peer benchmark's change (bench/peer): on each of n
// devices, ten interfaces created, each by its own service.
func benchPlan(b *testing.B, n int) (*plan.Plan, map[string]*configtree.Tree) {
	b.Helper()
	p := &plan.Plan{Mode: plan.Live}
	desired := map[string]*configtree.Tree{}
	for i := range n {
		name := fmt.Sprintf("lab%04d", i)
		d := configtree.New()
		for v := range 10 {
			var x strings.Builder
			fmt.Fprintf(&x, `<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces"><interface><name>ge-7/7/7.%d</name>`+
				`<description>bench circuit %d on %s</description><type xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type">ianaift:l2vlan</type><enabled>true</enabled>`+
				`<ipv4 xmlns="urn:ietf:params:xml:ns:yang:ietf-ip"><address><ip>100.%d.0.1</ip><prefix-length>30</prefix-length></address></ipv4></interface></interfaces>`, 3901+v, v, name, 101+v)
			t, err := configtree.Parse(strings.NewReader(x.String()), name, keys)
			if err != nil {
				b.Fatal(err)
			}
			t.SetOwner(fmt.Sprintf("bench-%s-%d", name, v))
			if err := configtree.Merge(d, t); err != nil {
				b.Fatal(err)
			}
		}
		desired[name] = d
		p.Devices = append(p.Devices, plan.DiffDevice(name, "ietf", configtree.New(), d, plan.Live))
	}
	return p, desired
}

// BenchmarkWriteJournalCopy is the plan apply writes into the journal before
// the first lock, at the peer benchmark's sizes: file-bytes is its size
// (issue 14: 10 devices were 1,067,552 bytes while every change kept its
// node and ancestors; BenchmarkWriteSigned keeps them still).
func BenchmarkWriteJournalCopy(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) {
			p, desired := benchPlan(b, n)
			var size int
			for b.Loop() {
				var buf bytes.Buffer
				if err := Write(&buf, p, desired, nil); err != nil {
					b.Fatal(err)
				}
				size = buf.Len()
			}
			b.ReportMetric(float64(size), "file-bytes")
		})
	}
}

// BenchmarkWriteSigned is the file plan --out writes, every node kept.
func BenchmarkWriteSigned(b *testing.B) {
	k, err := LoadKey(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	p, desired := benchPlan(b, 10)
	var size int
	for b.Loop() {
		cw := &countWriter{}
		if err := WriteSigned(cw, k, p, desired, nil); err != nil {
			b.Fatal(err)
		}
		size = cw.n
	}
	b.ReportMetric(float64(size), "file-bytes")
}

type countWriter struct{ n int }

func (c *countWriter) Write(b []byte) (int, error) { c.n += len(b); return len(b), nil }
