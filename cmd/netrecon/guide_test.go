package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/reconcile/plan"
)

// singleDashOut is "-out" with one dash as a command line would pass it
// (quoted in prose, as README explains the refusal, it is not an example).
var singleDashOut = regexp.MustCompile(`(^|\s)-out(\s|=|$)`)

// "-out FILE" read as "-o ut" failed with an error about neither; it is
// refused with the flag as meant, and the docs spell it --out.
func TestSingleDashLongFlag(t *testing.T) {
	code, _, errs := netrecon(t, "plan", "../../intent-example", "-out", "p.plan")
	if code != 2 || !strings.Contains(errs, "-out: long flags take two dashes: --out (with one dash it would read as -o ut, the --output flag)") {
		t.Errorf("exit %d: %s", code, errs)
	}
	code, _, errs = netrecon(t, "history", "show", "1", "-state=x")
	if code != 2 || !strings.Contains(errs, "--state=x") || !strings.Contains(errs, "netrecon history show --help") {
		t.Errorf("-state=x: exit %d: %s", code, errs)
	}
	// Shorthands stay as they were.
	if code, out, errs := netrecon(t, "validate", "../../intent-example", "-ojson"); code != 0 || !strings.Contains(out, `"valid": true`) {
		t.Errorf("-ojson: exit %d: %s%s", code, out, errs)
	}
	_, help, _ := netrecon(t, "plan", "--help")
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"plan --help": help, "README.md": string(readme)} {
		if !strings.Contains(text, "--out") {
			t.Errorf("%s does not mention --out", name)
		}
		if m := singleDashOut.FindString(text); m != "" {
			t.Errorf("%s says %q: it is --out", name, m)
		}
	}
}

// Without host keys, apply says which command records them, and leaves no
// state behind: no folder, no journal.
func TestApplyWithoutHostKeys(t *testing.T) {
	repo := copyExample(t)
	state := filepath.Join(t.TempDir(), "state")
	for _, verb := range []string{"apply", "plan"} {
		code, out, errs := netrecon(t, verb, repo, "--state", state, "--auto-approve")
		if verb == "plan" {
			code, out, errs = netrecon(t, verb, repo, "--state", state)
		}
		if code != 1 || !strings.Contains(errs, "no host keys: "+filepath.Join(state, "known_hosts")+" does not exist") ||
			!strings.Contains(errs, "netrecon hostkeys fetch "+repo+" --state "+state+"\n") {
			t.Errorf("%s: exit %d\n%s%s", verb, code, out, errs)
		}
		if _, err := os.Stat(state); !os.IsNotExist(err) {
			t.Fatalf("%s left the state folder behind: %v", verb, err)
		}
	}
	// A known_hosts without one of the devices: apply names it, and the
	// command records just that one.
	os.MkdirAll(state, 0o700)
	kh := "[127.0.0.1]:8301 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBhOF2e3Xp8c9sJ2tX+7g1o8xg3R4m1c0t4hG0g6h4mq\n" +
		"[127.0.0.1]:8303 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBhOF2e3Xp8c9sJ2tX+7g1o8xg3R4m1c0t4hG0g6h4mq\n"
	if err := os.WriteFile(filepath.Join(state, "known_hosts"), []byte(kh), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := netrecon(t, "apply", repo, "--state", state, "--auto-approve")
	if code != 1 || !strings.Contains(errs, "no host key for pe2-osa in ") || !strings.Contains(errs, "netrecon hostkeys fetch "+repo+" --state "+state+" --devices pe2-osa") {
		t.Errorf("exit %d\n%s%s", code, out, errs)
	}
	if _, err := os.Stat(journalPath(state)); !os.IsNotExist(err) {
		t.Errorf("apply left a journal behind: %v", err)
	}
}

// The hint after a saved plan is the exact command that applies it: with the
// repo and the state folder, and it works as printed.
func TestSavedPlanHint(t *testing.T) {
	is := newInterruptSim(t)
	state := filepath.Join(t.TempDir(), "state with space")
	if code, out, errs := netrecon(t, "hostkeys", "fetch", is.repo, "--state", state); code != 0 {
		t.Fatalf("hostkeys fetch into a new state folder: exit %d\n%s%s", code, out, errs)
	}
	file := filepath.Join(t.TempDir(), "p.plan")
	code, out, errs := netrecon(t, "plan", is.repo, "--state", state, "--out", file, "--rpc-timeout", "20s")
	if code != 2 {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errs)
	}
	want := "netrecon apply " + file + " --dir " + is.repo + " --rpc-timeout 20s --state '" + state + "'"
	if !strings.Contains(errs, "apply exactly it with:\n  "+want+"\n") {
		t.Fatalf("hint does not say %q:\n%s", want, errs)
	}
	args := append(shellSplit(t, strings.TrimPrefix(want, "netrecon ")), "--auto-approve")
	code, out, errs = netrecon(t, args...)
	if code != 0 || !strings.Contains(out, "Applied 12 changes on 2 devices in ") {
		t.Errorf("the hint's command: exit %d\n%s%s", code, out, errs)
	}

	// The run came from a folder outside Git: its commit reads "worktree",
	// never a blank; and history show shows what the run changed.
	_, out, _ = netrecon(t, "history", "--state", state)
	if !regexp.MustCompile(`(?m)^1 +\S+ \S+ +cli:\S+ +worktree +2 +applied +applied 12 changes on 2 devices in `).MatchString(out) {
		t.Errorf("history:\n%s", out)
	}
	_, out, _ = netrecon(t, "history", "show", "1", "--state", state)
	for _, want := range []string{"intent commit  worktree", "pe1: confirmed", "  planned: 6 changes\n    + /interfaces/interface[name=ge-9/9/9.42]  # crash-42-pe1\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("history show lacks %q:\n%s", want, out)
		}
	}
}

// shellSplit splits a command line the way shellJoin quotes it.
func shellSplit(t *testing.T, line string) []string {
	t.Helper()
	var out []string
	var cur strings.Builder
	quoted, any := false, false
	for _, r := range line {
		switch {
		case r == '\'':
			quoted, any = !quoted, true
		case r == ' ' && !quoted:
			if any {
				out = append(out, cur.String())
			}
			cur.Reset()
			any = false
		default:
			cur.WriteRune(r)
			any = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quote in %q", line)
	}
	if any {
		out = append(out, cur.String())
	}
	return out
}

func TestIntentRef(t *testing.T) {
	for _, tc := range []struct {
		src  plan.Source
		want string
	}{
		{plan.Source{}, "worktree"},
		{plan.Source{Rev: "HEAD", Commit: "abc123"}, "abc123"},
		{plan.Source{Rev: "HEAD", Commit: "abc123", Dirty: []string{"services/a.yaml"}}, "worktree abc123+dirty"},
	} {
		if got := intentRef(tc.src); got != tc.want {
			t.Errorf("intentRef(%+v) = %q, want %q", tc.src, got, tc.want)
		}
	}
}
