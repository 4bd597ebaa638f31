package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The example's bgp-customer names its session key by reference
// (env:STARK_SINGAPORE_TRANSIT_KEY). Against simulated routers: the plan
// (text, JSON, and markdown for the PR comment) shows the reference, apply sends the key, and neither the
// outputs, the logs nor any file of the state folder (the journal among
// them) holds the key. A changed key is drift that prints neither value; a
// reference that does not resolve fails the apply with the reason and
// changes nothing.
func TestSessionKeyNeverShown(t *testing.T) {
	const env, ref = "STARK_SINGAPORE_TRANSIT_KEY", "(secret env:STARK_SINGAPORE_TRANSIT_KEY)"
	const key, other = "k3y-0f-stark-7d1f", "an0ther-k3y-99a2"
	base := freePorts(t, 3)
	state := t.TempDir()
	run := runSimCmd(t, "--inventory", "../../intent-example", "--base-port", strconv.Itoa(base), "--state", state)
	repo := exampleOnSim(t, run, state)
	t.Setenv(env, key)

	var seen strings.Builder
	cmd := func(args ...string) (int, string) {
		t.Helper()
		code, out, errs := netrecon(t, args...)
		seen.WriteString(out + errs)
		return code, out + errs
	}
	// plan exits 2 when there are changes.
	code, out := cmd("plan", repo, "--state", state)
	if code != 2 || !strings.Contains(out, "authentication-key = "+strconv.Quote(ref)) {
		t.Fatalf("plan: exit %d; want the reference shown:\n%s", code, out)
	}
	for _, format := range []string{"json", "markdown"} {
		if code, out = cmd("plan", repo, "--state", state, "-o", format); code != 2 || !strings.Contains(out, ref) {
			t.Fatalf("plan -o %s: exit %d; want the reference shown:\n%s", format, code, out)
		}
	}
	if code, out = cmd("apply", repo, "--state", state, "--auto-approve"); code != 0 || !strings.Contains(out, "Applied 231 changes on 3 devices") {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	// The key went to the router: the next plan, comparing with it, finds
	// nothing to do.
	if code, out = cmd("plan", repo, "--state", state); code != 0 || !strings.Contains(out, "No changes. The devices match the intent.") {
		t.Fatalf("plan after apply: exit %d\n%s", code, out)
	}

	// Another key in the environment: drift on the one leaf, neither key
	// printed.
	t.Setenv(env, other)
	cmd("plan", repo, "--state", state, "-o", "json")
	code, out = cmd("plan", repo, "--state", state)
	if code != 2 || !strings.Contains(out, "authentication-key") || !strings.Contains(out, ref) || strings.Count(out, "\n  ~ ") != 1 {
		t.Fatalf("plan with another key: exit %d; want one change of the key:\n%s", code, out)
	}

	// A reference that does not resolve, in a change set with a change on
	// another device: apply fails, naming it, and nothing of the change set
	// is applied: the key stays, and so does pe1-tyo's old description.
	hq := filepath.Join(repo, "services", "acme", "acme-tokyo-hq.yaml")
	b, err := os.ReadFile(hq)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hq, []byte(strings.Replace(string(b), "circuit SO-2026-0142", "circuit SO-2026-0142, moved", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(env, "")
	code, out = cmd("apply", repo, "--state", state, "--auto-approve")
	if code == 0 || !strings.Contains(out, "secret env:"+env+": environment variable "+env+" is not set") {
		t.Fatalf("apply without the key: exit %d; want the reason:\n%s", code, out)
	}
	t.Setenv(env, key)
	code, out = cmd("plan", repo, "--state", state)
	if code != 2 || !strings.Contains(out, "moved") || strings.Count(out, "\n  ~ ") != 1 {
		t.Fatalf("plan after the failed apply: exit %d; want only the description still to change:\n%s", code, out)
	}

	// The simulated router keeps its datastore in the state folder too: it
	// must hold the key (what apply sent), and is the router's, not netrecon's.
	routers := filepath.Join(state, "sim")
	if b, err := os.ReadFile(filepath.Join(routers, "pe3-sin", "running.xml")); err != nil || !strings.Contains(string(b), key) {
		t.Errorf("pe3-sin's running configuration lacks the key (%v)", err)
	}
	for _, secret := range []string{key, other} {
		if strings.Contains(seen.String(), secret) {
			t.Errorf("a key appears in netrecon's output or logs:\n%s", seen.String())
		}
		err := filepath.WalkDir(state, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				if p == routers {
					return fs.SkipDir
				}
				return err
			}
			b, err := os.ReadFile(p)
			if err == nil && strings.Contains(string(b), secret) {
				t.Errorf("%s holds a session key", p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// The daemon's credentials file gives env: references their values before
// the environment does, as it gives device passwords.
func TestResolveSecretCredentialsFirst(t *testing.T) {
	t.Setenv("H16_BGP_KEY", "from-environment")
	c := dialConfig{}
	if v, err := c.resolveSecret("env:H16_BGP_KEY"); err != nil || v != "from-environment" {
		t.Errorf("without a credentials file: %q, %v", v, err)
	}
	c.creds.Env = map[string]string{"H16_BGP_KEY": "from-credentials"}
	if v, err := c.resolveSecret("env:H16_BGP_KEY"); err != nil || v != "from-credentials" {
		t.Errorf("with a credentials file: %q, %v", v, err)
	}
	if _, err := c.resolveSecret("env:H16_UNSET_KEY"); err == nil {
		t.Error("an unset reference resolved")
	}
}
