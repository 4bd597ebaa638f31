package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/reconcile/daemon"
)

func TestOnceExitCodes(t *testing.T) {
	for _, tc := range []struct {
		p    daemon.PassStatus
		code int
		want string
	}{
		{daemon.PassStatus{ID: "p-1", Finished: now(), Applied: []string{"pe1"}}, 0, ""},
		{daemon.PassStatus{ID: "p-1", Finished: now(), Error: "fetch: boom"}, 1, "fetch: boom"},
		{daemon.PassStatus{ID: "p-1", Finished: now(), Failed: []string{"pe2"}, Deferred: []string{"pe1"}}, 1, "failed: pe2"},
		{daemon.PassStatus{ID: "p-1", Finished: now(), Deferred: []string{"pe1"}, Drift: []string{"pe3"}}, 3, "deferred by a guard: pe1"},
		{daemon.PassStatus{ID: "p-1", Finished: now(), Drift: []string{"pe3"}}, 4, "drift reported"},
	} {
		err := onceExit(&tc.p)
		code := 0
		if ee, ok := err.(*exitError); ok {
			code = ee.code
		}
		if code != tc.code || (tc.want != "" && !strings.Contains(fmt.Sprint(err), tc.want)) {
			t.Errorf("%+v: exit %d (%v), want %d %q", tc.p, code, err, tc.code, tc.want)
		}
	}
}

// freePort returns a loopback port nobody listens on now, below the
// ephemeral range (see freePorts).
func freePort(t *testing.T) int {
	t.Helper()
	return freePorts(t, 1)
}

// simSetup is an intent repo (a copy of intent-example, in Git, on free
// ports) served by `netrecon sim`, and a daemon config file that follows it.
type simSetup struct {
	repo, cfg, state string
	git              func(args ...string)
}

func newSimSetup(t *testing.T, maintenance bool, extra string) *simSetup {
	t.Helper()
	s := &simSetup{repo: copyExample(t)}
	ports := regexp.MustCompile(`port: \d+`)
	for _, f := range []string{"inventory/japan.yaml", "inventory/singapore.yaml"} {
		p := filepath.Join(s.repo, f)
		b, _ := os.ReadFile(p)
		inv := ports.ReplaceAllStringFunc(string(b), func(string) string { return fmt.Sprintf("port: %d", freePort(t)) })
		if maintenance && f == "inventory/japan.yaml" {
			inv = strings.Replace(inv, "    site: tokyo\n", "    site: tokyo\n    maintenance: true\n", 1)
		}
		os.WriteFile(p, []byte(inv), 0o644)
	}
	s.git = func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = s.repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.net", "GIT_COMMITTER_NAME=t",
			"GIT_COMMITTER_EMAIL=t@example.net", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	s.git("init", "-q", "-b", "main")
	s.git("add", "-A")
	s.git("commit", "-q", "-m", "intent")
	sim := t.TempDir()
	run := runSimCmd(t, "--inventory", s.repo, "--state", sim)
	waitFile(t, run, filepath.Join(sim, "known_hosts"))
	waitFile(t, run, filepath.Join(sim, "credentials.env"))
	s.state = t.TempDir()
	s.cfg = filepath.Join(t.TempDir(), "serve.yaml")
	os.WriteFile(s.cfg, []byte(fmt.Sprintf("repo: {path: %s}\nstate_dir: %s\nknown_hosts: %s\ncredentials: {env_file: %s}\nconfirm_timeout: 30s\n%s",
		s.repo, s.state, filepath.Join(sim, "known_hosts"), filepath.Join(sim, "credentials.env"), extra)), 0o600)
	return s
}

// Seen: serve --once exited 0 when a guard deferred the change.
func TestServeOnceDeferredExitsThree(t *testing.T) {
	s := newSimSetup(t, true, "")
	code, _, errs := serve(t, "--config", s.cfg, "--once", "--log-level", "error")
	if code != 3 || !strings.Contains(errs, "deferred by a guard: pe1-tyo") {
		t.Fatalf("serve --once with pe1-tyo in maintenance: exit %d, want 3:\n%s", code, errs)
	}
	p := filepath.Join(s.repo, "inventory/japan.yaml")
	b, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.Replace(string(b), "    maintenance: true\n", "", 1)), 0o644)
	s.git("commit", "-q", "-am", "pe1-tyo back from maintenance")
	if code, _, errs := serve(t, "--config", s.cfg, "--once", "--log-level", "error"); code != 0 {
		t.Fatalf("serve --once after maintenance: exit %d, want 0:\n%s", code, errs)
	}
}

func now() time.Time { return time.Now() }
