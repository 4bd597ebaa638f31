package irr

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/backoff"
	"github.com/netrecon/netrecon/drivers/irrsim"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/schema"
)

const simPassword = "netrecon-secret" // the seed's MAINT-NETRECON

// seed is the simulator's test data with source: set to db.
func seed(t testing.TB, db string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "drivers", "irrsim", "testdata", "seed.rpsl"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "source:         JPIRR", "source:         "+db)
}

// alarmLog records the alarms raised and cleared, as the daemon's set would
// hold them.
type alarmLog struct {
	mu     sync.Mutex
	active map[string]string
	raised []string
}

func (a *alarmLog) Raise(_ context.Context, kind, subject, message string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.active == nil {
		a.active = map[string]string{}
	}
	a.active[kind+" "+subject] = message
	a.raised = append(a.raised, kind+" "+subject)
}

func (a *alarmLog) Clear(_ context.Context, kind, subject string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.active, kind+" "+subject)
}

func (a *alarmLog) has(kind, subject string) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	m, ok := a.active[kind+" "+subject]
	return m, ok
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// customer is a bgp-customer service as the schema hands it over.
func customer(name, imp, set string, dbs ...string) *schema.Service {
	var list []any
	for _, d := range dbs {
		list = append(list, d)
	}
	return &schema.Service{Kind: schema.KindBGPCustomer, Name: name, Customer: name,
		Spec: map[string]any{"import": imp, "provider_as_set": set, "irr_databases": list}}
}

func settingsFor(sim *irrsim.Sim, auth map[string]schema.SecretRef) *schema.IRRSettings {
	s := &schema.IRRSettings{MaxShrink: schema.DefaultIRRMaxShrink, Commit: schema.DefaultIRRCommit}
	for _, db := range sim.Databases() {
		s.Databases = append(s.Databases, &schema.IRRDatabase{
			Name: db.Name(), Whois: db.WhoisAddr(), Maintainer: "MAINT-NETRECON", Sources: []string{db.Name()},
			Submission: schema.IRRSubmission{Email: &schema.IRREmail{To: db.SubmissionAddress(), From: "irr@netrecon.test"}},
			Auth:       schema.IRRAuth{Password: auth[db.Name()]},
		})
	}
	return s
}

