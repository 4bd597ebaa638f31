package views

import (
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/api"
)

// netrecon status shows each database's registration, and why one is not
// registered in the registry's own words.
func TestStatusShowsIRR(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	next := now.Add(2 * time.Minute)
	st := &api.Status{GeneratedAt: now, Branch: "main", IRR: []api.IRRRegistration{
		{Database: "JPIRR", Object: "AS-NETRECON-CUSTOMERS", State: api.IRRRegistered, Attempts: 1},
		{Database: "NTTCOM", Object: "AS-NETRECON-CUSTOMERS", State: api.IRRRefused, Attempts: 1,
			Message: "Modify FAILED: [as-set] AS-NETRECON-CUSTOMERS\nERROR: Authorisation failed"},
		{Database: "RADB", Object: "AS-NETRECON-CUSTOMERS", State: api.IRRFailed, Attempts: 2, NextTry: &next, Message: "smtp: 451"},
	}}
	var b strings.Builder
	if err := Status(&b, "text", st); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"IRR registration:",
		"JPIRR      AS-NETRECON-CUSTOMERS        registered 1 attempt\n",
		"NTTCOM     AS-NETRECON-CUSTOMERS        refused    1 attempt\n    Modify FAILED: [as-set] AS-NETRECON-CUSTOMERS\n    ERROR: Authorisation failed\n",
		"RADB       AS-NETRECON-CUSTOMERS        failed     2 attempts, next in 2m",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}
