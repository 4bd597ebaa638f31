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
