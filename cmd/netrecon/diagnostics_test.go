package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitCommitAll makes dir a Git repository with one commit of everything.
func gitCommitAll(t *testing.T, dir string, msg string) {
	t.Helper()
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-q", "-m", msg}} {
		if args[0] == "init" {
			if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
				continue
			}
		}
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
}

func edit(t *testing.T, dir, file, old, new string) {
	t.Helper()
	p := filepath.Join(dir, file)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s has no %q", file, old)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// validate FILE validates the file within its repo, found by walking up,
// and reports that file's problems (and those of files clashing with it).
func TestValidateFiles(t *testing.T) {
	dir := copyExample(t)
	// A broken circuit in one file, and a routes file that is fine itself.
	edit(t, dir, "services/wayne/wayne-osaka.yaml", "vlan: 620", "vlan: 9999")
	// A circuit that clashes with acme-tokyo-hq (its address), in a new file.
	annex := "apiVersion: netrecon.io/v1\nkind: attachment-circuit\nmetadata: {name: acme-tokyo-annex, customer: acme}\n" +
		"spec: {device: pe1-tyo, interface: ge-0/0/1, vlan: 149, ipv4: 100.64.0.1/30, vrf: ACME}\n"
	if err := os.WriteFile(filepath.Join(dir, "services/acme/acme-tokyo-annex.yaml"), []byte(annex), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		want   []string // in stdout
		unwant []string // not in stdout
		stderr string
	}{{
		name: "a clean file in a broken repo", args: []string{filepath.Join(dir, "services/globex/globex-tokyo.yaml")},
		code: 0, want: []string{"The intent is valid."}, stderr: "more problems, in other files",
	}, {
		name: "the broken file", args: []string{filepath.Join(dir, "services/wayne/wayne-osaka.yaml")},
		code: 1, want: []string{"services/wayne/wayne-osaka.yaml:14:3: error: spec.vlan"}, unwant: []string{"acme-tokyo-annex"},
	}, {
		// The clash's primary place is acme-tokyo-hq.yaml, which sorts later:
		// the new file still sees it, as the related place.
		name: "a file on the other side of a clash", args: []string{filepath.Join(dir, "services/acme/acme-tokyo-annex.yaml")},
		code: 1, want: []string{"services/acme/acme-tokyo-hq.yaml:", "address 100.64.0.1 is already used", "services/acme/acme-tokyo-annex.yaml:4:57:"},
		unwant: []string{"wayne"},
	}, {
		// Its next hop fails only because the circuit did not load: the
		// circuit's error is shown, with this file's under it.
		name: "a file whose problem follows from another's", args: []string{filepath.Join(dir, "services/wayne/wayne-osaka-routes.yaml")},
		code: 1, want: []string{"services/wayne/wayne-osaka.yaml:14:3: error: spec.vlan", "wayne-osaka-routes.yaml:11:7: spec.routes[0].nextHop: follows from this"},
	}, {
		name: "a folder and a file", args: []string{filepath.Join(dir, "services/wayne"), filepath.Join(dir, "inventory/japan.yaml")},
		code: 1, want: []string{"wayne-osaka.yaml"}, unwant: []string{"acme-tokyo"},
	}, {
		name: "the whole repo from a folder in it", args: []string{dir},
		code: 1, want: []string{"wayne-osaka.yaml", "acme-tokyo-annex"},
	}, {
		name: "a file outside the intent folders", args: []string{filepath.Join(dir, "README.md")},
		code: 2, stderr: "neither an intent file nor a folder of them",
	}, {
		name: "two repos", args: []string{filepath.Join(dir, "services"), "../../intent-example/services"},
		code: 2, stderr: "two intent repos",
	}, {
		name: "a missing file", args: []string{filepath.Join(dir, "services/nope.yaml")},
		code: 2, stderr: "no such file",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := netrecon(t, append([]string{"validate"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tc.code, out, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.unwant {
				if strings.Contains(out, w) {
					t.Errorf("stdout has %q, of another file:\n%s", w, out)
				}
			}
			if !strings.Contains(errs, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, errs)
			}
		})
	}
}

// Run from a folder inside the repo, validate with no argument reports
// that folder.
func TestValidateInSubfolder(t *testing.T) {
	dir := copyExample(t)
	edit(t, dir, "services/wayne/wayne-osaka.yaml", "vlan: 620", "vlan: 9999")
	t.Chdir(filepath.Join(dir, "services/acme"))
	code, out, errs := netrecon(t, "validate")
	if code != 0 || !strings.Contains(out, "The intent is valid.") || !strings.Contains(errs, "more problems") {
		t.Errorf("exit %d\n%s%s", code, out, errs)
	}
	t.Chdir(filepath.Join(dir, "services/wayne"))
	if code, out, errs := netrecon(t, "validate"); code != 1 || !strings.Contains(out, "wayne-osaka.yaml") {
		t.Errorf("exit %d\n%s%s", code, out, errs)
	}
}

// jsonError is the error document of docs/json-output.md.
type jsonError struct {
	FormatVersion string `json:"format_version"`
	Error         *struct {
		Message     string `json:"message"`
		ExitCode    int    `json:"exit_code"`
		Diagnostics []struct {
			File    string `json:"file"`
			Message string `json:"message"`
		} `json:"diagnostics"`
	} `json:"error"`
}

func parseJSONError(t *testing.T, out string) jsonError {
	t.Helper()
	var doc jsonError
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Error == nil {
		t.Fatalf("stdout is not the JSON error document (%v):\n%s", err, out)
	}
	return doc
}

// Every command given --output json answers on stdout in JSON, also when
// it fails.
func TestJSONErrors(t *testing.T) {
	dir := copyExample(t)
	gitCommitAll(t, dir, "base")
	edit(t, dir, "services/acme/acme-tokyo-hq.yaml", "vlan: 142", "vlan: 5000")
	gitCommitAll(t, dir, "a bad vlan")

	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		message  string
		diagFile string // a diagnostic of this file must be in the document
	}{
		{"plan on an invalid revision", []string{"plan", dir, "--base", "HEAD~1", "--head", "HEAD", "-o", "json"}, 1, "is not valid intent", "services/acme/acme-tokyo-hq.yaml"},
		{"plan on an unknown revision", []string{"plan", dir, "--base", "nope", "--output=json"}, 1, "unknown revision", ""},
		{"validate on a missing folder", []string{"validate", filepath.Join(dir, "nope"), "-o", "json"}, 2, "open intent repo", ""},
		{"history without a journal", []string{"history", "--state", t.TempDir(), "-ojson"}, 1, "no journal", ""},
		{"an unknown flag after -o json", []string{"plan", "-o", "json", "--bse", "HEAD"}, 2, "did you mean --base?", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := netrecon(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tc.code, out, errs)
			}
			doc := parseJSONError(t, out)
			if doc.FormatVersion == "" || doc.Error.ExitCode != tc.code || !strings.Contains(doc.Error.Message, tc.message) {
				t.Errorf("error document %+v, want exit %d and %q", doc.Error, tc.code, tc.message)
			}
			found := tc.diagFile == ""
			for _, d := range doc.Error.Diagnostics {
				found = found || d.File == tc.diagFile
			}
			if !found {
				t.Errorf("no diagnostic of %s in %s", tc.diagFile, out)
			}
			if !strings.Contains(errs, tc.message) {
				t.Errorf("stderr lacks the message for a person:\n%s", errs)
			}
		})
	}
	// A text run writes nothing on stdout when it fails.
	if code, out, _ := netrecon(t, "plan", dir, "--base", "nope"); code != 1 || out != "" {
		t.Errorf("text: exit %d, stdout %q", code, out)
	}
}

// An unknown flag names the closest one.
func TestFlagSuggestions(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"validate", "--outptu", "json"}, "unknown flag: --outptu (did you mean --output?)"},
		{[]string{"plan", "--bsae", "HEAD"}, "(did you mean --base?)"},
		{[]string{"render", "--devcie", "pe1-tyo"}, "(did you mean --device?)"},
		{[]string{"validate", "-O", "json"}, "(did you mean -o?)"},
	} {
		code, _, errs := netrecon(t, tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, errs, tc.want)
		}
	}
	if _, _, errs := netrecon(t, "validate", "--zzzzzz"); strings.Contains(errs, "did you mean") {
		t.Errorf("a suggestion for nothing close: %s", errs)
	}
}
