package secretref

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/schema"
)

func TestPlaceholder(t *testing.T) {
	for _, ref := range []string{"env:BGP_KEY", "file:/etc/netrecon/acme.key"} {
		got, ok := Ref(Placeholder(ref))
		if !ok || got != ref {
			t.Errorf("Ref(Placeholder(%q)) = %q, %v", ref, got, ok)
		}
	}
	for _, v := range []string{"hunter2", "(secret hunter2)", "(secret env:)", "(secret file:relative)", Unknown, ""} {
		if _, ok := Ref(v); ok {
			t.Errorf("Ref(%q) took it for a placeholder", v)
		}
	}
}

func TestResolve(t *testing.T) {
	t.Setenv("H16_KEY", "s3cret")
	if v, err := Resolve("env:H16_KEY"); err != nil || v != "s3cret" {
		t.Errorf("env: %q, %v", v, err)
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "key")
	os.WriteFile(f, []byte("fil3-key\n"), 0o600)
	if v, err := Resolve("file:" + f); err != nil || v != "fil3-key" {
		t.Errorf("file: %q, %v", v, err)
	}
	os.Chmod(f, 0o644)
	_, err := Resolve("file:" + f)
	var insecure *schema.InsecureFileError
	if !errors.As(err, &insecure) {
		t.Errorf("a key file others may read: want *schema.InsecureFileError, got %v", err)
	}
	for ref, want := range map[string]string{
		"env:H16_UNSET":            "secret env:H16_UNSET: environment variable H16_UNSET is not set",
		"file:" + dir + "/missing": "secret file:" + dir + "/missing: ",
		"vault:kv/x":               "a reference is env:NAME or file:/PATH",
	} {
		if _, err := Resolve(ref); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Resolve(%q) = %v, want %q", ref, err, want)
		}
	}
	// An error never carries the value.
	os.Chmod(f, 0o600)
	os.WriteFile(f, nil, 0o600)
	if _, err := Resolve("file:" + f); err == nil || strings.Contains(err.Error(), "fil3-key") {
		t.Errorf("empty file: %v", err)
	}
}

func TestSecretLeaf(t *testing.T) {
	for name, want := range map[string]bool{
		"authentication-key": true, "auth-password": true, "key": true, "md5-key": true,
		"peer-as": false, "name": false, "description": false, "import": false, "key-id": false,
	} {
		if SecretLeaf(name) != want {
			t.Errorf("SecretLeaf(%q) = %v", name, !want)
		}
	}
}

// A device that echoes the refused value in its error: the text names the
// reference, and the device's error is still reachable.
func TestRedactError(t *testing.T) {
	d := &device{refs: func() []string { return []string{"env:K"} }, resolve: func(string) (string, error) { return "s3cret", nil }}
	dev := errors.New("invalid-value: authentication-key s3cret is too long")
	err := d.redact(dev)
	if strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "(secret env:K)") || !errors.Is(err, dev) {
		t.Errorf("redact = %v", err)
	}
	if plain := errors.New("lock denied"); d.redact(plain) != plain {
		t.Error("an error without a secret must pass unchanged")
	}
}

// readOnly answers every read with an empty tree; nothing else is called.
type readOnly struct{ reconcile.Device }

func (readOnly) GetConfig(context.Context, string, *configtree.Tree) (*configtree.Tree, error) {
	return configtree.New(), nil
}

// A session asks for its device's references at its first read, once, not
// when it is dialled: a CLI dials while the services are still loading.
func TestRefsAskedAtFirstRead(t *testing.T) {
	asked := 0
	dialer := Wrap(reconcile.DialFunc(func(context.Context, *schema.Device) (reconcile.Device, error) { return readOnly{}, nil }),
		func(string) []string { asked++; return []string{"env:K"} },
		func(string) (string, error) { return "s3cret", nil })
	s, err := dialer.Dial(t.Context(), &schema.Device{Name: "pe1"})
	if err != nil {
		t.Fatal(err)
	}
	if asked != 0 {
		t.Fatalf("references asked for %d times when dialled", asked)
	}
	for range 2 {
		if _, err := s.GetConfig(t.Context(), reconcile.Running, nil); err != nil {
			t.Fatal(err)
		}
	}
	if asked != 1 {
		t.Errorf("references asked for %d times over two reads, want once", asked)
	}
}
