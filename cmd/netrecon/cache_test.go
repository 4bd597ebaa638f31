package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func gitIn(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func segments(t *testing.T, dir string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

// validate and plan --base fill the cache folder given and print the same
// with it as without it; `cache path` and `cache clear` find the folder.
func TestCacheVerbs(t *testing.T) {
	dir := copyExample(t)
	gitIn(t, dir, "init", "-q", "-b", "main")
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "base")
	if err := os.Remove(filepath.Join(dir, "services/hooli/hooli-tokyo.yaml")); err != nil {
		t.Fatal(err)
	}
	gitIn(t, dir, "commit", "-q", "-am", "hooli leaves tokyo")
	cache := filepath.Join(t.TempDir(), "cache")

	_, wantPlan, _ := netrecon(t, "plan", dir, "--base", "HEAD~1", "--head", "HEAD", "-o", "json")
	for _, run := range []string{"cold", "warm"} {
		code, out, errs := netrecon(t, "plan", dir, "--base", "HEAD~1", "--head", "HEAD", "-o", "json", "--cache-dir", cache)
		if code != 2 || out != wantPlan {
			t.Errorf("%s plan with the cache: exit %d, or a plan unlike the uncached one:\n%s%s", run, code, out, errs)
		}
		if strings.Contains(errs, "warning") {
			t.Errorf("%s plan: %s", run, errs)
		}
	}
	if n := segments(t, cache); n == 0 {
		t.Fatal("plan --cache-dir wrote no segment")
	}

	// A problem found once is found again: never cached as valid.
	p := filepath.Join(dir, "services/acme/acme-tokyo-hq.yaml")
	b, _ := os.ReadFile(p)
	os.WriteFile(p, append(b, []byte("bogus: 1\n")...), 0o644)
	_, wantDiags, _ := netrecon(t, "validate", dir, "-o", "json")
	for _, run := range []string{"cold", "warm"} {
		code, out, errs := netrecon(t, "validate", dir, "-o", "json", "--cache-dir", cache)
		if code != 1 || out != wantDiags {
			t.Errorf("%s validate with the cache: exit %d, or findings unlike the uncached ones:\n%s%s", run, code, out, errs)
		}
	}

	code, out, _ := netrecon(t, "cache", "path", "--cache-dir", cache)
	if code != 0 || strings.TrimSpace(out) != cache {
		t.Errorf("cache path: exit %d, %q, want %s", code, out, cache)
	}
	t.Setenv(envCacheDir, cache)
	code, _, errs := netrecon(t, "cache", "clear")
	if code != 0 || segments(t, cache) != 0 {
		t.Errorf("cache clear (folder from $%s): exit %d, %d segments left: %s", envCacheDir, code, segments(t, cache), errs)
	}
	// By default, the user cache folder's netrecon/.
	t.Setenv(envCacheDir, "")
	xdg := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", xdg)
	if code, out, errs := netrecon(t, "cache", "path"); code != 0 || strings.TrimSpace(out) != filepath.Join(xdg, "netrecon") {
		t.Errorf("cache path by default: exit %d, %q, want %s: %s", code, out, filepath.Join(xdg, "netrecon"), errs)
	}
}

// --no-cache and NETRECON_NO_CACHE leave the folder alone.
func TestNoCache(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "cache")
	t.Setenv(envCacheDir, cache)
	t.Setenv(envNoCache, "")
	netrecon(t, "validate", "../../intent-example", "--no-cache")
	t.Setenv(envNoCache, "1")
	netrecon(t, "validate", "../../intent-example")
	if _, err := os.Stat(cache); !os.IsNotExist(err) {
		t.Errorf("the cache folder was created with the cache off: %v", err)
	}
	t.Setenv(envNoCache, "")
	netrecon(t, "validate", "../../intent-example")
	if segments(t, cache) != 1 {
		t.Errorf("with $%s alone, validate wrote %d segments, want 1", envCacheDir, segments(t, cache))
	}
}

// A cache folder that cannot be used is a warning, not a failed plan.
func TestUnusableCacheIsAWarning(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	code, out, errs := netrecon(t, "validate", "../../intent-example", "--cache-dir", file)
	if code != 0 || !strings.Contains(out, "The intent is valid") || !strings.Contains(errs, "warning: document cache off") {
		t.Errorf("exit %d:\n%s%s", code, out, errs)
	}
}

func TestBuildID(t *testing.T) {
	a, err := buildID()
	if err != nil || a == "" {
		t.Fatalf("buildID: %q, %v", a, err)
	}
	if b, _ := buildID(); b != a {
		t.Errorf("buildID changed between calls: %q, %q", a, b)
	}
}

// TestGoBuildID: without VCS stamps (-buildvcs=false, as on this machine),
// the build is named by the Go build ID in its ELF note, the one `go tool
// buildid` prints, not by hashing the whole binary.
func TestGoBuildID(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	id, ok := goBuildID(exe)
	if !ok {
		t.Fatalf("no Go build ID read from %s", exe)
	}
	out, err := exec.Command("go", "tool", "buildid", exe).Output()
	if err != nil {
		t.Fatalf("go tool buildid: %v", err)
	}
	if want := strings.TrimSpace(string(out)); id != want {
		t.Errorf("goBuildID %q, go tool buildid %q", id, want)
	}
	if _, ok := goBuildID(filepath.Join("testdata", "no-such-file")); ok {
		t.Error("a build ID read from a missing file")
	}
	notELF := filepath.Join(t.TempDir(), "x")
	os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755)
	if _, ok := goBuildID(notELF); ok {
		t.Error("a build ID read from a script")
	}
}
