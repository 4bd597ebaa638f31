package daemon

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/schema"
)

// The daemon refuses secret files that their group or others may access,
// naming the file, its mode, the fix and the setting that allows it.
func TestDaemonRefusesInsecureSecretFiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		file func(l *lab) string
	}{
		{"credentials.env_file", func(l *lab) string { return l.cfg.Credentials.EnvFile }},
		{"api.token_file", func(l *lab) string { return l.cfg.API.TokenFile }},
		{"webhook.secret_file", func(l *lab) string { return l.cfg.Webhook.SecretFile }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t, exampleFiles(t))
			l.withSecrets()
			f := tc.file(l)
			if err := os.Chmod(f, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := New(context.Background(), l.cfg, Options{Logger: testLogger(t), Dialer: l.dialer})
			var ie *schema.InsecureFileError
			if !errors.As(err, &ie) || ie.Path != f {
				t.Fatalf("err = %v, want an *InsecureFileError for %s", err, f)
			}
			for _, want := range []string{tc.name, f, "mode 0644", "chmod 600 " + f, "credentials.allow_insecure_files"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}

			l.cfg.Credentials.AllowInsecureFiles = true
			var logs bytes.Buffer
			d, err := New(context.Background(), l.cfg, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Dialer: l.dialer})
			if err != nil {
				t.Fatalf("allowed: %v", err)
			}
			d.Close()
			if !strings.Contains(logs.String(), "insecure credential file") || !strings.Contains(logs.String(), f) {
				t.Errorf("no warning naming %s in the logs:\n%s", f, logs.String())
			}
		})
	}
}

// The inventory's passwordFile and keyFile references, resolved at each dial.
func TestDaemonRefusesInsecureDeviceCredentialFile(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	d := l.start(Options{})
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("x\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	dev := &schema.Device{Name: "pe9", Credentials: schema.Credentials{Username: "u", PasswordFile: pw}}
	_, err := testCredentials(dev, d.credentials())
	if err == nil || !strings.Contains(err.Error(), "mode 0640") || !strings.Contains(err.Error(), "pe9") ||
		!strings.Contains(err.Error(), "credentials.allow_insecure_files") {
		t.Fatalf("err = %v, want the insecure file refused", err)
	}
	d.cfg.Credentials.AllowInsecureFiles = true
	if a, err := testCredentials(dev, d.credentials()); err != nil || a.IsZero() {
		t.Errorf("allowed: %v %v", a, err)
	}
}
