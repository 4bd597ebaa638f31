package main

import (
	"regexp"
	"strings"
	"testing"
)

// doubledName is a device (or any word) named twice in a row: "pe1: pe1: ...".
var doubledName = regexp.MustCompile(`(?m)\b([\w.-]+): ([\w.-]+): `)

// noDoubledNames fails when out names something twice in a row.
func noDoubledNames(t *testing.T, out string) {
	t.Helper()
	for _, m := range doubledName.FindAllStringSubmatch(out, -1) {
		if m[1] == m[2] {
			t.Errorf("%q named twice in a row: %q", m[1], m[0])
		}
	}
}

// The README's main command: it must run with nothing set up, from any
// folder (the example is inside the binary), and tell the whole story.
func TestDemo(t *testing.T) {
	t.Chdir(t.TempDir())
	code, out, errs := netrecon(t, "demo")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{
		"a copy of the example intent repo built into netrecon",
		"The intent is valid.",
		"applied 231 changes on 3 devices in ",
		"candidate locked by session",
		// The rejected commit: only pe1-tyo's change was committed.
		": 1 change on 1 device committed and rolled back, 1 change on 1 device not committed; failed: pe3-sin",
		"pe1-tyo's running configuration is exactly what it was before the apply",
		"No changes. The devices match the intent.",
		"(a plan only reads: 0 edit-config sent)",
		"every simulated router is stopped",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	for _, bad := range []string{" 1 changes", " 1 devices", " in 0.0 s"} {
		if strings.Contains(out, bad) {
			t.Errorf("demo output says %q", bad)
		}
	}
	noDoubledNames(t, out)
}

func TestDemoExampleFlag(t *testing.T) {
	code, _, errs := netrecon(t, "demo", "--example", t.TempDir())
	if code != 1 || !strings.Contains(errs, "is not an intent repo (it has no inventory folder)") {
		t.Errorf("exit %d: %s", code, errs)
	}
}
