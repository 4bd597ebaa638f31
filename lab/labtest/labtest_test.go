package labtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	if _, ok := l.Extra(NoIPv6); ok {
		t.Error("Extra found a device the lab.json does not list")
	}
}

// The extra devices are listed apart, with their modules, so that Devices
// stays what tests iterating over the lab expect.
func TestFindExtraDevices(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lab.json")
	js := `{"devices":[{"name":"lab1","address":"127.0.0.1","port":18301}],
	"extra":[{"name":"lab-noipv6","address":"127.0.0.1","port":18302,"modules":["ietf-interfaces","ietf-routing"]}],
	"username":"root","keyFile":"/k","knownHosts":"/kh"}`
	if err := os.WriteFile(p, []byte(js), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvPath, p)
	l, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Devices(); len(got) != 1 {
		t.Errorf("Devices() = %+v, want lab1 only", got)
	}
	d, ok := l.Extra(NoIPv6)
	if !ok || d.Port != 18302 || strings.Join(d.Modules, ",") != "ietf-interfaces,ietf-routing" {
		t.Errorf("Extra(%q) = %+v, %v", NoIPv6, d, ok)
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

// recTB records how Load ends a test instead of ending it.
type recTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recTB) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
}
func (r *recTB) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
}

func TestLoadSkipsOrFailsWithoutLab(t *testing.T) {
	t.Setenv(EnvPath, filepath.Join(t.TempDir(), "absent.json"))

	t.Setenv("CI", "")
	r := &recTB{TB: t}
	Load(r)
	if !r.skipped || r.failed || !strings.Contains(r.msg, "lab.sh up") {
		t.Errorf("outside CI: skipped %v failed %v msg %q; want a skip saying how to start the lab", r.skipped, r.failed, r.msg)
	}

	t.Setenv("CI", "true")
	r = &recTB{TB: t}
	Load(r)
	if !r.failed || r.skipped {
		t.Errorf("CI=true: skipped %v failed %v; want a failure", r.skipped, r.failed)
	}
}

func TestLoadMTA(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "lab.json")
	js := fmt.Sprintf(`{"devices":[{"name":"lab1","address":"127.0.0.1","port":18301}],"username":"root",
	"keyFile":"/k","knownHosts":"/kh","snmp":{"address":"127.0.0.1:18161","community":"c","maintFile":"/m"},
	"mta":{"address":"127.0.0.1:18025","replyAddress":"r@lab.netrecon.test","maildir":%q,
	"databases":[{"name":"JPIRR","mailDomain":"jpirr.irrsim.test","whois":"127.0.0.1:18043","smtp":"127.0.0.1:18053"}]}}`,
		filepath.Join(dir, "Maildir"))
	if err := os.WriteFile(p, []byte(js), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "Maildir", "new"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "Maildir", "cur"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvPath, p)
	m := LoadMTA(t)
	if db, ok := m.Database("JPIRR"); !ok || db.SMTP != "127.0.0.1:18053" || db.MailDomain != "jpirr.irrsim.test" {
		t.Errorf("Database(JPIRR) = %+v, %v", db, ok)
	}
	if err := os.WriteFile(filepath.Join(dir, "Maildir", "new", "1.x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := m.Replies(); err != nil || len(got) != 1 {
		t.Errorf("Replies() = %v, %v", got, err)
	}
}

// The PostgreSQL server is its own field: a lab.json without it (no
// PostgreSQL installed) still describes a lab, with no server.
func TestFindPostgres(t *testing.T) {
	dir := t.TempDir()
	base := `{"devices":[{"name":"lab1","address":"127.0.0.1","port":18301}],"username":"root","keyFile":"/k","knownHosts":"/kh"`
	for _, tt := range []struct {
		name, extra, want string
	}{
		{"without", "", ""},
		{"with", `,"postgres":{"dsn":"postgres://postgres@127.0.0.1:25432/postgres"}`, "postgres://postgres@127.0.0.1:25432/postgres"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name+".json")
			if err := os.WriteFile(p, []byte(base+tt.extra+"}"), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv(EnvPath, p)
			l, err := Find()
			if err != nil {
				t.Fatal(err)
			}
			pg, ok := l.Postgres()
			if ok != (tt.want != "") || pg.DSN != tt.want {
				t.Errorf("Postgres() = %+v, %v; want dsn %q", pg, ok, tt.want)
			}
		})
	}
}

// A lab with fewer devices than a test indexes fails it with what to run,
// in and out of CI, instead of letting the test panic on the index.
func TestNeedDevices(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lab.json")
	js := `{"devices":[{"name":"lab1","address":"127.0.0.1","port":18301},{"name":"lab2","address":"127.0.0.1","port":18302}],
	"username":"root","keyFile":"/k","knownHosts":"/kh"}`
	if err := os.WriteFile(p, []byte(js), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvPath, p)
	t.Setenv("CI", "")
	r := &recTB{TB: t}
	if l := NeedDevices(r, 2); l == nil || r.failed || r.skipped {
		t.Errorf("2 of 2: lab %v, failed %v skipped %v %q", l, r.failed, r.skipped, r.msg)
	}
	r = &recTB{TB: t}
	if l := NeedDevices(r, 3); l != nil || !r.failed || !strings.Contains(r.msg, "needs 3 lab devices, the lab at "+p+" has 2: run bash lab/lab.sh up 3") {
		t.Errorf("3 of 2: lab %v, failed %v, msg %q", l, r.failed, r.msg)
	}
}
