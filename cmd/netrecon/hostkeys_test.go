package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/drivers/netsim"
)

// simRepo starts simulated devices and writes an intent repo whose inventory
// points at them, with no services.
func simRepo(t *testing.T, names ...string) (*netsim.Sim, string) {
	t.Helper()
	var specs []netsim.DeviceSpec
	for _, n := range names {
		specs = append(specs, netsim.DeviceSpec{Name: n, Platform: "ietf"})
	}
	sim, err := netsim.Start(context.Background(), netsim.Options{Devices: specs, Username: "netrecon", Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("apiVersion: netrecon.io/v1\nkind: Inventory\ndevices:\n")
	for _, d := range sim.Devices() {
		fmt.Fprintf(&b, "  - name: %s\n    platform: ietf\n    address: %s\n    port: %d\n    site: lab\n    role: pe\n    credentials:\n      username: netrecon\n      passwordEnv: NETRECON_TEST_PASSWORD\n", d.Name, d.Address, d.Port)
	}
	os.MkdirAll(filepath.Join(dir, "inventory"), 0o755)
	os.MkdirAll(filepath.Join(dir, "services"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "inventory", "lab.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NETRECON_TEST_PASSWORD", "s3cret")
	return sim, dir
}

func TestHostkeysFetch(t *testing.T) {
	sim, dir := simRepo(t, "pe1", "pe2")
	state := t.TempDir()
	code, out, errs := netrecon(t, "hostkeys", "fetch", dir, "--state", state)
	if code != 0 || !strings.Contains(out, "recorded 2 host keys") || !strings.Contains(out, "SHA256:") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	kh, _ := os.ReadFile(filepath.Join(state, "known_hosts"))
	if n := strings.Count(string(kh), "\n"); n != 2 {
		t.Errorf("known_hosts has %d lines, want 2:\n%s", n, kh)
	}

	code, out, _ = netrecon(t, "hostkeys", "fetch", dir, "--state", state)
	if code != 0 || strings.Count(out, "already known") != 2 {
		t.Errorf("second fetch: exit %d\n%s", code, out)
	}

	// A changed key is never trusted silently.
	if err := sim.Device("pe2").RotateHostKey(); err != nil {
		t.Fatal(err)
	}
	code, _, errs = netrecon(t, "hostkeys", "fetch", dir, "--state", state)
	if code != 1 || !strings.Contains(errs, "the key changed") {
		t.Errorf("rotated key: exit %d\n%s", code, errs)
	}
	code, out, errs = netrecon(t, "hostkeys", "fetch", dir, "--state", state, "--devices", "pe2", "--replace")
	if code != 0 || !strings.Contains(out, "recorded 1 host key in ") {
		t.Errorf("--replace: exit %d\n%s%s", code, out, errs)
	}
	kh, _ = os.ReadFile(filepath.Join(state, "known_hosts"))
	if n := strings.Count(string(kh), "\n"); n != 2 {
		t.Errorf("after --replace known_hosts has %d lines, want 2:\n%s", n, kh)
	}
}
