package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// netrecon runs the CLI in-process and returns its exit status and output.
func netrecon(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(&app{stdout: &out, stderr: &errb, stdin: strings.NewReader("")}, args)
	return code, out.String(), errb.String()
}

func copyExample(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../intent-example")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestValidateExitStatus(t *testing.T) {
	bad := copyExample(t)
	p := filepath.Join(bad, "services/acme/acme-tokyo-hq.yaml")
	b, _ := os.ReadFile(p)
	os.WriteFile(p, append(b, []byte("bogus: 1\n")...), 0o644)

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"valid", []string{"validate", "../../intent-example"}, 0, "The intent is valid"},
		{"invalid", []string{"validate", bad}, 1, "services/acme/acme-tokyo-hq.yaml:"},
		{"invalid json", []string{"validate", bad, "-o", "json"}, 1, `"valid": false`},
		{"invalid github", []string{"validate", bad, "--output", "github"}, 1, "::error file=services/acme/acme-tokyo-hq.yaml,line="},
		{"missing dir", []string{"validate", filepath.Join(t.TempDir(), "nope")}, 2, "open intent repo"},
		{"bad format", []string{"validate", "-o", "yaml"}, 2, "Supported formats"},
		{"unknown flag", []string{"validate", "--nope"}, 2, "unknown flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := netrecon(t, tc.args...)
			if code != tc.code || !strings.Contains(out+errs, tc.want) {
				t.Errorf("exit %d, want %d; output lacks %q:\n%s%s", code, tc.code, tc.want, out, errs)
			}
		})
	}
}

func TestRenderDevice(t *testing.T) {
	code, out, errs := netrecon(t, "render", "../../intent-example", "--device", "pe1-tyo", "--owners")
	if code != 0 || !strings.Contains(out, "<interfaces") || !strings.Contains(out, "<!-- owners:") {
		t.Fatalf("exit %d:\n%s%s", code, out, errs)
	}
	code, _, errs = netrecon(t, "render", "../../intent-example", "--device", "nope")
	if code != 1 || !strings.Contains(errs, "Devices are") {
		t.Errorf("unknown device: exit %d, %s", code, errs)
	}
}

// The plan's exit status is Terraform's detailed exit code: 0 none, 2 changes, 1 error.
func TestPlanExitStatus(t *testing.T) {
	dir := copyExample(t)
	g := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	g("init", "-q", "-b", "main")
	g("add", "-A")
	g("commit", "-q", "-m", "base")
	if err := os.Remove(filepath.Join(dir, "services/hooli/hooli-tokyo.yaml")); err != nil {
		t.Fatal(err)
	}
	g("commit", "-q", "-am", "hooli leaves tokyo")

	code, out, errs := netrecon(t, "plan", dir, "--base", "HEAD", "--head", "HEAD")
	if code != 0 || !strings.Contains(out, "No changes.") {
		t.Errorf("same revision: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = netrecon(t, "plan", dir, "--base", "HEAD~1", "--head", "HEAD")
	if code != 2 || !strings.Contains(out, "to destroy") || !strings.Contains(out, "hooli-tokyo") || strings.Contains(out, "\n  +") {
		t.Errorf("removal: exit %d, want 2 and only deletions of hooli-tokyo\n%s%s", code, out, errs)
	}
	code, _, errs = netrecon(t, "plan", dir, "--base", "nope")
	if code != 1 || !strings.Contains(errs, "unknown revision") {
		t.Errorf("unknown base: exit %d, %s", code, errs)
	}
	code, _, errs = netrecon(t, "plan", dir, "--head", "HEAD")
	if code != 1 || !strings.Contains(errs, "--head needs --base") {
		t.Errorf("head without base: exit %d, %s", code, errs)
	}
}

func TestHelpListsVerbs(t *testing.T) {
	code, out, _ := netrecon(t, "help")
	for _, verb := range []string{"validate", "render", "plan", "comment", "sim", "version"} {
		if !strings.Contains(out, verb) {
			t.Errorf("help does not list %s", verb)
		}
	}
	if code != 0 {
		t.Errorf("exit %d", code)
	}
}
