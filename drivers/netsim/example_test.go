package netsim_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netsim"
)

// Start two devices, seed one with a hand-made running configuration, and
// make its commits fail, as a test of the apply path would.
func ExampleStart() {
	sim, err := netsim.Start(context.Background(), netsim.Options{
		Devices: []netsim.DeviceSpec{
			{Name: "pe1", Platform: "ietf"},
			{Name: "pe2", Platform: "junos"},
		},
		Username: "netrecon",
		Password: "only-for-this-example",
		Keys: func(string) configtree.Keys {
			return configtree.Keys{"/interfaces/interface": {"name"}}
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sim.Close()

	pe1 := sim.Device("pe1")
	running, _ := configtree.Parse(strings.NewReader(
		`<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces"><interface><name>ge-0/0/1</name></interface></interfaces>`),
		"seed", configtree.Keys{"/interfaces/interface": {"name"}})
	pe1.SetRunning(running)
	pe1.RejectCommit("commit check failed")

	for _, d := range sim.Devices() {
		fmt.Println(d.Name, d.Platform, d.Address, d.Port > 0)
	}
	fmt.Println(strings.Count(string(sim.KnownHosts()), "\n"), "known_hosts lines")
	fmt.Println(pe1.Running().Len(), "nodes in pe1's running")
	// Output:
	// pe1 ietf 127.0.0.1 true
	// pe2 junos 127.0.0.1 true
	// 2 known_hosts lines
	// 3 nodes in pe1's running
}
