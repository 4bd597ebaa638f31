package apply_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/drivers/netsim"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/apply"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/planner"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
)

// Example plans two simulated routers against their running configuration,
// applies the plan as one transaction, and plans again: nothing is left to do.
func Example() {
	ctx := context.Background()
	keys := render.Keys("ietf", nil)
	sim, err := netsim.Start(ctx, netsim.Options{
		Devices:  []netsim.DeviceSpec{{Name: "pe1", Platform: "ietf"}, {Name: "pe2", Platform: "ietf"}},
		Username: "netrecon", Password: "example",
		Keys: func(string) configtree.Keys { return keys },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sim.Close()
	dir, _ := os.MkdirTemp("", "apply-example")
	defer os.RemoveAll(dir)
	kh := filepath.Join(dir, "known_hosts")
	_ = os.WriteFile(kh, sim.KnownHosts(), 0o600)

	inv := &schema.Intent{}
	for _, d := range sim.Devices() {
		inv.Devices = append(inv.Devices, &schema.Device{Name: d.Name, Platform: d.Platform, Address: d.Address, Port: d.Port})
	}
	dialer := reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
		return netconf.Dial(ctx, netconf.Target{Device: dev.Name, Address: dev.Address, Port: dev.Port,
			Username: "netrecon", Auth: netconf.PasswordAuth("example"), KnownHosts: kh}, netconf.WithKeys(keys))
	})
	j, err := journal.Open(ctx, filepath.Join(dir, "journal.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer j.Close()

	desired := map[string]*configtree.Tree{}
	for _, d := range inv.Devices {
		t, _ := configtree.Parse(strings.NewReader(`<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces">`+
			`<interface><name>ge-0/0/1.100</name><description>acme tokyo-1</description></interface></interfaces>`), "acme", keys)
		t.SetOwner("acme/tokyo-1")
		desired[d.Name] = t
	}

	p, _ := planner.Live(ctx, planner.LiveOptions{Intent: inv, Desired: desired, Dialer: dialer, Journal: j, Concurrency: 0})
	fmt.Println("plan:", p.Summary().Create, "creates")
	res, err := apply.Apply(ctx, p, desired, inv, apply.Options{Dialer: dialer, Journal: j, StartedBy: "example"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("outcome:", res.Outcome)
	p, _ = planner.Live(ctx, planner.LiveOptions{Intent: inv, Desired: desired, Dialer: dialer, Journal: j, Concurrency: 0})
	fmt.Println("again:", p.Summary().HasChanges())
	// Output:
	// plan: 4 creates
	// outcome: applied
	// again: false
}
