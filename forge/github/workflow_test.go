// This test runs the real plan-on-PR steps end to end with the real
// `netrecon plan` verb.

package github

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/lab/labtest"
	"go.yaml.in/yaml/v3"
)

// TestPlanPRScript builds netrecon, makes an intent repo with two commits
// (the example repo; the same minus one service) and runs
// .github/scripts/plan-pr.sh on them as the workflow does.
func TestPlanPRScript(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		labtest.Missing(t, "git not installed")
	}
	root := repoRoot(t)
	bin := filepath.Join(t.TempDir(), "netrecon")
	build := exec.Command("go", "build", "-o", bin, "./cmd/netrecon")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	repo := filepath.Join(t.TempDir(), "intent")
	if err := os.CopyFS(repo, os.DirFS(filepath.Join(root, "intent-example"))); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(repo, ".github")); err != nil {
		t.Fatal(err)
	}
	git := gitIn(t, repo)
	git("init", "-q")
	git("add", "-A")
	git("commit", "-q", "-m", "intent as in the example")
	base := git("rev-parse", "HEAD")

	file, name := firstService(t, repo)
	git("rm", "-q", file)
	git("commit", "-q", "-m", "cancel "+name)
	head := git("rev-parse", "HEAD")

	// The workflow gives the script a cache folder that actions/cache
	// restores and saves.
	cache := t.TempDir()
	out := t.TempDir()
	stdout, code := runPlanPR(t, root, bin, repo, base, head, out, cache)
	if code != 0 {
		t.Fatalf("plan-pr.sh exited %d:\n%s", code, stdout)
	}
	if segs, _ := filepath.Glob(filepath.Join(cache, "*.seg")); len(segs) == 0 {
		t.Errorf("plan-pr.sh left nothing in the document cache %s", cache)
	}
	// The next push's run, with the cache restored, writes the same files.
	again := t.TempDir()
	if stdout, code := runPlanPR(t, root, bin, repo, base, head, again, cache); code != 0 {
		t.Fatalf("plan-pr.sh with a warm cache exited %d:\n%s", code, stdout)
	}
	for _, f := range []string{"plan.md", "plan.json"} {
		if readOut(t, out, f) != readOut(t, again, f) {
			t.Errorf("%s differs with a warm cache:\n%s\n---\n%s", f, readOut(t, out, f), readOut(t, again, f))
		}
	}
	md := readOut(t, out, "plan.md")
	if !strings.HasPrefix(md, "<!-- netrecon-plan -->") {
		t.Errorf("plan.md does not begin with the marker:\n%s", md)
	}
	if !strings.Contains(md, name) {
		t.Errorf("plan.md does not name the deleted service %s:\n%s", name, md)
	}
	if !strings.Contains(md, "to destroy") {
		t.Errorf("plan.md has no destroy count:\n%s", md)
	}
	counts := regexp.MustCompile(`(\d+) to (add|change|destroy)`).FindAllStringSubmatch(md, -1)
	destroyed := false
	for _, c := range counts {
		switch {
		case c[2] == "destroy" && c[1] != "0":
			destroyed = true
		case c[2] != "destroy" && c[1] != "0":
			t.Errorf("plan.md says %q; deleting a service may only destroy", c[0])
		}
	}
	if !destroyed {
		t.Errorf("plan.md destroys nothing: %v", counts)
	}
	var plan map[string]any
	if err := json.Unmarshal([]byte(readOut(t, out, "plan.json")), &plan); err != nil {
		t.Fatalf("plan.json: %v", err)
	}
	if _, ok := plan["format_version"]; !ok {
		t.Errorf("plan.json has no format_version: %v", keys(plan))
	}

	t.Run("invalid intent still replaces the comment", func(t *testing.T) {
		path := filepath.Join(repo, filepath.FromSlash(secondService(t, repo)))
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(data, []byte("\nunknownField: 1\n")...), 0o644); err != nil {
			t.Fatal(err)
		}
		git("commit", "-q", "-am", "break a service")
		broken := git("rev-parse", "HEAD")
		out := t.TempDir()
		stdout, code := runPlanPR(t, root, bin, repo, head, broken, out, cache)
		if code != 1 {
			t.Errorf("exit %d, want 1:\n%s", code, stdout)
		}
		if !strings.Contains(stdout, "::error") {
			t.Errorf("no annotations on standard output:\n%s", stdout)
		}
		md := readOut(t, out, "plan.md")
		if !strings.HasPrefix(md, "<!-- netrecon-plan -->") || !strings.Contains(md, "does not validate") {
			t.Errorf("plan.md after a validation failure:\n%s", md)
		}
	})
}

func runPlanPR(t *testing.T, root, bin, repo, base, head, out, cache string) (string, int) {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(root, ".github", "scripts", "plan-pr.sh"))
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GITHUB_") && !strings.HasPrefix(kv, "NETRECON_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "NETRECON="+bin, "INTENT_DIR="+repo, "BASE_SHA="+base, "HEAD_SHA="+head, "OUT_DIR="+out,
		"NETRECON_CACHE_DIR="+cache, "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return buf.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("plan-pr.sh: %v", err)
	}
	return buf.String(), 0
}

func readOut(t *testing.T, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// services lists the service files of repo, sorted, as slash paths.
func services(t *testing.T, repo string) []string {
	t.Helper()
	var files []string
	err := fs.WalkDir(os.DirFS(repo), "services", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("intent-example has %d service files, want at least 2", len(files))
	}
	sort.Strings(files)
	return files
}

func firstService(t *testing.T, repo string) (path, name string) {
	t.Helper()
	path = services(t, repo)[0]
	data, err := os.ReadFile(filepath.Join(repo, filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Metadata struct{ Name string } `yaml:"metadata"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil || doc.Metadata.Name == "" {
		t.Fatalf("%s: no metadata.name (%v)", path, err)
	}
	return path, doc.Metadata.Name
}

func secondService(t *testing.T, repo string) string { return services(t, repo)[1] }

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// gitIn returns a runner of the git command in dir, with an identity and no
// user or system configuration, so tests do not depend on the machine's.
func gitIn(t *testing.T, dir string) func(args ...string) string {
	return func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=Test", "-c", "user.email=test@example.invalid",
			"-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
}
