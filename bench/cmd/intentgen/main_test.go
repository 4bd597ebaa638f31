package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/bench/intentgen"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	if err := run(intentgen.Config{Services: 20, Devices: 2, Seed: 1}, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "inventory", "tyo.yaml")); err != nil {
		t.Error(err)
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		cfg  intentgen.Config
		out  string
		want string
	}{
		{intentgen.Config{Services: 1, Devices: 1}, "", "-out"},
		{intentgen.Config{Services: -1, Devices: 1}, "x", "-services"},
		{intentgen.Config{Services: 1, Devices: 0}, "x", "-devices"},
		{intentgen.Config{Services: 1, Devices: intentgen.MaxDevices + 1}, "x", "-devices"},
	} {
		err := run(tc.cfg, tc.out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%+v, %q) = %v, want an error about %s", tc.cfg, tc.out, err, tc.want)
		}
	}
}
