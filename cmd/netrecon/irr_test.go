package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/drivers/irrsim"
	"github.com/netrecon/netrecon/rpsl"
	"github.com/netrecon/netrecon/schema"
)

func irrGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.net", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@example.net", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// netrecon irr sync on the example repo with a bgp-customer, against the
// simulated registries: the prefix list goes to netrecon's branch of a real
// remote; a registry that drops most of the set's routes is held (exit 3)
// and main is not touched.
func TestIRRSyncCommand(t *testing.T) {
	seed, err := os.ReadFile("../../drivers/irrsim/testdata/seed.rpsl")
	if err != nil {
		t.Fatal(err)
	}
	var dbs []irrsim.DatabaseOptions
	for _, name := range []string{"JPIRR", "RADB"} {
		dbs = append(dbs, irrsim.DatabaseOptions{Name: name, Seed: strings.ReplaceAll(string(seed), "source:         JPIRR", "source:         "+name)})
	}
	sim, err := irrsim.Start(context.Background(), irrsim.Options{Databases: dbs})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()

	dir := copyExample(t)
	filepath.WalkDir(filepath.Join(dir, "services"), func(p string, d os.DirEntry, err error) error {
		if b, _ := os.ReadFile(p); err == nil && !d.IsDir() && strings.Contains(string(b), "kind: bgp-customer") {
			os.Remove(p)
		}
		return nil
	})
	os.RemoveAll(filepath.Join(dir, "generated"))
	if _, builtin := schema.BuiltinSchema(schema.KindBGPCustomer); !builtin {
		if err := os.CopyFS(dir, os.DirFS("testdata/irr-sync")); err != nil {
			t.Fatal(err)
		}
	}
	var settings strings.Builder
	settings.WriteString("apiVersion: netrecon.io/v1\nkind: irr-settings\ndatabases:\n")
	for _, db := range sim.Databases() {
		fmt.Fprintf(&settings, "  - name: %s\n    whois: %s\n    submission: {email: {to: %s, from: irr@netrecon.test}}\n    maintainer: MAINT-NETRECON\n    auth: {password: {secret: \"env:NR_UNUSED\"}}\n",
			db.Name(), db.WhoisAddr(), db.SubmissionAddress())
	}
	settings.WriteString("sync: {max_shrink: 0.2, commit: branch}\n")
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(schema.IRRSettingsFile, settings.String())
	write("services/stark/stark-singapore-transit.yaml", `apiVersion: netrecon.io/v1
kind: bgp-customer
metadata:
  name: stark-singapore-transit
  customer: stark
spec:
  device: pe3-sin
  neighbor: 192.0.2.22
  customer_as: 132001
  import: AS-ACME
  max_prefix: 50
  provider_as_set: AS-NETRECON-CUSTOMERS
  irr_databases: [JPIRR, RADB]
`)
	remote := filepath.Join(t.TempDir(), "intent.git")
	irrGit(t, dir, "init", "-q", "-b", "main")
	irrGit(t, dir, "add", "-A")
	irrGit(t, dir, "commit", "-q", "-m", "intent")
	irrGit(t, dir, "init", "-q", "--bare", "-b", "main", remote)
	irrGit(t, dir, "remote", "add", "origin", remote)
	irrGit(t, dir, "push", "-q", "origin", "main")
	mainBefore := irrGit(t, remote, "rev-parse", "main")

	code, out, errOut := netrecon(t, "irr", "sync", dir)
	if code != 0 {
		t.Fatalf("irr sync: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "AS-ACME (JPIRR, RADB): +5 −0 prefixes, 5 now") || !strings.Contains(out, "on branch irr-sync") {
		t.Errorf("output:\n%s", out)
	}
	file := irrGit(t, remote, "show", "irr-sync:generated/irr/as-acme.yaml")
	if !strings.Contains(file, "object: AS-ACME\nsources: [JPIRR, RADB]\nipv4:\n  - \"192.0.2.0/24\"\n") {
		t.Errorf("generated file:\n%s", file)
	}
	// What the reviewer reads: the plan of the sync's branch against main
	// fills the customer's filter (deny-all until now), and nothing else.
	code, plan, errOut := netrecon(t, "plan", dir, "--base", "main", "--head", "irr-sync", "--no-cache")
	if code != 2 || !strings.Contains(plan, "1 device, 15 to add, 0 to change, 0 to destroy.") ||
		!strings.Contains(plan, "+ /configuration/policy-options/prefix-list[name=stark-singapore-transit-v4]/prefix-list-item[name=198.51.100.128/25]  # stark-singapore-transit") {
		t.Errorf("plan main..irr-sync: exit %d\n%s\n%s", code, plan, errOut)
	}
	// The list lands on main (as a reviewer's merge would put it there).
	irrGit(t, dir, "merge", "-q", "--ff-only", "irr-sync")
	irrGit(t, dir, "push", "-q", "origin", "main")

	// A customer registers one more route: the next sync's plan is exactly
	// that one prefix-list line.
	for _, db := range sim.Databases() {
		o, err := rpsl.ParseOne("route: 203.0.113.128/25\norigin: AS132002\nmnt-by: MAINT-ACME\nsource: " + db.Name() + "\n")
		if err != nil {
			t.Fatal(err)
		}
		db.Put(o)
	}
	if code, out, errOut := netrecon(t, "irr", "sync", dir); code != 0 {
		t.Fatalf("irr sync after a new route: exit %d\n%s\n%s", code, out, errOut)
	}
	code, plan, errOut = netrecon(t, "plan", dir, "--base", "main", "--head", "irr-sync", "--no-cache")
	want := "pe3-sin (junos)\n  + /configuration/policy-options/prefix-list[name=stark-singapore-transit-v4]/prefix-list-item[name=203.0.113.128/25]  # stark-singapore-transit\n\n1 device, 1 to add, 0 to change, 0 to destroy."
	if code != 2 || !strings.Contains(plan, want) {
		t.Errorf("plan after a new route: exit %d, want\n%s\ngot\n%s\n%s", code, want, plan, errOut)
	}
	irrGit(t, dir, "merge", "-q", "--ff-only", "irr-sync")
	irrGit(t, dir, "push", "-q", "origin", "main")
	mainBefore = irrGit(t, remote, "rev-parse", "main")

	for _, db := range sim.Databases() {
		o, err := rpsl.ParseOne("as-set: AS-ACME\nmembers: AS-ACME-SUB\nmnt-by: MAINT-ACME\nsource: " + db.Name() + "\n")
		if err != nil {
			t.Fatal(err)
		}
		db.Put(o)
	}
	code, out, errOut = netrecon(t, "irr", "sync", dir, "--commit", "direct")
	if code != 3 || !strings.Contains(out, "HOLD: AS-ACME loses 2 of its 6 prefixes") || !strings.Contains(errOut, "held for a person") {
		t.Fatalf("a shrink: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := irrGit(t, remote, "rev-parse", "main"); got != mainBefore {
		t.Error("a held sync moved main")
	}
	if code, out, _ := netrecon(t, "irr", "sync", dir, "--dry-run", "--max-shrink", "0.5"); code != 0 || !strings.Contains(out, "−2 prefixes") {
		t.Errorf("dry run under a 50%% limit: exit %d\n%s", code, out)
	}
}
