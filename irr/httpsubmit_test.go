package irr

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/backoff"
	"github.com/netrecon/netrecon/drivers/irrsim"
	"github.com/netrecon/netrecon/schema"
)

// Through IRRd's HTTP submission API (the simulator's): accepted at once and
// then verified by whois; a 503 is retried after the back-off; a wrong
// password is the registry's refusal, reported and not sent again.
func TestRegisterHTTP(t *testing.T) {
	ctx := context.Background()
	sim := startSim(t, "", irrsim.DatabaseOptions{Name: "JPIRR"}, irrsim.DatabaseOptions{Name: "RADB", Faults: irrsim.Faults{RefuseTemp: 1}},
		irrsim.DatabaseOptions{Name: "NTTCOM"})
	t.Setenv("NR_TEST_IRR_PW", simPassword)
	t.Setenv("NR_TEST_IRR_WRONG", "guess")
	settings := settingsFor(sim, map[string]schema.SecretRef{"JPIRR": "env:NR_TEST_IRR_PW", "RADB": "env:NR_TEST_IRR_PW", "NTTCOM": "env:NR_TEST_IRR_WRONG"})
	for _, db := range settings.Databases {
		db.Submission = schema.IRRSubmission{HTTP: &schema.IRRHTTP{URL: sim.DB(db.Name).SubmitURL()}}
	}
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	alarms := &alarmLog{}
	r := &Registrar{Journal: openJournal(t), Alarms: alarms, Now: clk.Now, Backoff: backoff.Policy{Base: time.Minute, Max: time.Hour},
		VerifyWithin: time.Hour, Whois: testWhois()}
	in := &schema.Intent{IRR: settings, Services: []*schema.Service{customer("acme", "AS132004", "AS-NETRECON-CUSTOMERS", "JPIRR", "RADB", "NTTCOM")}}
	follow := func() {
		t.Helper()
		if err := r.Follow(ctx, in, "c1"); err != nil {
			t.Fatal(err)
		}
	}
	follow()
	st := statusOf(t, r)
	if s := st["JPIRR/AS-NETRECON-CUSTOMERS"]; s.State != api.IRRAccepted {
		t.Fatalf("JPIRR: %+v", s)
	}
	if s := st["RADB/AS-NETRECON-CUSTOMERS"]; s.State != api.IRRFailed || !strings.Contains(s.Message, "HTTP 503") {
		t.Fatalf("RADB: %+v", s)
	}
	if s := st["NTTCOM/AS-NETRECON-CUSTOMERS"]; s.State != api.IRRRefused || !strings.Contains(s.Message, "Authorisation for [as-set] AS-NETRECON-CUSTOMERS failed") {
		t.Fatalf("NTTCOM: %+v", s)
	}
	if _, ok := alarms.has(AlarmRefused, "NTTCOM/AS-NETRECON-CUSTOMERS"); !ok {
		t.Error("no refusal alarm")
	}
	clk.add(time.Minute)
	follow()
	follow()
	st = statusOf(t, r)
	for _, db := range []string{"JPIRR", "RADB"} {
		if s := st[db+"/AS-NETRECON-CUSTOMERS"]; s.State != api.IRRRegistered {
			t.Errorf("%s: %+v", db, s)
		}
	}
	if s := st["NTTCOM/AS-NETRECON-CUSTOMERS"]; s.State != api.IRRRefused || s.Attempts != 1 {
		t.Errorf("NTTCOM sent again: %+v", s)
	}

	// IRRd's HTTP API has no PGP: said before anything is sent.
	settings.Database("JPIRR").Auth = schema.IRRAuth{PGP: &schema.IRRPGP{Key: "env:NR_TEST_IRR_PW", KeyID: "0x01234567"}}
	in.Services = append(in.Services, customer("globex", "AS132005", "AS-NETRECON-CUSTOMERS", "JPIRR"))
	follow()
	if s := statusOf(t, r)["JPIRR/AS-NETRECON-CUSTOMERS"]; s.State != api.IRRFailed || !strings.Contains(s.Message, "passwords only") {
		t.Errorf("PGP over HTTP: %+v", s)
	}
}
