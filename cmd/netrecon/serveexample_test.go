package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docs/serve.example.yaml names secret files no repo ships. README lists
// them, with the variable it needs; the shipped file fails --check naming
// exactly those, and passes once they exist.
func TestServeExampleChecks(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	touch := regexp.MustCompile(`\(cd /tmp/nrd/secrets && touch ([^&]+) && chmod 600 \*\)`).FindSubmatch(readme)
	env := regexp.MustCompile(`\n(\w+)=\w+ \./netrecon serve --config /tmp/nrd/serve\.example\.yaml --check`).FindSubmatch(readme)
	if touch == nil || env == nil {
		t.Fatal("README does not say which files and variable docs/serve.example.yaml expects")
	}
	files := strings.Fields(string(touch[1]))
	variable := string(env[1])
	t.Setenv(variable, "")

	code, out, errs := serve(t, "--config", "../../docs/serve.example.yaml", "--check")
	if code != 1 {
		t.Fatalf("the shipped example without its secrets: exit %d, want 1\n%s%s", code, out, errs)
	}
	named := map[string]bool{}
	for _, line := range strings.Split(errs, "\n") {
		if !strings.Contains(line, "serve.example.yaml:") {
			continue
		}
		ok := false
		for _, f := range append(files, variable) {
			if strings.Contains(line, "secrets/"+f+":") || strings.Contains(line, variable+" is not set") && f == variable {
				named[f], ok = true, true
			}
		}
		if !ok {
			t.Errorf("--check complains about something README does not list: %s", line)
		}
	}
	for _, f := range append(files, variable) {
		if !named[f] {
			t.Errorf("README lists %s, but --check does not need it", f)
		}
	}

	dir := t.TempDir()
	b, err := os.ReadFile("../../docs/serve.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "serve.example.yaml"), b, 0o600)
	os.Mkdir(filepath.Join(dir, "secrets"), 0o700)
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, "secrets", f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(variable, "public")
	if code, out, errs := serve(t, "--config", filepath.Join(dir, "serve.example.yaml"), "--check"); code != 0 || !strings.Contains(out, "is valid.") {
		t.Errorf("with the files README lists: exit %d\n%s%s", code, out, errs)
	}
}
