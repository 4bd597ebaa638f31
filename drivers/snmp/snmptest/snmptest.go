// Package snmptest is an SNMPv2c agent in memory on a loopback UDP port, for
// tests of code that reads SNMP without the lab: set an OID's value, count the
// requests, make the agent silent.
//
// Like a real v2c agent it drops, without a reply, any request whose community
// is not its own, and answers noSuchObject for an OID it has no value for.
package snmptest

import (
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gosnmp/gosnmp"
)

// Agent is a fake SNMPv2c agent. Its methods may be called from any goroutine.
type Agent struct {
	community string
	conn      net.PacketConn
	requests  atomic.Int64
	silent    atomic.Bool

	mu     sync.Mutex
	values map[string]gosnmp.SnmpPDU
}

// Start starts an agent for community on 127.0.0.1; it stops when the test
// ends.
func Start(t testing.TB, community string) *Agent {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("snmptest: %v", err)
	}
	a := &Agent{community: community, conn: conn, values: map[string]gosnmp.SnmpPDU{}}
	done := make(chan struct{})
	t.Cleanup(func() { _ = conn.Close(); <-done })
	go func() {
		defer close(done)
		a.serve(t)
	}()
	return a
}

// Addr is the agent's host:port.
func (a *Agent) Addr() string { return a.conn.LocalAddr().String() }

// Requests is the number of requests the agent received, answered or not.
func (a *Agent) Requests() int { return int(a.requests.Load()) }

// SetSilent makes the agent drop every request (a down or filtered agent).
func (a *Agent) SetSilent(on bool) { a.silent.Store(on) }

// SetGauge sets oid to a Gauge32.
func (a *Agent) SetGauge(oid string, v uint32) { a.set(oid, gosnmp.Gauge32, uint(v)) }

// SetInteger sets oid to an Integer.
func (a *Agent) SetInteger(oid string, v int) { a.set(oid, gosnmp.Integer, v) }

// SetString sets oid to an OctetString.
func (a *Agent) SetString(oid, v string) { a.set(oid, gosnmp.OctetString, []byte(v)) }

// SetTimeTicks sets oid to TimeTicks, a number too, for a type check.
func (a *Agent) SetTimeTicks(oid string, v uint32) { a.set(oid, gosnmp.TimeTicks, v) }

// SetIPAddress sets oid to an IpAddress: neither a number nor a string.
func (a *Agent) SetIPAddress(oid, ip string) { a.set(oid, gosnmp.IPAddress, ip) }

// Delete removes oid: the agent answers noSuchObject for it.
func (a *Agent) Delete(oid string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.values, norm(oid))
}

func (a *Agent) set(oid string, typ gosnmp.Asn1BER, v any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.values[norm(oid)] = gosnmp.SnmpPDU{Name: norm(oid), Type: typ, Value: v}
}

func norm(oid string) string { return "." + strings.TrimPrefix(oid, ".") }

func (a *Agent) serve(t testing.TB) {
	dec := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Context: context.Background()}
	buf := make([]byte, 65536)
	for {
		n, from, err := a.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		a.requests.Add(1)
		req, err := dec.SnmpDecodePacket(buf[:n])
		if err != nil || a.silent.Load() || req.Community != a.community || req.PDUType != gosnmp.GetRequest {
			continue
		}
		resp := &gosnmp.SnmpPacket{
			Version: gosnmp.Version2c, Community: req.Community, PDUType: gosnmp.GetResponse, RequestID: req.RequestID,
		}
		a.mu.Lock()
		for _, vb := range req.Variables {
			v, ok := a.values[norm(vb.Name)]
			if !ok {
				v = gosnmp.SnmpPDU{Name: vb.Name, Type: gosnmp.NoSuchObject}
			}
			resp.Variables = append(resp.Variables, v)
		}
		a.mu.Unlock()
		out, err := resp.MarshalMsg()
		if err != nil {
			t.Errorf("snmptest: marshal: %v", err)
			continue
		}
		_, _ = a.conn.WriteTo(out, from)
	}
}
