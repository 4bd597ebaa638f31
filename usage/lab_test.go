package usage

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/netrecon/netrecon/drivers/snmp"
	"github.com/netrecon/netrecon/lab/labtest"
	"github.com/netrecon/netrecon/reconcile/guard"
	"github.com/netrecon/netrecon/schema"
)

// snmpTables is drivers/snmp's client as a TableReader (as cmd/netrecon
// wires it).
type snmpTables struct{ c *snmp.Client }

func (r snmpTables) Table(ctx context.Context, target string, scalars, columns []string) (Table, error) {
	res, err := r.c.Table(ctx, target, scalars, columns, 0)
	out := Table{Scalars: map[string]Value{}, Rows: map[string]map[string]Value{}, Requests: res.Requests}
	conv := func(v snmp.Value) Value {
		x := Value{Type: v.Type}
		if n, err := v.Uint(); err == nil {
			x.Uint = &n
		} else if v.IsText() {
			s := v.String()
			x.Text = &s
		}
		return x
	}
	for k, v := range res.Scalars {
		out.Scalars[k] = conv(v)
	}
	for idx, row := range res.Rows {
		out.Rows[idx] = map[string]Value{}
		for col, v := range row {
			out.Rows[idx][col] = conv(v)
		}
	}
	return out, err
}

const oidSnmpInPkts = ".1.3.6.1.2.1.11.1.0"

func labAgent(t *testing.T) (labtest.SNMP, *snmp.Client) {
	t.Helper()
	agent := labtest.Load(t).UsageSNMP()
	if agent.Address == "" {
		labtest.Missing(t, "lab.json has no usageSnmp agent: restart the lab (bash lab/lab.sh up)")
	}
	c, err := snmp.New(snmp.Options{Community: agent.Community, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return agent, c
}

// agentPackets is the agent's own count of the SNMP messages it received
// (snmpInPkts, RFC 3418); reading it is one message more.
func agentPackets(t *testing.T, c *snmp.Client, target string) uint64 {
	t.Helper()
	v, err := c.Get(context.Background(), target, oidSnmpInPkts)
	if err != nil {
		t.Fatal(err)
	}
	n, err := v.Uint()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// gather returns the samples of name by service.
func gather(t *testing.T, reg *prometheus.Registry, name string) map[string]*dto.Metric {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.Metric{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "service" {
					out[l.GetValue()] = m
				}
			}
		}
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// TestLabCountersBecomeMetricsAndTheRateLimitHolds measures 1,000 services
// on one device (the usage snmpd, serving the host's own interfaces: lo
// and the rest) while the SNMP guard checks the same device through the
// same poller, and counts at the agent the requests it received.
func TestLabCountersBecomeMetricsAndTheRateLimitHolds(t *testing.T) {
	agent, client := labAgent(t)
	ctx := context.Background()
	const interval = 400 * time.Millisecond
	set, err := NewSet(SetOptions{Reader: snmpTables{client}, Scalars: []string{guard.OIDHrSystemNumUsers},
		Interval: func(string) time.Duration { return interval }})
	if err != nil {
		t.Fatal(err)
	}
	// The host's interfaces, to map the services onto.
	first, err := snmpTables{client}.Table(ctx, agent.Address, nil, columns)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, row := range first.Rows {
		if n := row[OIDIfName].Text; n != nil {
			names = append(names, *n)
		}
	}
	if len(names) < 1 {
		t.Fatal("the agent serves no interface")
	}
	perPoll := first.Requests // a poll reads the same table (+ the guard's scalar, in the same first request)
	var services []Service
	for i := range 1000 {
		services = append(services, Service{Name: fmt.Sprintf("svc-%04d", i), Customer: fmt.Sprintf("cust-%d", i%7),
			Device: "pe1", Target: agent.Address, IfName: names[i%len(names)]})
	}
	services[0].IfName = "lo"
	col := NewCollector(set, nil)
	col.SetServices(services)
	reg := prometheus.NewRegistry()
	reg.MustRegister(col)
	// The guard without a cache of its own: the poller alone limits it.
	g, err := guard.SNMPUsers(guard.SNMPOptions{Client: set, Threshold: 1000, MinInterval: time.Nanosecond,
		Target: func(*schema.Device) string { return agent.Address }})
	if err != nil {
		t.Fatal(err)
	}
	checks := 0

	before := agentPackets(t, client, agent.Address)
	start := time.Now()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); col.Run(runCtx, 20*time.Millisecond) }()
	// Wait for four polls of the device, while the collector ticks every
	// 20 ms: 20 times more often than the device may be read.
	p := set.Poller("pe1", agent.Address)
	for deadline := time.Now().Add(20 * time.Second); ; {
		if polls, _ := p.Stats(); polls >= 4 {
			break
		}
		if err := g.Check(ctx, &schema.Device{Name: "pe1"}, nil); err != nil {
			t.Fatalf("guard through the poller: %v", err)
		}
		checks++
		if time.Now().After(deadline) {
			t.Fatal("no four polls in 20 s")
		}
		pause(t, 10*time.Millisecond)
	}
	stop()
	<-done
	elapsed := time.Since(start)
	got := agentPackets(t, client, agent.Address) - before - 1
	polls, reqs := p.Stats()
	allowed := int(elapsed/interval) + 1
	if polls > allowed {
		t.Errorf("%d polls in %s at one per %s; want at most %d", polls, elapsed, interval, allowed)
	}
	if got != uint64(reqs) || reqs > allowed*perPoll {
		t.Errorf("agent received %d requests (poller says %d) in %s for 1,000 services; want at most %d (%d polls × %d requests)",
			got, reqs, elapsed, allowed*perPoll, allowed, perPoll)
	}
	t.Logf("1,000 services and %d guard checks on one device: %d polls, %d requests at the agent in %s (interval %s, %d requests a poll)",
		checks, polls, got, elapsed.Round(time.Millisecond), interval, perPoll)

	ins := gather(t, reg, "netrecon_service_in_octets_total")
	if len(ins) != 1000 {
		t.Fatalf("%d services have an in_octets series; want 1000", len(ins))
	}
	lo := ins["svc-0000"]
	if label(lo, "customer") != "cust-0" || label(lo, "device") != "pe1" || label(lo, "interface") != "lo" || lo.GetCounter().GetValue() <= 0 {
		t.Fatalf("svc-0000: %v", lo)
	}
	if up := gather(t, reg, "netrecon_service_oper_up")["svc-0000"]; up.GetGauge().GetValue() != 1 {
		t.Errorf("lo is not up: %v", up)
	}
	// The counters grow: lo carries the SNMP traffic itself.
	was := lo.GetCounter().GetValue()
	for deadline := time.Now().Add(10 * time.Second); ; {
		col.PollOnce(ctx)
		if now := gather(t, reg, "netrecon_service_in_octets_total")["svc-0000"].GetCounter().GetValue(); now > was {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lo's in_octets stayed at %v", was)
		}
		pause(t, 50*time.Millisecond)
	}
	// A removed service's series go.
	col.SetServices(services[:10])
	if n := len(gather(t, reg, "netrecon_service_in_octets_total")); n != 10 {
		t.Errorf("%d series after removing 990 services; want 10", n)
	}
}

// pause waits d without time.Sleep's name: the loops above poll with a
// deadline for something to happen, this is their interval.
func pause(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-time.After(d):
	case <-t.Context().Done():
	}
}
