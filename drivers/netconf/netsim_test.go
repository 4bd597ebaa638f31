package netconf

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netsim"
)

// TestSimDevices holds the simulator to the device cases the lab's real
// servers pass (TestLabDevices).
func TestSimDevices(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const password = "sim-password"
	sim, err := netsim.Start(ctx, netsim.Options{
		Devices:  []netsim.DeviceSpec{{Name: "sim1", Platform: "ietf"}},
		Username: "netrecon",
		Password: password,
		Keys:     func(string) configtree.Keys { return testKeys },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	kh := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, kh, string(sim.KnownHosts()))
	d := sim.Devices()[0]
	// On from Start; said here because caseRemoveAbsent depends on it.
	d.RefuseRemoveOfEntryUnderAbsentParent(true)
	runDeviceCases(t, deviceEnv{
		Target: Target{Device: d.Name, Address: d.Address, Port: d.Port, Username: "netrecon", Auth: PasswordAuth(password), KnownHosts: kh},
		Opts:   []Option{WithKeys(testKeys), WithRPCTimeout(10 * time.Second)},
	})
}
