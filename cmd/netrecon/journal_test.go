package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/reconcile/journal"
)

// A journal that netrecon used, now empty: plan, apply and history refuse
// it instead of reading nothing as "netrecon owns nothing".
func TestLostJournalRefused(t *testing.T) {
	state := t.TempDir()
	jp := journalPath(state)
	j, err := journal.Open(context.Background(), jp)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(jp, 0); err != nil {
		t.Fatal(err)
	}
	repo := copyExample(t)
	for _, args := range [][]string{
		{"plan", repo, "--state", state},
		{"apply", repo, "--state", state, "--auto-approve"},
		{"history", "--state", state},
	} {
		code, _, stderr := netrecon(t, args...)
		if code != 1 || !strings.Contains(stderr, "missing or empty") || !strings.Contains(stderr, "aside") {
			t.Errorf("%v: exit %d, stderr %q: want 1 and the lost-journal message", args, code, stderr)
		}
	}
	if fi, err := os.Stat(jp); err != nil || fi.Size() != 0 {
		t.Errorf("journal changed: %v %v", fi, err)
	}
}

// The daemon's mirror in a CLI state folder is a sign of use too.
func TestMissingJournalBesideMirrorRefused(t *testing.T) {
	state := t.TempDir()
	if err := os.Mkdir(filepath.Join(state, "mirror"), 0o700); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := netrecon(t, "plan", copyExample(t), "--state", state)
	if code != 1 || !strings.Contains(stderr, "missing or empty") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// The CLI uses a credential file that its group or others may read, with a
// warning that names it, its mode and the fix.
func TestInsecureCredentialFileWarned(t *testing.T) {
	repo := copyExample(t)
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"japan.yaml", "singapore.yaml"} {
		p := filepath.Join(repo, "inventory", f)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(b), "passwordEnv: NETRECON_PASSWORD", "passwordFile: "+pw)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	state := t.TempDir()
	// No host key is known: the dial reads the credentials, then refuses.
	if err := os.WriteFile(filepath.Join(state, "known_hosts"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, stderr := netrecon(t, "plan", repo, "--state", state, "--dial-timeout", "1s")
	want := "warning: credential file " + pw + " has mode 0644: its group or others may access it; run chmod 600 " + pw
	if strings.Count(stderr, want) != 1 {
		t.Errorf("stderr %q: want the warning once:\n%s", stderr, want)
	}
}
