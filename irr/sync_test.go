package irr

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/netrecon/netrecon/drivers/irrsim"
	"github.com/netrecon/netrecon/rpsl"
	"github.com/netrecon/netrecon/schema"
)

func mustObject(t *testing.T, text string) *rpsl.Object {
	t.Helper()
	o, err := rpsl.ParseOne(text)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func syncIntent(sim *irrsim.Sim) *schema.Intent {
	return &schema.Intent{IRR: settingsFor(sim, nil), Services: []*schema.Service{
		customer("acme", "AS-ACME", "AS-NETRECON-CUSTOMERS", "JPIRR", "RADB"),
		customer("acme-2", "as-acme", "AS-NETRECON-CUSTOMERS", "RADB"),
	}}
}

// irr sync expands each import in the databases its customers name into one
// deterministic file; unchanged data changes nothing; a new route object is
// one more line; a shrink past max_shrink, or the loss of a prefix the
// customer's routes need, is held for a person.
func TestPlanSync(t *testing.T) {
	ctx := context.Background()
	sim := startSim(t, "", irrsim.DatabaseOptions{Name: "JPIRR"}, irrsim.DatabaseOptions{Name: "RADB"})
	in := syncIntent(sim)
	want, err := os.ReadFile(filepath.Join("testdata", "as-acme.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := PlanSync(ctx, in, fstest.MapFS{}, SyncOptions{Whois: testWhois()})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Updates) != 1 || plan.Held() || plan.Updates[0].File != "generated/irr/as-acme.yaml" || string(plan.Updates[0].Content) != string(want) {
		t.Fatalf("first sync: %+v\n%s", plan, plan.Updates[0].Content)
	}
	repo := fstest.MapFS{"generated/irr/as-acme.yaml": {Data: want}}
	if plan, err := PlanSync(ctx, in, repo, SyncOptions{Whois: testWhois()}); err != nil || len(plan.Updates) != 0 {
		t.Fatalf("unchanged registry: %+v, %v", plan, err)
	}

	sim.DB("JPIRR").Put(mustObject(t, "route: 192.0.2.128/25\norigin: AS132001\nmnt-by: MAINT-ACME\nsource: JPIRR\n"))
	plan, err = PlanSync(ctx, in, repo, SyncOptions{Whois: testWhois()})
	if err != nil || len(plan.Updates) != 1 || plan.Held() {
		t.Fatalf("a new route: %+v, %v", plan, err)
	}
	if got := string(plan.Updates[0].Content); got != strings.Replace(string(want), "  - \"192.0.2.0/24\"\n", "  - \"192.0.2.0/24\"\n  - \"192.0.2.128/25\"\n", 1) {
		t.Fatalf("a new route gives:\n%s", got)
	}

	// AS132001 leaves AS-ACME in both: 3 of 5 prefixes go.
	for _, db := range []string{"JPIRR", "RADB"} {
		sim.DB(db).Put(mustObject(t, "as-set: AS-ACME\nmembers: AS-ACME-SUB\nmnt-by: MAINT-ACME\nsource: "+db+"\n"))
	}
	plan, err = PlanSync(ctx, in, repo, SyncOptions{Whois: testWhois()})
	if err != nil || len(plan.Updates) != 1 || !plan.Held() {
		t.Fatalf("a shrink: %+v, %v", plan, err)
	}
	if h := strings.Join(plan.Updates[0].Hold, "\n"); !strings.Contains(h, "loses 2 of its 5 prefixes (40%, more than the 20%") {
		t.Errorf("hold reasons: %s", h)
	}
	if plan, _ := PlanSync(ctx, in, repo, SyncOptions{Whois: testWhois(), MaxShrink: 0.5}); plan.Held() {
		t.Errorf("40%% held under a 50%% limit: %v", plan.Updates[0].Hold)
	}
	needed := func(string) []netip.Prefix { return []netip.Prefix{netip.MustParsePrefix("192.0.2.0/25")} }
	if plan, err = PlanSync(ctx, in, repo, SyncOptions{Whois: testWhois(), MaxShrink: 0.5, Needed: needed}); err != nil || len(plan.Updates) != 1 {
		t.Fatalf("needed: %+v, %v", plan, err)
	}
	if h := strings.Join(plan.Updates[0].Hold, "\n"); !strings.Contains(h, "no longer covers 192.0.2.0/25") {
		t.Errorf("a needed prefix lost: %q", h)
	}

	// Nothing at all: held whatever the limit.
	for _, db := range []string{"JPIRR", "RADB"} {
		sim.DB(db).Put(mustObject(t, "as-set: AS-ACME\nmnt-by: MAINT-ACME\nsource: "+db+"\n"))
	}
	if plan, err = PlanSync(ctx, in, repo, SyncOptions{Whois: testWhois(), MaxShrink: 1}); err != nil || len(plan.Updates) != 1 {
		t.Fatalf("empty: %+v, %v", plan, err)
	}
	if h := strings.Join(plan.Updates[0].Hold, "\n"); !strings.Contains(h, "shrinks from 5 prefixes to none") {
		t.Errorf("an empty list: %q", h)
	}

	// A database that does not answer fails the sync: no partial list.
	sim.Close()
	if _, err := PlanSync(ctx, in, repo, SyncOptions{Whois: testWhois()}); err == nil {
		t.Fatal("a sync with its databases down succeeded")
	}
}

// For the seeded data, netrecon's expansion equals Debian's bgpq4's against
// the same simulator.
func TestExpandEqualsBgpq4(t *testing.T) {
	bin, err := exec.LookPath("bgpq4")
	if err != nil {
		t.Fatal("bgpq4 is not installed (apt-get install bgpq4; lab.sh install does)")
	}
	ctx := context.Background()
	sim := startSim(t, "", irrsim.DatabaseOptions{Name: "JPIRR"})
	addr := sim.DB("JPIRR").WhoisAddr()
	for _, obj := range []string{"AS-ACME", "AS-NETRECON-CUSTOMERS", "AS64500:AS-TRANSIT", "AS132002"} {
		for _, v6 := range []bool{false, true} {
			args := []string{"-h", addr, "-S", "JPIRR", "-j", "-l", "pl", "-4", obj}
			if v6 {
				args[7] = "-6"
			}
			out, err := exec.Command(bin, args...).Output()
			if err != nil {
				t.Fatalf("bgpq4 %v: %v", args, err)
			}
			var lists map[string][]struct {
				Prefix string `json:"prefix"`
			}
			if err := json.Unmarshal(out, &lists); err != nil {
				t.Fatalf("bgpq4 %v: %v\n%s", args, err, out)
			}
			var theirs []string
			for _, e := range lists["pl"] {
				theirs = append(theirs, e.Prefix)
			}
			s, err := dial(ctx, settingsFor(sim, nil).Database("JPIRR"), SyncOptions{Whois: testWhois()})
			if err != nil {
				t.Fatal(err)
			}
			p, err := Expand(ctx, s, obj, false)
			s.(interface{ Close() error }).Close()
			if err != nil {
				t.Fatal(err)
			}
			var ours []string
			for _, q := range map[bool][]netip.Prefix{false: p.V4, true: p.V6}[v6] {
				ours = append(ours, q.String())
			}
			slices.Sort(theirs)
			slices.Sort(ours)
			if !slices.Equal(ours, theirs) {
				t.Errorf("%s (v6 %v): netrecon %v, bgpq4 %v", obj, v6, ours, theirs)
			}
			if len(ours) == 0 && obj != "AS64500:AS-TRANSIT" {
				t.Errorf("%s (v6 %v): nothing to compare", obj, v6)
			}
		}
	}
}
