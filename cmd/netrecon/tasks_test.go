package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const newAccessService = `apiVersion: netrecon.io/v1
kind: internet-access
metadata:
  name: acme-inet
  customer: acme
  labels: {order: SO-2026-0999}
spec:
  device: pe1-tyo
  interface: ge-0/0/9
  vlan: 778
  ipv4: 100.64.78.1/30
  peer: 100.64.78.2
  prefixes: [198.18.0.0/28]
`

// netrecon tasks lists a new service's open step with its values, against
// the running daemon; netrecon tasks done marks it with a reference.
func TestTasksAgainstTheDaemon(t *testing.T) {
	tokens := t.TempDir()
	write := filepath.Join(tokens, "ops.token")
	os.WriteFile(write, []byte("ops-token\n"), 0o600)
	port := freePort(t)
	s := newSimSetup(t, false, fmt.Sprintf("listen: 127.0.0.1:%d\npoll_interval: 1h\napi:\n  tokens:\n    - {name: ops, file: %s, scope: write}\n", port, write))
	url := runServe(t, s.cfg, port)
	os.WriteFile(filepath.Join(s.repo, "services/acme/acme-inet.yaml"), []byte(newAccessService), 0o644)
	s.git("add", "-A")
	s.git("commit", "-q", "-m", "a new access")
	req, _ := http.NewRequest("POST", url+"/api/v1/runs", nil)
	req.Header.Set("Authorization", "Bearer ops-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var out string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var code int
		code, out, _ = netrecon(t, "tasks", "--daemon", url, "--token-file", write)
		if code == 0 && strings.Contains(out, "acme-inet / jpnic-registration") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new service's step not listed within 30 s:\n%s", out)
		}
	}
	for _, want := range []string{"1 manual step open", "not configured until it is done", "network_name   ACME-INET", "address_block  198.18.0.0/28", "order          SO-2026-0999"} {
		if !strings.Contains(out, want) {
			t.Errorf("tasks lacks %q:\n%s", want, out)
		}
	}
	if code, _, errs := netrecon(t, "tasks", "done", "acme-inet", "jpnic-registration", "--daemon", url, "--token-file", write); code != 2 || !strings.Contains(errs, "--ref") {
		t.Errorf("done without --ref: exit %d: %s", code, errs)
	}
	code, out, errs := netrecon(t, "tasks", "done", "acme-inet", "jpnic-registration", "--ref", "JPNIC-R-1", "--as", "alice", "--daemon", url, "--token-file", write)
	if code != 0 || !strings.Contains(out, "done by alice, ref JPNIC-R-1") {
		t.Fatalf("done: exit %d\n%s%s", code, out, errs)
	}
	if code, out, _ := netrecon(t, "tasks", "--daemon", url, "--token-file", write); code != 0 || !strings.Contains(out, "0 manual steps open") {
		t.Errorf("after done: exit %d\n%s", code, out)
	}
}

// netrecon apply holds a service whose manual step is open, as the daemon
// does, and says so in its plan; marked done in the same journal, the next
// apply configures it.
func TestApplyHoldsServiceWithOpenStep(t *testing.T) {
	state := t.TempDir()
	run := runSimCmd(t, "--inventory", "../../intent-example", "--base-port", strconv.Itoa(freePorts(t, 3)), "--state", state)
	waitFile(t, run, filepath.Join(state, "known_hosts"))
	repo := exampleOnSim(t, run, state)
	t.Setenv("STARK_SINGAPORE_TRANSIT_KEY", "sim-test-key") // the example's BGP session key
	apply := func(what string) string {
		t.Helper()
		code, out, errs := netrecon(t, "apply", repo, "--state", state, "--auto-approve")
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", what, code, out, errs)
		}
		return out
	}
	// The first apply is the journal's baseline: the services it meets
	// were there before their steps were tracked.
	if out := apply("first apply"); strings.Contains(out, "Held back") {
		t.Fatalf("first apply holds a service:\n%s", out)
	}
	if err := os.WriteFile(filepath.Join(repo, "services/acme/acme-inet.yaml"), []byte(newAccessService), 0o644); err != nil {
		t.Fatal(err)
	}
	out := apply("apply with the step open")
	for _, want := range []string{"No changes.", "Held back by manual steps", "acme-inet: jpnic-registration"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply with the step open lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ge-0/0/9") {
		t.Errorf("the held service's interface is planned:\n%s", out)
	}
	code, out, errs := netrecon(t, "tasks", "--state", state)
	if code != 0 || !strings.Contains(out, "acme-inet / jpnic-registration") || !strings.Contains(out, "not configured until it is done") {
		t.Fatalf("tasks --state: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = netrecon(t, "tasks", "done", "acme-inet", "jpnic-registration", "--ref", "JPNIC-R-2", "--as", "bob", "--state", state)
	if code != 0 || !strings.Contains(out, "done by bob, ref JPNIC-R-2") {
		t.Fatalf("tasks done --state: exit %d\n%s%s", code, out, errs)
	}
	out = apply("apply after done")
	if strings.Contains(out, "Held back") || !strings.Contains(out, "ge-0/0/9") || !strings.Contains(out, "Applied") {
		t.Errorf("apply after done does not configure acme-inet:\n%s", out)
	}
}
