package netsim

import (
	"context"
	"log/slog"
	"testing"
)

// FuzzHandle sends arbitrary messages to a device's rpc handler: whatever a
// client sends, the device must answer (or drop) without panicking, and a
// reply must be a well-formed <rpc-reply>.
func FuzzHandle(f *testing.F) {
	for _, s := range []string{
		`<rpc message-id="1" xmlns="` + nsBase + `"><get-config><source><running/></source></get-config></rpc>`,
		`<rpc message-id="2" xmlns="` + nsBase + `"><edit-config><target><candidate/></target><config>` + ifaceA + `</config></edit-config></rpc>`,
		`<rpc message-id="3" xmlns="` + nsBase + `"><commit><confirmed/><confirm-timeout>5</confirm-timeout><persist>x</persist></commit></rpc>`,
		`<rpc message-id="4" xmlns="` + nsBase + `"><get><filter type="subtree"><netconf-state xmlns="` + nsMonitoring + `"/></filter></get></rpc>`,
		`<rpc message-id="5" xmlns="` + nsBase + `"><lock><target><candidate/></target></lock></rpc>`,
		`<nc:rpc message-id="6" xmlns:nc="` + nsBase + `"><nc:cancel-commit><nc:persist-id>x</nc:persist-id></nc:cancel-commit></nc:rpc>`,
		`<rpc xmlns="` + nsBase + `"/>`,
		`<hello/>`,
		``,
	} {
		f.Add([]byte(s))
	}
	sim := startSim(f, 1)
	dev := sim.Device("d1")
	ctx, cancel := context.WithCancel(context.Background())
	f.Cleanup(cancel)
	dev.mu.Lock()
	id := dev.newSessionID()
	dev.mu.Unlock()
	s := &session{id: id, dev: dev, log: slog.New(slog.DiscardHandler), user: testUser, host: "127.0.0.1", ctx: ctx, stop: cancel}
	f.Fuzz(func(t *testing.T, msg []byte) {
		reply, next := s.handle(msg)
		if next == actDrop || next == actSwallow {
			return
		}
		root, err := parseMessage(reply)
		if err != nil {
			t.Fatalf("reply %q is not XML: %v", reply, err)
		}
		if root.name.Local != "rpc-reply" || root.name.Space != nsBase {
			t.Fatalf("reply root <%s>", root.name.Local)
		}
	})
}
