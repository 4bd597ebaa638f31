package github

// plan-pr.sh's own logic (exit codes, the failure notes that replace a stale
// plan comment, the merge base) tested with a stand-in for netrecon, so it
// runs without the plan verb; workflow_test.go runs it with the real one.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/lab/labtest"
)

// stubNetrecon answers validate and plan with the exit codes in the
// environment and logs its arguments, one call a line, to $STUB_LOG.
const stubNetrecon = `#!/usr/bin/env bash
echo "$*" >> "$STUB_LOG"
case "$1" in
validate) echo "::error file=services/a.yaml,line=3,col=1::unknown field"; exit "${STUB_VALIDATE:-0}" ;;
plan)
  case "$*" in
  *"--output json"*) echo '{"format_version":"1.0"}' ;;
  *) printf '<!-- netrecon-plan -->\n### netrecon plan: 1 device, 0 to add, 1 to change, 0 to destroy\n' ;;
  esac
  exit "${STUB_PLAN:-2}" ;;
esac
exit 64
`

func TestPlanPRScriptLogic(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		labtest.Missing(t, "git not installed")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		labtest.Missing(t, "bash not installed")
	}
	root := repoRoot(t)
	dir := t.TempDir()
	stub := filepath.Join(dir, "netrecon")
	if err := os.WriteFile(stub, []byte(stubNetrecon), 0o755); err != nil {
		t.Fatal(err)
	}
	// A repo where main moved on after the pull request branched: the plan
	// must start from the merge base, not from main's tip.
	repo := filepath.Join(dir, "repo")
	if err := os.Mkdir(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	git := gitIn(t, repo)
	git("init", "-q")
	git("commit", "-q", "--allow-empty", "-m", "fork point")
	forkPoint := git("rev-parse", "HEAD")
	git("checkout", "-q", "-b", "pr")
	git("commit", "-q", "--allow-empty", "-m", "the change")
	head := git("rev-parse", "HEAD")
	git("checkout", "-q", "main")
	git("commit", "-q", "--allow-empty", "-m", "merged meanwhile")
	baseTip := git("rev-parse", "HEAD")

	tests := []struct {
		name          string
		validate      string
		plan          string
		wantExit      int
		wantMD        string
		wantPlanCalls int
	}{
		{name: "changes are success", validate: "0", plan: "2", wantExit: 0, wantMD: "1 to change", wantPlanCalls: 2},
		{name: "no changes are success", validate: "0", plan: "0", wantExit: 0, wantMD: "1 to change", wantPlanCalls: 2},
		{name: "invalid intent", validate: "1", plan: "2", wantExit: 1, wantMD: "the intent does not validate", wantPlanCalls: 0},
		{name: "plan error", validate: "0", plan: "1", wantExit: 1, wantMD: "planning failed", wantPlanCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			log := filepath.Join(t.TempDir(), "calls.log")
			summary := filepath.Join(t.TempDir(), "summary.md")
			cmd := exec.Command("bash", filepath.Join(root, ".github", "scripts", "plan-pr.sh"))
			cmd.Env = append(os.Environ(), "NETRECON="+stub, "INTENT_DIR="+repo, "BASE_SHA="+baseTip, "HEAD_SHA="+head,
				"OUT_DIR="+out, "STUB_LOG="+log, "STUB_VALIDATE="+tt.validate, "STUB_PLAN="+tt.plan,
				"GITHUB_STEP_SUMMARY="+summary, "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
			var stdout bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stdout
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantExit {
				t.Errorf("exit %d, want %d:\n%s", code, tt.wantExit, stdout.String())
			}
			if !strings.Contains(stdout.String(), "::error file=services/a.yaml") {
				t.Errorf("validate's annotations not passed through:\n%s", stdout.String())
			}
			md, err := os.ReadFile(filepath.Join(out, "plan.md"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(md), "<!-- netrecon-plan -->\n") || !strings.Contains(string(md), tt.wantMD) {
				t.Errorf("plan.md = %q, want the marker and %q", md, tt.wantMD)
			}
			if sum, _ := os.ReadFile(summary); !bytes.Equal(sum, md) {
				t.Errorf("job summary %q, want plan.md", sum)
			}
			calls, _ := os.ReadFile(log)
			var plans []string
			for _, line := range strings.Split(strings.TrimSpace(string(calls)), "\n") {
				if strings.HasPrefix(line, "plan ") {
					plans = append(plans, line)
				}
			}
			if len(plans) != tt.wantPlanCalls {
				t.Fatalf("plan called %d times, want %d: %q", len(plans), tt.wantPlanCalls, calls)
			}
			for _, p := range plans {
				if !strings.Contains(p, "--base "+forkPoint+" --head "+head) {
					t.Errorf("plan %q: want --base at the merge base %s, not main's tip", p, forkPoint[:12])
				}
			}
			if tt.wantPlanCalls == 2 {
				if js, err := os.ReadFile(filepath.Join(out, "plan.json")); err != nil || !strings.Contains(string(js), "format_version") {
					t.Errorf("plan.json = %q, %v", js, err)
				}
			}
		})
	}
}
