package labtest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFindFromEnv(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "lab.json")
	js := `{"devices":[{"name":"lab1","address":"127.0.0.1","port":18301}],"username":"root",
	"keyFile":"/k","knownHosts":"/kh","snmp":{"address":"127.0.0.1:18161","community":"c","maintFile":"/m"}}`
	if err := os.WriteFile(p, []byte(js), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvPath, p)
	l, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Devices(); len(got) != 1 || got[0].Name != "lab1" || got[0].Port != 18301 {
		t.Errorf("Devices() = %+v", got)
	}
	if l.Username() != "root" || l.KeyFile() != "/k" || l.KnownHosts() != "/kh" || l.SNMP().Community != "c" || l.Path != p {
		t.Errorf("lab = %+v", l)
	}
}

func TestFindMissingOrIncomplete(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvPath, filepath.Join(dir, "absent.json"))
	if _, err := Find(); err == nil {
		t.Error("Find with no file: want error")
	}
	p := filepath.Join(dir, "lab.json")
	if err := os.WriteFile(p, []byte(`{"devices":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvPath, p)
	if _, err := Find(); err == nil {
		t.Error("Find with no devices: want error")
	}
}
