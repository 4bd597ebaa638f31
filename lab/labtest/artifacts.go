package labtest

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvArtifacts names the folder where tests leave what CI keeps (browser
// screenshots); unset, it is <repo>/.ci/out.
const EnvArtifacts = "NETRECON_ARTIFACTS"

// Artifacts is the folder of EnvArtifacts, made if missing.
func Artifacts(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(EnvArtifacts)
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			t.Fatalf("artifacts folder: $%s is not set and %v", EnvArtifacts, err)
		}
		dir = filepath.Join(root, ".ci", "out")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts folder: %v", err)
	}
	return dir
}