func startSim(t *testing.T, relay string, dbs ...irrsim.DatabaseOptions) *irrsim.Sim {
	t.Helper()
	for i := range dbs {
		dbs[i].Seed = seed(t, dbs[i].Name)
	}
	sim, err := irrsim.Start(context.Background(), irrsim.Options{Databases: dbs, Relay: relay})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

func openJournal(t *testing.T) *journal.Journal {
	t.Helper()
	j, err := journal.Open(context.Background(), filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func statusOf(t *testing.T, r *Registrar) map[string]api.IRRRegistration {
	t.Helper()
	st, err := r.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]api.IRRRegistration{}
	for _, s := range st {
		out[s.Database+"/"+s.Object] = s
	}
	return out
}

func members(t *testing.T, sim *irrsim.Sim, db string) string {
	t.Helper()
	o, ok := sim.DB(db).Object("as-set", "AS-NETRECON-CUSTOMERS")
	if !ok {
		t.Fatalf("%s: AS-NETRECON-CUSTOMERS is gone", db)
	}
	return strings.Join(o.List("members"), ",")
}

// Straight to the simulator's SMTP servers (no MTA): registration reads,
// changes only members:, sends, resends after a temporary refusal, and
// verifies by whois; a customer's removal takes out only what netrecon put
// in. The path through the lab MTA and the reply Maildir is
// TestRegisterThroughMTA.
func TestRegisterDirect(t *testing.T) {
	ctx := context.Background()
	sim := startSim(t, "", irrsim.DatabaseOptions{Name: "JPIRR"}, irrsim.DatabaseOptions{Name: "RADB", Faults: irrsim.Faults{RefuseTemp: 1}})
	t.Setenv("NR_TEST_IRR_PW", simPassword)
	settings := settingsFor(sim, map[string]schema.SecretRef{"JPIRR": "env:NR_TEST_IRR_PW", "RADB": "env:NR_TEST_IRR_PW"})
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	alarms := &alarmLog{}
	r := &Registrar{Journal: openJournal(t), Alarms: alarms, Now: clk.Now, Backoff: backoff.Policy{Base: time.Minute, Max: time.Hour},
		VerifyWithin: time.Hour, Whois: testWhois(), Mailer: direct{sim}}
	in := &schema.Intent{IRR: settings, Services: []*schema.Service{
		customer("acme", "AS-ACME", "AS-NETRECON-CUSTOMERS", "JPIRR", "RADB"),
		customer("globex", "AS132004", "AS-NETRECON-CUSTOMERS", "JPIRR", "RADB"),
	}}
	if err := r.Follow(ctx, in, "c1"); err != nil {
		t.Fatal(err)
	}
	st := statusOf(t, r)
	if s := st["JPIRR/AS-NETRECON-CUSTOMERS"]; s.State != api.IRRSubmitted || s.Attempts != 1 {
		t.Fatalf("JPIRR after the first pass: %+v", s)
	}
	if s := st["RADB/AS-NETRECON-CUSTOMERS"]; s.State != api.IRRFailed || s.NextTry == nil || !strings.Contains(s.Message, "451") {
		t.Fatalf("RADB refused the mail once: %+v", s)
	}
	if got := members(t, sim, "JPIRR"); got != "AS-ACME,AS132003,AS132004" {
		t.Fatalf("JPIRR members = %s; the registry's AS132003 must stay", got)
	}
	// The next pass verifies JPIRR; RADB waits for its back-off.
	if err := r.Follow(ctx, in, "c1"); err != nil {
		t.Fatal(err)
	}
	st = statusOf(t, r)
	if s := st["JPIRR/AS-NETRECON-CUSTOMERS"]; s.State != api.IRRRegistered {
		t.Fatalf("JPIRR: %+v", s)
	}
	if s := st["RADB/AS-NETRECON-CUSTOMERS"]; s.State != api.IRRFailed || s.Attempts != 1 {
		t.Fatalf("RADB resent before its back-off: %+v", s)
	}
	clk.add(time.Minute)
	for range 2 { // resend, then verify
		if err := r.Follow(ctx, in, "c1"); err != nil {
			t.Fatal(err)
		}
	}
	if s := statusOf(t, r)["RADB/AS-NETRECON-CUSTOMERS"]; s.State != api.IRRRegistered || s.Attempts != 2 {
		t.Fatalf("RADB after the resend: %+v", s)
	}
	if got := members(t, sim, "RADB"); got != "AS-ACME,AS132003,AS132004" {
		t.Fatalf("RADB members = %s", got)
	}
	n := len(sim.DB("JPIRR").Submissions())
	if err := r.Follow(ctx, in, "c2"); err != nil {
		t.Fatal(err)
	}
	if m := len(sim.DB("JPIRR").Submissions()); m != n {
		t.Fatalf("an unchanged intent mailed again (%d submissions, then %d)", n, m)
	}
	// globex leaves: AS132004 goes, AS-ACME (also the registry's) and
	// AS132003 stay.
	in.Services = in.Services[:1]
	for range 2 {
		if err := r.Follow(ctx, in, "c3"); err != nil {
			t.Fatal(err)
		}
	}
	for _, db := range []string{"JPIRR", "RADB"} {
		if got := members(t, sim, db); got != "AS-ACME,AS132003" {
			t.Errorf("%s members after the removal = %s", db, got)
		}
		if s := statusOf(t, r)[db+"/AS-NETRECON-CUSTOMERS"]; s.State != api.IRRRegistered || strings.Join(s.Members, ",") != "AS-ACME" {
			t.Errorf("%s: %+v", db, s)
		}
	}
	for _, row := range mustRows(t, r) {
		if strings.Contains(row.Text, simPassword) || strings.Contains(row.Message, simPassword) {
			t.Fatalf("the journal holds the password: %+v", row)
		}
	}
}

func mustRows(t *testing.T, r *Registrar) []journal.IRRSubmission {
	rows, err := r.Journal.IRRSubmissions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// direct hands mail to the simulated database it is addressed to, over
// SMTP, as the relay would.
type direct struct{ sim *irrsim.Sim }

func (d direct) Send(ctx context.Context, from string, to []string, msg []byte) error {
	for _, db := range d.sim.Databases() {
		if strings.HasSuffix(to[0], "@"+db.MailDomain()) {
			return SMTPRelay{Addr: db.SMTPAddr()}.Send(ctx, from, to, msg)
		}
	}
	return nil
}

// A registry that shows the change late is waited for, without an alarm,
// until verify_within; one that lost the mail gets an alarm and the change
// again, and the alarm clears once whois shows it.
func TestRegisterLateAndLost(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	dbs := []irrsim.DatabaseOptions{{Name: "JPIRR", Faults: irrsim.Faults{ShowAfter: 10 * time.Minute}}, {Name: "RADB", Faults: irrsim.Faults{Lose: true}}}
	for i := range dbs {
		dbs[i].Seed = seed(t, dbs[i].Name)
	}
	sim, err := irrsim.Start(ctx, irrsim.Options{Databases: dbs, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	t.Setenv("NR_TEST_IRR_PW", simPassword)
	settings := settingsFor(sim, map[string]schema.SecretRef{"JPIRR": "env:NR_TEST_IRR_PW", "RADB": "env:NR_TEST_IRR_PW"})
	alarms := &alarmLog{}
	r := &Registrar{Journal: openJournal(t), Alarms: alarms, Now: clk.Now, Mailer: direct{sim}, VerifyWithin: time.Hour, Whois: testWhois()}
	in := &schema.Intent{IRR: settings, Services: []*schema.Service{customer("acme", "AS132004", "AS-NETRECON-CUSTOMERS", "JPIRR", "RADB")}}
	follow := func() {
		t.Helper()
		if err := r.Follow(ctx, in, "c1"); err != nil {
			t.Fatal(err)
		}
	}
	follow()
	clk.add(5 * time.Minute)
	follow()
	st := statusOf(t, r)
	if s := st["JPIRR/AS-NETRECON-CUSTOMERS"]; s.State != api.IRRSubmitted {
		t.Fatalf("JPIRR before it shows the change: %+v", s)
	}
	if len(alarms.raised) != 0 {
		t.Fatalf("alarms while waiting: %v", alarms.raised)
	}
	clk.add(10 * time.Minute)
	follow()
	if s := statusOf(t, r)["JPIRR/AS-NETRECON-CUSTOMERS"]; s.State != api.IRRRegistered || s.Attempts != 1 {
		t.Fatalf("JPIRR once it shows the change: %+v", s)
	}
	if s := statusOf(t, r)["RADB/AS-NETRECON-CUSTOMERS"]; s.State != api.IRRSubmitted || s.Attempts != 1 {
		t.Fatalf("RADB lost it: %+v", s)
	}
	sim.DB("RADB").SetFaults(irrsim.Faults{})
	clk.add(time.Hour)
	follow()
	if _, ok := alarms.has(AlarmUnverified, "RADB/AS-NETRECON-CUSTOMERS"); !ok {
		t.Fatalf("no alarm for the lost submission: %v", alarms.raised)
	}
	if s := statusOf(t, r)["RADB/AS-NETRECON-CUSTOMERS"]; s.Attempts != 2 {
		t.Fatalf("the lost change was not sent again: %+v", s)
	}
	follow()
	if s := statusOf(t, r)["RADB/AS-NETRECON-CUSTOMERS"]; s.State != api.IRRRegistered {
		t.Fatalf("RADB after the resend: %+v", s)
	}
	if _, ok := alarms.has(AlarmUnverified, "RADB/AS-NETRECON-CUSTOMERS"); ok {
		t.Fatal("the alarm stayed after whois showed the change")
	}
}
