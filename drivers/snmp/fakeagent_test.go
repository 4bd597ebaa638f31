package snmp

import (
	"context"
	"net"
	"sync/atomic"
	"testing"

	"github.com/gosnmp/gosnmp"
)

// fakeAgent is an SNMPv2c agent on loopback whose answers a handler decides,
// for responses the lab's snmpd cannot be made to send (error statuses, odd
// types, Counter64 overflow, silence).
type fakeAgent struct {
	conn     net.PacketConn
	requests atomic.Int64
}

// handler gets each decoded request and returns the response to send, or nil
// to stay silent.
type handler func(req *gosnmp.SnmpPacket) *gosnmp.SnmpPacket

func newFakeAgent(t *testing.T, h handler) *fakeAgent {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &fakeAgent{conn: conn}
	done := make(chan struct{})
	t.Cleanup(func() { _ = conn.Close(); <-done })
	go func() {
		defer close(done)
		dec := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Context: context.Background()}
		buf := make([]byte, 65536)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			a.requests.Add(1)
			req, err := dec.SnmpDecodePacket(buf[:n])
			if err != nil {
				continue
			}
			resp := h(req)
			if resp == nil {
				continue
			}
			resp.Version = gosnmp.Version2c
			resp.Community = req.Community
			resp.PDUType = gosnmp.GetResponse
			resp.RequestID = req.RequestID
			out, err := resp.MarshalMsg()
			if err != nil {
				t.Errorf("fake agent: marshal: %v", err)
				continue
			}
			_, _ = conn.WriteTo(out, from)
		}
	}()
	return a
}

func (a *fakeAgent) Addr() string { return a.conn.LocalAddr().String() }

// answer returns a handler that answers every request with vars, checking the
// community first as a v2c agent does: a wrong one gets no reply at all.
func answer(community string, vars ...gosnmp.SnmpPDU) handler {
	return func(req *gosnmp.SnmpPacket) *gosnmp.SnmpPacket {
		if req.Community != community {
			return nil
		}
		return &gosnmp.SnmpPacket{Variables: vars}
	}
}
