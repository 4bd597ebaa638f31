package render

import (
	"errors"
	"os"
	"testing"
	"testing/fstest"

	"github.com/netrecon/netrecon/schema"
)

// TestBuildFS checks the stages of the one intent build: a selection renders
// only its devices, Select's error stops the build, and an intent that does
// not load yields no Build.
func TestBuildFS(t *testing.T) {
	fsys := os.DirFS("../intent-example")
	b, diags, err := BuildFS(t.Context(), fsys, BuildOptions{})
	if err != nil || diags.HasErrors() || b == nil {
		t.Fatalf("BuildFS: %v %v", err, diags)
	}
	if len(b.Desired) == 0 || len(b.Desired) > len(b.Intent.Devices) {
		t.Fatalf("rendered %d of %d devices", len(b.Desired), len(b.Intent.Devices))
	}
	one := b.Intent.Services[0].Devices[0]
	b, _, err = BuildFS(t.Context(), fsys, BuildOptions{Select: func(*schema.Intent) ([]string, error) { return []string{one}, nil }})
	if err != nil || len(b.Desired) != 1 || b.Desired[one] == nil {
		t.Fatalf("selected %s: %v, %d trees", one, err, len(b.Desired))
	}
	stop := errors.New("stop")
	if _, _, err := BuildFS(t.Context(), fsys, BuildOptions{Select: func(*schema.Intent) ([]string, error) { return nil, stop }}); err != stop {
		t.Fatalf("Select's error: got %v", err)
	}
	bad := fstest.MapFS{"inventory/x.yaml": {Data: []byte("kind: nonsense\n")}}
	if b, diags, _ := BuildFS(t.Context(), bad, BuildOptions{}); b != nil || !diags.HasErrors() {
		t.Fatalf("invalid intent: got a build %v, diagnostics %v", b, diags)
	}
	if _, diags, _ := BuildFS(t.Context(), fsys, BuildOptions{Budget: Budget{Time: -1}}); !diags.HasErrors() {
		t.Fatal("a negative budget must not render")
	}
}
