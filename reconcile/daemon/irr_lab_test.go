package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/backoff"
	"github.com/netrecon/netrecon/drivers/irrsim"
	"github.com/netrecon/netrecon/irr"
	"github.com/netrecon/netrecon/lab/labtest"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/schema"
)

// bgpCustomerType is a user-defined bgp-customer for a branch where the
// built-in kind (issue 16's service type) is not there: the same fields,
// rendered as a BGP neighbour on Junos. Once the kind is built in, the
// test uses that one.
var bgpCustomerType = map[string]string{
	"service-types/bgp-customer/type.yaml": "description: eBGP to a customer whose import is registered in the IRR\n" +
		"lists:\n  - path: /configuration/protocols/bgp/group/neighbor\n    keys: [name]\n",
	"service-types/bgp-customer/schema.cue": `package bgpcustomer

#Spec: {
	device!:          string
	neighbor!:        string
	customer_as!:     int & >=1 & <=4294967295
	import!:          string
	max_prefix!:      int & >=1
	provider_as_set!: string
	irr_databases!: [...string]
}
`,
	"service-types/bgp-customer/junos.xml.tmpl": `<configuration>
  <protocols>
    <bgp>
      <group>
        <name>customers</name>
        <neighbor>
          <name>{{ .Spec.neighbor }}</name>
          <peer-as>{{ .Spec.customer_as }}</peer-as>
        </neighbor>
      </group>
    </bgp>
  </protocols>
</configuration>
`,
}

