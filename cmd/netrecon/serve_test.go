package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// serve runs the serve verb alone (the lead registers it in commands.go).
func serve(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := newServeCmd(&app{stdout: &out, stderr: &errb, stdin: strings.NewReader("")})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	var ee *exitError
	switch {
	case err == nil:
		return 0, out.String(), errb.String()
	case errors.As(err, &ee):
		return ee.code, out.String(), errb.String() + err.Error()
	}
	return 2, out.String(), errb.String() + err.Error()
}

func TestServeConfigErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("repo:\n  url: file:///x\n  brnach: main\nstate_dir: s\nretry: {base: 1m, max: 1s}\n"), 0o600)
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("repo: {url: file:///x}\nstate_dir: s\n"), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"missing flag", nil, 2, []string{"--config FILE is required"}},
		{"invalid", []string{"--config", bad}, 1, []string{"bad.yaml:3:3: repo.brnach: unknown setting"}},
		{"valid check", []string{"--config", good, "--check"}, 0, []string{"good.yaml is valid."}},
		{"no file", []string{"--config", filepath.Join(dir, "nope.yaml")}, 1, []string{"no such file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := serve(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d: %s%s", code, tc.code, out, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(out+errs, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, errs)
				}
			}
		})
	}
}
