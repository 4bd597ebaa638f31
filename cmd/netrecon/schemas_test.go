package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/lab/labtest"
)

// labInventory points the example's two ietf PEs at lab devices.
func labInventory(t *testing.T, dir string, lab *labtest.Lab, pe1, pe2 labtest.Device) {
	t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: netrecon.io/v1\nkind: Inventory\ndevices:\n")
	for _, d := range []struct {
		name string
		dev  labtest.Device
	}{{"pe1-tyo", pe1}, {"pe2-osa", pe2}} {
		fmt.Fprintf(&b, "  - name: %s\n    platform: ietf\n    address: %s\n    port: %d\n    credentials:\n      username: %s\n      keyFile: %s\n",
			d.name, d.dev.Address, d.dev.Port, lab.Username(), lab.KeyFile())
	}
	if err := os.WriteFile(filepath.Join(dir, "inventory", "japan.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// schemas fetch against the lab's netconfd: with the lab's usual module set
// it yields exactly the modules committed in intent-example (so the offline
// tests check what a real device serves) and the example validates; with
// pe2-osa on a server without ietf-ipv6-unicast-routing, fetch reports the
// devices disagree and validate fails on pe2-osa's IPv6 static routes,
// naming the missing module.
func TestSchemasFetchLab(t *testing.T) {
	lab := labtest.Load(t)
	devs := lab.Devices()
	noIPv6, ok := lab.Extra(labtest.NoIPv6)
	if len(devs) < 2 || !ok {
		labtest.Missing(t, "the lab needs 2 devices and the extra %s (lab.sh up 2)", labtest.NoIPv6)
		return
	}
	dir := copyExample(t)
	if err := os.RemoveAll(filepath.Join(dir, "schemas")); err != nil {
		t.Fatal(err)
	}
	fetch := func() (int, string, string) {
		return netrecon(t, "schemas", "fetch", dir, "--platform", "ietf", "--known-hosts", lab.KnownHosts(),
			"--settle-after-hello", "100ms", "--state", t.TempDir())
	}

	labInventory(t, dir, lab, devs[0], devs[1])
	code, out, errs := fetch()
	if code != 0 || !strings.Contains(out, "platform ietf: ") || strings.Contains(errs, "disagree") {
		t.Fatalf("fetch: exit %d\n%s%s", code, out, errs)
	}
	for _, f := range []string{"index.yaml", "ietf-ipv6-unicast-routing@2016-11-04.yang", "ietf-ipv6-router-advertisements@2016-11-04.yang"} {
		got, err := os.ReadFile(filepath.Join(dir, "schemas", "ietf", f))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("../../intent-example/schemas/ietf", f))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("schemas/ietf/%s fetched from the lab differs from intent-example's: fetch it again into intent-example", f)
		}
	}
	if code, out, errs := netrecon(t, "validate", dir); code != 0 || strings.Contains(out+errs, "error") {
		t.Fatalf("validate with the lab's modules: exit %d\n%s%s", code, out, errs)
	}

	labInventory(t, dir, lab, devs[0], noIPv6)
	code, out, errs = fetch()
	if code != 0 || !strings.Contains(errs, "devices disagree: ietf-ipv6-unicast-routing: absent on pe2-osa") {
		t.Fatalf("fetch with pe2-osa on %s: exit %d, want the disagreement reported\n%s%s", noIPv6.Name, code, out, errs)
	}
	code, out, errs = netrecon(t, "validate", dir)
	all := out + errs
	if code != 1 {
		t.Fatalf("validate with IPv6 routes on a device without the module: exit %d, want 1\n%s", code, all)
	}
	for _, want := range []string{
		"services/stark/stark-osaka-routes.yaml",
		`on device "pe2-osa", service "stark-osaka-routes"`,
		"the device has no module ietf-ipv6-unicast-routing",
		`service "umbrella-osaka-plant-routes"`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("validate output lacks %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, `on device "pe1-tyo"`) {
		t.Errorf("pe1-tyo has the module, yet:\n%s", all)
	}
}

// The same case offline, from committed files: the index says pe2-osa
// lacks ietf-ipv6-unicast-routing, and validate fails on its IPv6 routes.
func TestValidateIPv6WithoutTheModuleOffline(t *testing.T) {
	dir := copyExample(t)
	p := filepath.Join(dir, "schemas", "ietf", "index.yaml")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, mod := range []string{"ietf-ipv6-router-advertisements", "ietf-ipv6-unicast-routing"} {
		entry := "  - name: " + mod + "\n"
		if !strings.Contains(text, entry) {
			t.Fatalf("index lacks %s", mod)
		}
		text = strings.Replace(text, entry, entry+"    devices: [pe1-tyo]\n", 1)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := netrecon(t, "validate", dir, "-o", "github")
	if code != 1 || !strings.Contains(out, "::error file=services/stark/stark-osaka-routes.yaml,line=") ||
		!strings.Contains(out, "has no module ietf-ipv6-unicast-routing") {
		t.Errorf("exit %d, want 1 with an annotation on the service naming the module:\n%s%s", code, out, errs)
	}
}

func TestSchemasFetchFailures(t *testing.T) {
	dir := copyExample(t)
	code, _, errs := netrecon(t, "schemas", "fetch", dir, "--platform", "nope", "--state", t.TempDir())
	if code != 2 || !strings.Contains(errs, "no device of platform") {
		t.Errorf("unknown platform: exit %d\n%s", code, errs)
	}
	// The example's devices are simulated ones, not running here: each
	// fails, and nothing is written.
	if err := os.RemoveAll(filepath.Join(dir, "schemas")); err != nil {
		t.Fatal(err)
	}
	code, _, errs = netrecon(t, "schemas", "fetch", dir, "--platform", "ietf", "--devices", "pe1-tyo",
		"--state", t.TempDir(), "--known-hosts", filepath.Join(t.TempDir(), "known_hosts"), "--dial-timeout", "2s")
	if code != 1 || !strings.Contains(errs, "pe1-tyo: not fetched") {
		t.Errorf("unreachable device: exit %d\n%s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "schemas")); err == nil {
		t.Error("a fetch that read no device wrote schemas/")
	}
}