// The "done when", end to end: a commit on main adds a bgp-customer;
// the daemon's pass applies it and then mails the provider as-set's change
// through the lab's exim to three simulated registries. JPIRR accepts it
// (authenticated by the maintainer's password) and whois shows it; RADB
// refuses the first mail (451), gets it again and shows it; NTTCOM's
// password is wrong: its reply is the status's message and an alarm, and
// later passes do not mail it again.
func TestLabIRRRegistrationFollowsMain(t *testing.T) {
	m := labtest.LoadMTA(t)
	if t.Failed() || m.Address == "" {
		return
	}
	files := exampleFiles(t)
	// The PR adds the only bgp-customer: drop any the example carries.
	for name, b := range files {
		if strings.Contains(string(b), "kind: bgp-customer") || strings.HasPrefix(name, "generated/") {
			delete(files, name)
		}
	}
	if _, builtin := schema.BuiltinSchema(schema.KindBGPCustomer); !builtin {
		for name, text := range bgpCustomerType {
			files[name] = []byte(text)
		}
	}
	seed, err := os.ReadFile(filepath.Join("..", "..", "drivers", "irrsim", "testdata", "seed.rpsl"))
	if err != nil {
		t.Fatal(err)
	}
	var dbs []irrsim.DatabaseOptions
	var settings strings.Builder
	settings.WriteString("apiVersion: netrecon.io/v1\nkind: irr-settings\ndatabases:\n")
	for _, d := range m.Databases {
		dbs = append(dbs, irrsim.DatabaseOptions{Name: d.Name, MailDomain: d.MailDomain, WhoisAddr: d.Whois, SMTPAddr: d.SMTP,
			Seed: strings.ReplaceAll(string(seed), "source:         JPIRR", "source:         "+d.Name)})
		secret := "env:NR_TEST_IRR_PASSWORD"
		if d.Name == "NTTCOM" {
			secret = "env:NR_TEST_IRR_WRONG"
		}
		fmt.Fprintf(&settings, "  - name: %s\n    whois: %s\n    submission: {email: {to: auto-dbm@%s, from: %s}}\n    maintainer: MAINT-NETRECON\n    auth: {password: {secret: %q}}\n",
			d.Name, d.Whois, d.MailDomain, m.ReplyAddress, secret)
	}
	files[schema.IRRSettingsFile] = []byte(settings.String())
	sim, err := irrsim.Start(context.Background(), irrsim.Options{Databases: dbs, Relay: m.Address})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	sim.DB("RADB").SetFaults(irrsim.Faults{RefuseTemp: 1})
	t.Setenv("NR_TEST_IRR_PASSWORD", "netrecon-secret")
	t.Setenv("NR_TEST_IRR_WRONG", "guess")

	l := newLab(t, files)
	l.cfg.IRR = IRRConfig{SMTPRelay: m.Address, ReplyMaildir: m.Maildir, VerifyWithin: Duration(time.Hour),
		Retry: RetryConfig{Base: Duration(time.Millisecond), Max: Duration(time.Millisecond)}, SyncEvery: Duration(24 * time.Hour)}
	d := l.start(Options{Follower: func(j *journal.Journal, alarms FollowerAlarms, c *Config) Follower {
		cfg := c.IRR
		return &irr.Registrar{Journal: j, Alarms: alarms, Mailer: irr.SMTPRelay{Addr: cfg.SMTPRelay, Timeout: 20 * time.Second},
			ReplyMaildir: cfg.ReplyMaildir, Backoff: backoff.Policy{Base: cfg.Retry.Base.D(), Max: cfg.Retry.Max.D()},
			VerifyWithin: cfg.VerifyWithin.D(), Log: testLogger(t)}
	}})
	ctx := context.Background()
	if p := d.SyncOnce(ctx, "test"); len(p.Failed) != 0 || p.Error != "" {
		t.Fatalf("first pass: %+v", p)
	}
	if st := d.Status(); len(st.IRR) != 0 {
		t.Fatalf("registrations before any bgp-customer: %+v", st.IRR)
	}

	commit := l.commit("stark: transit with BGP, registered in the IRR", map[string]string{
		"services/stark/stark-singapore-transit.yaml": `apiVersion: netrecon.io/v1
kind: bgp-customer
metadata:
  name: stark-singapore-transit
  customer: stark
spec:
  device: pe3-sin
  neighbor: 192.0.2.22
  customer_as: 132004
  import: AS132004
  max_prefix: 50
  provider_as_set: AS-NETRECON-CUSTOMERS
  irr_databases: [JPIRR, RADB, NTTCOM]
`})
	states := func() map[string]api.IRRRegistration {
		out := map[string]api.IRRRegistration{}
		for _, r := range d.Status().IRR {
			out[r.Database] = r
		}
		return out
	}
	var applied []string
	deadline := time.Now().Add(60 * time.Second)
	for {
		p := d.SyncOnce(ctx, "test")
		applied = append(applied, p.Applied...)
		if p.Error != "" {
			t.Fatalf("pass: %s", p.Error)
		}
		st := states()
		if st["JPIRR"].State == api.IRRRegistered && st["RADB"].State == api.IRRRegistered && st["NTTCOM"].State == api.IRRRefused {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("registration did not settle within 60 s: %+v", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if strings.Join(applied, ",") != "pe3-sin" {
		t.Errorf("devices applied: %v, want the bgp-customer's pe3-sin", applied)
	}
	st := states()
	for _, db := range []string{"JPIRR", "RADB"} {
		o, _ := sim.DB(db).Object("as-set", "AS-NETRECON-CUSTOMERS")
		if got := strings.Join(o.List("members"), ","); got != "AS-ACME,AS132003,AS132004" {
			t.Errorf("%s shows %s", db, got)
		}
		if st[db].Commit != commit {
			t.Errorf("%s: commit %s, want %s", db, st[db].Commit, commit)
		}
	}
	if st["RADB"].Attempts != 2 || st["JPIRR"].Attempts != 1 {
		t.Errorf("attempts: JPIRR %d, RADB %d; want 1 and 2 (RADB's first mail refused)", st["JPIRR"].Attempts, st["RADB"].Attempts)
	}
	if !strings.Contains(st["NTTCOM"].Message, "Authorisation for [as-set] AS-NETRECON-CUSTOMERS failed") {
		t.Errorf("NTTCOM's status does not carry the registry's refusal: %q", st["NTTCOM"].Message)
	}
	found := false
	for _, a := range d.Status().Alarms {
		if a.Kind == irr.AlarmRefused && a.Device == "NTTCOM/AS-NETRECON-CUSTOMERS" {
			found = true
		}
	}
	if !found {
		t.Errorf("no %s alarm for NTTCOM: %+v", irr.AlarmRefused, d.Status().Alarms)
	}
	sent := len(sim.DB("NTTCOM").Submissions())
	for range 3 {
		d.SyncOnce(ctx, "test")
	}
	if n := len(sim.DB("NTTCOM").Submissions()); n != sent || states()["NTTCOM"].State != api.IRRRefused {
		t.Errorf("the refused change was mailed again: %d mails, then %d", sent, n)
	}
}
