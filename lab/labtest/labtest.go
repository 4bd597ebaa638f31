package labtest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gofrs/flock"
)

// EnvPath names the environment variable that points at a lab.json to use
// instead of lab/.run/lab.json.
const EnvPath = "NETRECON_LAB"

// Device is one NETCONF device of the lab.
type Device struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Port    int    `json:"port"`
	// Modules are the YANG modules an extra device loads (see Extra); empty
	// for the lab's ordinary devices.
	Modules []string `json:"modules,omitempty"`
}

// SNMP is the lab's snmpd.
type SNMP struct {
	Address   string `json:"address"` // host:port, UDP
	Community string `json:"community"`
	// MaintFile holds the output of the "maint" extend; writing "1" makes the
	// agent report an operator logged in (after its ~5 s cache).
	MaintFile string `json:"maintFile"`
}

// Lab is a running lab as described by its lab.json.
type Lab struct {
	DeviceList     []Device `json:"devices"`
	ExtraList      []Device `json:"extra"`
	User           string   `json:"username"`
	Key            string   `json:"keyFile"`
	KnownHostsFile string   `json:"knownHosts"`
	SNMPAgent      SNMP     `json:"snmp"`
	// MTAConfig is the IRR tests' mail hop; nil on a lab.json written before
	// lab.sh started one (see LoadMTA).
	MTAConfig *MTA `json:"mta,omitempty"`
	// UsageSNMPAgent is a second snmpd only the usage tests talk to, so
	// that its own request counters count their requests alone.
	UsageSNMPAgent SNMP      `json:"usageSnmp"`
	PG             *Postgres `json:"postgres,omitempty"`

	// Path is the lab.json the lab was read from.
	Path string `json:"-"`
}

// Devices returns the lab's devices, in order (lab1, lab2, ...).
func (l *Lab) Devices() []Device { return append([]Device(nil), l.DeviceList...) }

// Extra returns the extra device called name: one that lab.sh starts with a
// module set of its own (NETRECON_LAB_EXTRA), apart from Devices.
func (l *Lab) Extra(name string) (Device, bool) {
	for _, d := range l.ExtraList {
		if d.Name == name {
			return d, true
		}
	}
	return Device{}, false
}

// NoIPv6 is the extra device lab.sh starts by default: netconfd without
// ietf-ipv6-unicast-routing.
const NoIPv6 = "lab-noipv6"

// quietDevices are the extra devices lab.sh starts by default for Quiet.
var quietDevices = []string{"lab-quiet1", "lab-quiet2"}

// Quiet returns n of the lab's quiet devices (lab-quiet1, lab-quiet2), held
// by this test alone until it ends: no other test, in any package, opens a
// session to them meanwhile. It is for tests that count a device's sessions
// (the operator-session guard), which other packages' tests on lab1..labN
// disturb. A second test that asks waits for the first to end.
func Quiet(t testing.TB, n int) []Device {
	t.Helper()
	lab := Load(t)
	if lab == nil {
		return nil
	}
	if n > len(quietDevices) {
		t.Fatalf("labtest: Quiet(%d): the lab starts %d quiet devices", n, len(quietDevices))
	}
	var out []Device
	for _, name := range quietDevices[:n] {
		d, ok := lab.Extra(name)
		if !ok {
			Missing(t, "labtest: %s has no quiet device %s; restart the lab with this lab/lab.sh: bash lab/lab.sh up 5", lab.Path, name)
			return nil
		}
		out = append(out, d)
	}
	lock := flock.New(filepath.Join(filepath.Dir(lab.Path), "quiet.lock"))
	if err := lock.Lock(); err != nil {
		t.Fatalf("labtest: hold the quiet devices: %v", err)
	}
	t.Cleanup(func() { lock.Unlock() })
	return out
}

// Username is the SSH user of every device.
func (l *Lab) Username() string { return l.User }

// KeyFile is the path of the SSH private key (ed25519, no passphrase) that logs in
// to every device.
func (l *Lab) KeyFile() string { return l.Key }

// KnownHosts is the path of a known_hosts file with every device's host key.
func (l *Lab) KnownHosts() string { return l.KnownHostsFile }

// SNMP returns the lab's SNMP agent.
func (l *Lab) SNMP() SNMP { return l.SNMPAgent }

// UsageSNMP returns the agent of the usage tests; its Address is "" in a
// lab.json written before it existed (restart the lab).
func (l *Lab) UsageSNMP() SNMP { return l.UsageSNMPAgent }

// Postgres is the lab's PostgreSQL server: trust auth on loopback, the
// superuser postgres, so that a test can create a database of its own.
type Postgres struct {
	// DSN is a postgres:// URL to the server's "postgres" database.
	DSN string `json:"dsn"`
}

// Postgres returns the lab's PostgreSQL server; false when the lab runs
// without one (PostgreSQL 15 not installed when it started).
func (l *Lab) Postgres() (Postgres, bool) {
	if l.PG == nil || l.PG.DSN == "" {
		return Postgres{}, false
	}
	return *l.PG, true
}

// PostgresDSN returns the DSN of the running lab's PostgreSQL server, or ends
// the test through Missing.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	lab := Load(t)
	if lab == nil {
		return ""
	}
	pg, ok := lab.Postgres()
	if !ok {
		Missing(t, "labtest: the lab at %s runs no PostgreSQL; install it (bash lab/lab.sh install) and restart the lab (bash lab/lab.sh up 4)", lab.Path)
		return ""
	}
	return pg.DSN
}

// Load returns the running lab, or ends the test through Missing.
func Load(t testing.TB) *Lab {
	t.Helper()
	lab, err := Find()
	if err != nil {
		Missing(t, "labtest: %v; start it with: bash lab/lab.sh install && bash lab/lab.sh up 4", err)
		return nil
	}
	return lab
}

// NeedDevices returns the running lab when it has at least n devices, and
// fails the test with what to run when it has fewer (a test that indexed
// the devices would panic instead); a missing lab goes through Missing.
func NeedDevices(t testing.TB, n int) *Lab {
	t.Helper()
	lab := Load(t)
	if lab == nil {
		return nil
	}
	if m := len(lab.DeviceList); m < n {
		t.Fatalf("labtest: this test needs %d lab devices, the lab at %s has %d: run bash lab/lab.sh up %d", n, lab.Path, m, n)
		return nil
	}
	return lab
}

// Missing ends a test whose required peer (the lab, a binary such as git, an
// OS feature such as symbolic links) is not there: t.Fatalf when CI=true, as
// CI installs every peer and a skip there would turn a broken runner green;
// t.Skipf on a developer's machine.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format+" (CI=true: a test whose peer is missing fails instead of skipping)", args...)
		return
	}
	t.Skipf(format, args...)
}

// Find reads the lab description without a testing.TB, for benchmarks' and
// tools' own handling. The error says where it looked.
func Find() (*Lab, error) {
	path := os.Getenv(EnvPath)
	if path == "" {
		root, err := moduleRoot()
		if err != nil {
			return nil, fmt.Errorf("no lab: $%s is not set and %v", EnvPath, err)
		}
		path = filepath.Join(root, "lab", ".run", "lab.json")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("no lab running (%v)", err)
	}
	var l Lab
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("lab description %s: %v", path, err)
	}
	if len(l.DeviceList) == 0 || l.User == "" || l.Key == "" || l.KnownHostsFile == "" {
		return nil, fmt.Errorf("lab description %s: devices, username, keyFile and knownHosts are required", path)
	}
	l.Path = path
	return &l, nil
}

// moduleRoot walks up from the working directory (a test runs in its package's
// folder) to the folder holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}
