package main

import (
	"strings"
	"testing"
)

// The README's main command: it must run with nothing set up and tell the
// whole story.
func TestDemo(t *testing.T) {
	code, out, errs := netrecon(t, "demo", "--example", "../../intent-example")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{
		"The intent is valid.",
		"applied 204 changes on 3 devices",
		"candidate locked by session",
		"rolled back 2 changes on 2 devices",
		"pe1-tyo's running configuration is exactly what it was before the apply",
		"No changes. The devices match the intent.",
		"(a plan only reads: 0 edit-config sent)",
		"every simulated router is stopped",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
}
