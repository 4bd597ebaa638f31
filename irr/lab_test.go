package irr

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/backoff"
	"github.com/netrecon/netrecon/drivers/irrsim"
	"github.com/netrecon/netrecon/lab/labtest"
	"github.com/netrecon/netrecon/schema"
)

// labSim starts the simulator on the ports and domains the lab's exim relays
// to, with its replies mailed back through exim; faults by database name.
func labSim(t *testing.T, m labtest.MTA, faults map[string]irrsim.Faults) (*irrsim.Sim, *schema.IRRSettings) {
	t.Helper()
	var dbs []irrsim.DatabaseOptions
	for _, d := range m.Databases {
		dbs = append(dbs, irrsim.DatabaseOptions{Name: d.Name, MailDomain: d.MailDomain, WhoisAddr: d.Whois, SMTPAddr: d.SMTP, Faults: faults[d.Name]})
	}
	sim := startSim(t, m.Address, dbs...)
	settings := settingsFor(sim, nil)
	for _, db := range settings.Databases {
		db.Submission.Email.From = m.ReplyAddress
	}
	return sim, settings
}

// until calls step until done holds, or fails the test at the deadline:
// replies come back through exim in their own time.
func until(t *testing.T, what string, d time.Duration, step func(), done func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		step()
		if done() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The "done when", at the registry end: mail through a real MTA
// (the lab's exim) to the simulated registries; JPIRR accepts with the
// maintainer's password, RADB refuses the first mail (451) and takes the
// resend, NTTCOM gets a wrong password and says so in its reply, which is
// reported and not retried.
func TestRegisterThroughMTA(t *testing.T) {
	m := labtest.LoadMTA(t)
	if t.Failed() || m.Address == "" {
		return
	}
	ctx := context.Background()
	sim, settings := labSim(t, m, map[string]irrsim.Faults{"RADB": {RefuseTemp: 1}})
	t.Setenv("NR_TEST_IRR_PW", simPassword)
	t.Setenv("NR_TEST_IRR_WRONG", "guess")
	for _, db := range settings.Databases {
		db.Auth.Password = "env:NR_TEST_IRR_PW"
		if db.Name == "NTTCOM" {
			db.Auth.Password = "env:NR_TEST_IRR_WRONG"
		}
	}
	clk := &clock{t: time.Now()}
	alarms := &alarmLog{}
	r := &Registrar{Journal: openJournal(t), Alarms: alarms, Now: clk.Now, Mailer: SMTPRelay{Addr: m.Address, Timeout: 20 * time.Second},
		ReplyMaildir: m.Maildir, Backoff: backoff.Policy{Base: time.Minute, Max: time.Hour}, VerifyWithin: time.Hour, Whois: testWhois()}
	in := &schema.Intent{IRR: settings, Services: []*schema.Service{
		customer("acme", "AS132004", "AS-NETRECON-CUSTOMERS", "JPIRR", "RADB", "NTTCOM")}}
	follow := func() {
		if err := r.Follow(ctx, in, "c1"); err != nil {
			t.Fatal(err)
		}
	}
	follow()
	if s := statusOf(t, r)["RADB/AS-NETRECON-CUSTOMERS"]; s.State != api.IRRFailed || !strings.Contains(s.Message, "451") {
		t.Fatalf("RADB's 451 through exim: %+v", s)
	}
	clk.add(time.Minute) // RADB's back-off
	until(t, "every database settled", 30*time.Second, follow, func() bool {
		st := statusOf(t, r)
		return st["JPIRR/AS-NETRECON-CUSTOMERS"].State == api.IRRRegistered && st["RADB/AS-NETRECON-CUSTOMERS"].State == api.IRRRegistered &&
			st["NTTCOM/AS-NETRECON-CUSTOMERS"].State == api.IRRRefused
	})
	st := statusOf(t, r)
	if s := st["RADB/AS-NETRECON-CUSTOMERS"]; s.Attempts != 2 {
		t.Errorf("RADB: %+v, want 2 attempts", s)
	}
	for _, db := range []string{"JPIRR", "RADB"} {
		if got := members(t, sim, db); got != "AS-ACME,AS132003,AS132004" {
			t.Errorf("%s members = %s", db, got)
		}
	}
	ntt := st["NTTCOM/AS-NETRECON-CUSTOMERS"]
	if !strings.Contains(ntt.Message, "Authorisation for [as-set] AS-NETRECON-CUSTOMERS failed") {
		t.Errorf("NTTCOM's refusal in its own words: %q", ntt.Message)
	}
	if msg, ok := alarms.has(AlarmRefused, "NTTCOM/AS-NETRECON-CUSTOMERS"); !ok || !strings.Contains(msg, "Authorisation") {
		t.Errorf("no refusal alarm: %q", msg)
	}
	if got := members(t, sim, "NTTCOM"); got != "AS-ACME,AS132003" {
		t.Errorf("NTTCOM changed without auth: %s", got)
	}
	// Not retried: later passes, even a day later, send nothing more.
	sent := len(sim.DB("NTTCOM").Submissions())
	clk.add(25 * time.Hour)
	follow()
	follow()
	if n := len(sim.DB("NTTCOM").Submissions()); n != sent {
		t.Errorf("a refused change was sent again (%d mails, then %d)", sent, n)
	}
	if s := statusOf(t, r)["NTTCOM/AS-NETRECON-CUSTOMERS"]; s.State != api.IRRRefused || s.Attempts != 1 {
		t.Errorf("NTTCOM after more passes: %+v", s)
	}
}
