package snmp

import (
	"context"
	"testing"
	"time"

	"github.com/netrecon/netrecon/lab/labtest"
)

// IF-MIB (RFC 2863) and SNMPv2-MIB (RFC 3418) objects the usage reads use.
const (
	oidIfName        = ".1.3.6.1.2.1.31.1.1.1.1"
	oidIfHCInOctets  = ".1.3.6.1.2.1.31.1.1.1.6"
	oidIfHCOutOctets = ".1.3.6.1.2.1.31.1.1.1.10"
	oidIfOperStatus  = ".1.3.6.1.2.1.2.2.1.8"
	oidSnmpInPkts    = ".1.3.6.1.2.1.11.1.0"
)

// TestLabTableReadsTheHostsInterfaces walks the usage agent's interface
// table (the host's own interfaces) with GETBULK, and counts the requests
// at the agent: its snmpInPkts grows by exactly the requests Table says it
// sent, plus the two GETs that read the counter.
func TestLabTableReadsTheHostsInterfaces(t *testing.T) {
	agent := labtest.Load(t).UsageSNMP()
	if agent.Address == "" {
		labtest.Missing(t, "lab.json has no usageSnmp agent: restart the lab (bash lab/lab.sh up)")
	}
	c := newClient(t, Options{Community: agent.Community, Timeout: time.Second})
	ctx := context.Background()
	inPkts := func() uint64 {
		v, err := c.Get(ctx, agent.Address, oidSnmpInPkts)
		if err != nil {
			t.Fatal(err)
		}
		n, err := v.Uint()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := inPkts()
	res, err := c.Table(ctx, agent.Address, []string{oidNumUsers}, []string{oidIfName, oidIfHCInOctets, oidIfHCOutOctets, oidIfOperStatus}, 2)
	if err != nil {
		t.Fatal(err)
	}
	after := inPkts()
	if got := after - before; got != uint64(res.Requests)+1 {
		t.Errorf("agent received %d packets between the two counter reads; want the %d GETBULKs Table sent + 1", got, res.Requests)
	}
	if len(res.Rows) < 2 {
		t.Fatalf("rows %v; want the host's interfaces (lo and more)", res.Rows)
	}
	if want := (len(res.Rows)+1)/2 + 1; res.Requests > want {
		t.Errorf("%d requests for %d rows at 2 a request; want at most %d", res.Requests, len(res.Rows), want)
	}
	var lo map[string]Value
	for _, row := range res.Rows {
		if row[oidIfName].String() == "lo" {
			lo = row
		}
	}
	if lo == nil {
		t.Fatalf("no lo among %d interfaces", len(res.Rows))
	}
	in, err := lo[oidIfHCInOctets].Uint()
	if err != nil || in == 0 || lo[oidIfHCInOctets].Type != "Counter64" {
		t.Errorf("lo ifHCInOctets %#v (%d, %v)", lo[oidIfHCInOctets], in, err)
	}
	if st, err := lo[oidIfOperStatus].Int(); err != nil || st != 1 {
		t.Errorf("lo ifOperStatus %#v; want up (1)", lo[oidIfOperStatus])
	}
	if _, ok := res.Scalars[oidNumUsers]; !ok {
		t.Errorf("scalars %v; want hrSystemNumUsers.0", res.Scalars)
	}
}

// A scalar that is a table cell (the lab agent's extend output) is read
// with a GET of its own when GETNEXT of its parent lands elsewhere; either
// way its value comes back.
func TestLabTableScalarThatIsACell(t *testing.T) {
	c, agent := labClient(t)
	res, err := c.Table(context.Background(), agent.Address, []string{oidMaintExtend, oidNumUsers}, []string{oidIfName}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := res.Scalars[oidMaintExtend]; !ok || !v.IsText() {
		t.Errorf("extend output: %#v, %v", v, ok)
	}
	if _, ok := res.Scalars[oidNumUsers]; !ok {
		t.Error("hrSystemNumUsers missing")
	}
}
