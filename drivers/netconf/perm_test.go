package netconf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/schema"
)

// A credential file that group or others may read is refused by default,
// with its path, its mode and the fix; OnInsecureFile lets a caller warn
// instead.
func TestResolveCredentialsInsecureFile(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key := writeKey(t, dir)
	for _, tc := range []struct {
		name string
		c    schema.Credentials
		path string
		mode os.FileMode
	}{
		{"password file 0644", schema.Credentials{Username: "u", PasswordFile: pw}, pw, 0o644},
		{"key file 0640", schema.Credentials{Username: "u", KeyFile: key}, key, 0o640},
		{"password file 0602", schema.Credentials{Username: "u", PasswordFile: pw}, pw, 0o602},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.Chmod(tc.path, tc.mode); err != nil {
				t.Fatal(err)
			}
			_, err := ResolveCredentials(tc.c, "")
			var ie *schema.InsecureFileError
			if !errors.As(err, &ie) || ie.Path != tc.path || ie.Mode != tc.mode {
				t.Fatalf("err = %v, want an *schema.InsecureFileError for %s mode %o", err, tc.path, tc.mode)
			}
			for _, want := range []string{tc.path, "chmod 600 " + tc.path, fmt.Sprintf("mode %04o", uint32(tc.mode))} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			var warned []*schema.InsecureFileError
			a, err := ResolveCredentials(tc.c, "", OnInsecureFile(func(e *schema.InsecureFileError) error {
				warned = append(warned, e)
				return nil
			}))
			if err != nil || a.IsZero() || len(warned) != 1 || warned[0].Path != tc.path {
				t.Errorf("with a warning: %v %v, warned %v", a, err, warned)
			}
		})
	}
	if err := os.Chmod(pw, 0o600); err != nil {
		t.Fatal(err)
	}
	called := false
	if _, err := ResolveCredentials(schema.Credentials{Username: "u", PasswordFile: pw}, "", OnInsecureFile(func(*schema.InsecureFileError) error { called = true; return nil })); err != nil || called {
		t.Errorf("mode 0600: err %v, warned %v", err, called)
	}
}
