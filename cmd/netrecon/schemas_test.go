package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/drivers/netsim"
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
	lab := labtest.NeedDevices(t, 2)
	devs := lab.Devices()
	noIPv6, ok := lab.Extra(labtest.NoIPv6)
	if !ok {
		labtest.Missing(t, "the lab needs the extra %s (lab.sh up 2)", labtest.NoIPv6)
		return
	}
	dir := copyExample(t)
	// Every module is fetched from the lab but ietf-netconf: yuma123 2.13
	// crashes on the second <get-schema> of it in a server's life, and the
	// lab's devices outlive one test run. An earlier fetch's copy in the
	// folder is what fetch reuses instead of asking (FetchOptions.Have).
	ietf := filepath.Join(dir, "schemas", "ietf")
	if err := os.RemoveAll(ietf); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(ietf, 0o755); err != nil {
		t.Fatal(err)
	}
	nc, err := os.ReadFile("../../intent-example/schemas/ietf/ietf-netconf@2011-06-01.yang")
	if err != nil {
		t.Fatal(err)
	}
	seed := "platform: ietf\ndevices: [pe1-tyo, pe2-osa]\nmodules:\n  - name: ietf-netconf\n    revision: \"2011-06-01\"\n    file: ietf-netconf@2011-06-01.yang\n"
	if err := os.WriteFile(filepath.Join(ietf, "index.yaml"), []byte(seed), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ietf, "ietf-netconf@2011-06-01.yang"), nc, 0o644); err != nil {
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

// schemas fetch against simulated devices with yuma123's two RFC 6022
// quirks on: the submodule the list leaves out is fetched all the same, and
// a module the device cannot serve is a warning, not a failed device.
func TestSchemasFetchSimYumaQuirks(t *testing.T) {
	sim, dir := simRepo(t, "pe1", "pe2")
	read := func(f string) string {
		b, err := os.ReadFile(filepath.Join("../../intent-example/schemas/ietf", f))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	schemas := []netsim.Schema{
		{Identifier: "ietf-inet-types", Version: "2013-07-15", Namespace: "urn:ietf:params:xml:ns:yang:ietf-inet-types", Text: read("ietf-inet-types@2013-07-15.yang")},
		{Identifier: "ietf-ipv6-unicast-routing", Version: "2016-11-04", Namespace: "urn:ietf:params:xml:ns:yang:ietf-ipv6-unicast-routing", Text: read("ietf-ipv6-unicast-routing@2016-11-04.yang")},
		{Identifier: "ietf-ipv6-router-advertisements", Version: "2016-11-04", Submodule: true, Text: read("ietf-ipv6-router-advertisements@2016-11-04.yang")},
	}
	for _, d := range sim.Devices() {
		d.ServeSchemas(schemas)
		d.UnlistedSubmodules(true)
		d.SchemaNotFoundAsOperationFailed(true)
	}
	state := t.TempDir()
	if code, out, errs := netrecon(t, "hostkeys", "fetch", dir, "--state", state); code != 0 {
		t.Fatalf("hostkeys: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs := netrecon(t, "schemas", "fetch", dir, "--state", state)
	if code != 0 || !strings.Contains(out, "platform ietf: 3 modules from 2 devices") {
		t.Fatalf("fetch: exit %d\n%s%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "schemas", "ietf", "ietf-ipv6-router-advertisements@2016-11-04.yang")); err != nil {
		t.Errorf("the unlisted submodule was not fetched: %v", err)
	}
	// The module imports ietf-routing, ietf-interfaces and ietf-ip, which
	// these devices do not serve: said, once per device (with the answer of
	// whichever device was asked: a module is read once per platform), and
	// not fatal.
	if !strings.Contains(errs, "pe1: module ietf-routing left out of the index: ") || !strings.Contains(errs, "get-schema ietf-routing: operation-failed") || strings.Contains(errs, "not fetched") {
		t.Errorf("want warnings for the unserved imports, no failed device:\n%s", errs)
	}
}

// A module already in the folder is not read again: yuma123 crashes on the
// second <get-schema> of ietf-netconf, so fetching twice must not ask twice
// (the simulator's knob drops the connection as the crash does).
func TestSchemasFetchTwiceAsksOnce(t *testing.T) {
	sim, dir := simRepo(t, "pe1")
	b, err := os.ReadFile("../../intent-example/schemas/ietf/ietf-inet-types@2013-07-15.yang")
	if err != nil {
		t.Fatal(err)
	}
	d := sim.Device("pe1")
	d.ServeSchemas([]netsim.Schema{{Identifier: "ietf-inet-types", Version: "2013-07-15", Namespace: "urn:ietf:params:xml:ns:yang:ietf-inet-types", Text: string(b)}})
	d.DropOnRepeatedGetSchema("ietf-inet-types")
	state := t.TempDir()
	if code, out, errs := netrecon(t, "hostkeys", "fetch", dir, "--state", state); code != 0 {
		t.Fatalf("hostkeys: exit %d\n%s%s", code, out, errs)
	}
	var first string
	for i := range 2 {
		code, out, errs := netrecon(t, "schemas", "fetch", dir, "--state", state)
		if code != 0 {
			t.Fatalf("fetch %d: exit %d\n%s%s", i+1, code, out, errs)
		}
		idx, err := os.ReadFile(filepath.Join(dir, "schemas", "ietf", "index.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = string(idx)
		} else if string(idx) != first {
			t.Errorf("the second fetch changed the index:\n%s\nwas\n%s", idx, first)
		}
	}
	// The knob drops the connection at a second get-schema of
	// ietf-inet-types, which would have failed the second fetch.
}
