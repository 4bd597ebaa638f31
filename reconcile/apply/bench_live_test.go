package apply

import (
	"fmt"
	"testing"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/planner"
)

// BenchmarkPlanLive reads N simulated devices (filtered get-config, diff)
// at several concurrency limits, to show how a live plan scales with the
// device count and the number of sessions in flight. Session set-up (SSH
// handshake and hello) dominates; the simulator shares this process's CPU.
func BenchmarkPlanLive(b *testing.B) {
	for _, n := range []int{100, 1000} {
		env := newSim(b, n)
		desired := map[string]*configtree.Tree{}
		for _, name := range env.names() {
			desired[name] = ifaces(b, "svc-a", "ge-0/0/1", "customer", "ge-0/0/2", "uplink")
		}
		for _, conc := range []int{10, 50, 100} {
			b.Run(fmt.Sprintf("devices=%d/concurrency=%d", n, conc), func(b *testing.B) {
				for b.Loop() {
					p, err := planner.Live(b.Context(), planner.LiveOptions{Intent: env.inv, Desired: desired, Dialer: env.dialer, Concurrency: conc})
					if err != nil {
						b.Fatal(err)
					}
					if s := p.Summary(); s.Failed > 0 || len(p.Devices) != n {
						b.Fatalf("%+v over %d devices", s, len(p.Devices))
					}
				}
			})
		}
	}
}
