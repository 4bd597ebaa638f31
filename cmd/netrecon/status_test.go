package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/api"
)

// runServe runs `netrecon serve` until the test ends; it returns the
// daemon's URL once it is ready.
func runServe(t *testing.T, cfg string, port int) string {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := newServeCmd(&app{stdout: &out, stderr: &errb, stdin: strings.NewReader("")})
	cmd.SetArgs([]string{"--config", cfg, "--log-level", "error"})
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop within 30 s")
		}
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return url
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon not ready within 30 s: %s", errb.String())
		}
	}
}

func TestStatusDevicesServicesAndActionsAgainstTheDaemon(t *testing.T) {
	tokens := t.TempDir()
	write := filepath.Join(tokens, "ops.token")
	read := filepath.Join(tokens, "read.token")
	os.WriteFile(write, []byte("ops-token\n"), 0o600)
	os.WriteFile(read, []byte("read-token\n"), 0o600)
	port := freePort(t)
	s := newSimSetup(t, true, fmt.Sprintf("listen: 127.0.0.1:%d\npoll_interval: 1h\napi:\n  tokens:\n    - {name: ops, file: %s, scope: write}\n    - {name: viewer, file: %s, scope: read}\n", port, write, read))
	url := runServe(t, s.cfg, port)

	code, out, errs := netrecon(t, "status", "--daemon", url, "--token-file", read)
	if code != 0 || !strings.Contains(out, "NOT IN SYNC") || !strings.Contains(out, "pe1-tyo") || !strings.Contains(out, "maintenance") {
		t.Fatalf("status: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = netrecon(t, "status", "--daemon", url, "--token-file", read, "-o", "json")
	var st api.Status
	if err := json.Unmarshal([]byte(out), &st); code != 0 || err != nil || st.APIVersion != "v1" || st.DevicesByState[api.StateDeferred] != 1 {
		t.Fatalf("status -o json: exit %d, %v\n%s", code, err, out)
	}
	if code, _, errs := netrecon(t, "status", "--daemon", url); code != 1 || !strings.Contains(errs, "--token-file") {
		t.Errorf("status without a token: exit %d: %s", code, errs)
	}
	if code, _, errs := netrecon(t, "status"); code != 2 || !strings.Contains(errs, "--daemon") {
		t.Errorf("status without a daemon: exit %d: %s", code, errs)
	}

	code, out, errs = netrecon(t, "devices", s.repo)
	if code != 0 || !strings.Contains(out, "pe3-sin") || strings.Contains(out, "STATE") {
		t.Errorf("devices, intent only: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = netrecon(t, "devices", s.repo, "--daemon", url, "--token-file", read)
	if code != 0 || !strings.Contains(out, "deferred") || !strings.Contains(out, "applied") {
		t.Errorf("devices with the daemon: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = netrecon(t, "services", s.repo, "--daemon", url, "--token-file", read, "-o", "json")
	if code != 0 || !strings.Contains(out, `"live"`) || !strings.Contains(out, "acme-tokyo-hq") {
		t.Errorf("services with the daemon: exit %d\n%s%s", code, out, errs)
	}

	// Actions: a read token may not; a write token records who and why.
	if code, _, errs := netrecon(t, "pause", "pe2-osa", "--reason", "RMA", "--daemon", url, "--token-file", read); code != 1 || !strings.Contains(errs, "403") {
		t.Errorf("pause with a read token: exit %d: %s", code, errs)
	}
	if code, _, errs := netrecon(t, "pause", "pe2-osa", "--daemon", url, "--token-file", write); code != 2 || !strings.Contains(errs, "--reason") {
		t.Errorf("pause without a reason: exit %d: %s", code, errs)
	}
	code, out, errs = netrecon(t, "pause", "pe2-osa", "--reason", "RMA", "--as", "alice", "--daemon", url, "--token-file", write)
	if code != 0 || !strings.Contains(out, "pause recorded as action") || !strings.Contains(out, "alice") {
		t.Fatalf("pause: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = netrecon(t, "devices", s.repo, "pe2-osa", "--daemon", url, "--token-file", read)
	if code != 0 || !strings.Contains(out, "paused by alice: RMA") {
		t.Errorf("a paused device: exit %d\n%s", code, out)
	}
	code, out, errs = netrecon(t, "resume", "pe2-osa", "--reason", "done", "--daemon", url, "--token-file", write)
	if code != 0 || !strings.Contains(out, "Pass p-") {
		t.Errorf("resume: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = netrecon(t, "heal", "--all", "--reason", "try now", "--daemon", url, "--token-file", write)
	if code != 0 || !strings.Contains(out, "heal recorded") {
		t.Errorf("heal --all: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := netrecon(t, "ack", "99", "--reason", "x", "--daemon", url, "--token-file", write); code != 1 || !strings.Contains(errs, "no active alarm 99") {
		t.Errorf("ack of no alarm: exit %d: %s", code, errs)
	}
	if code, _, errs := netrecon(t, "accept-history", "--reason", "x", "--daemon", url, "--token-file", write); code != 2 || !strings.Contains(errs, "--commit") {
		t.Errorf("accept-history without a commit: exit %d: %s", code, errs)
	}
}
