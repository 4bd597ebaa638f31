package views

import (
	"bytes"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/plan"
)

// A reviewer must see which pre-existing nodes a service adopts (and will
// keep on removal) and which a removal keeps, in every format, even on a
// device whose plan changes nothing else.
func TestPlanShowsAdoptedAndKept(t *testing.T) {
	p := &plan.Plan{Mode: plan.Live, Devices: []*plan.Device{{
		Name: "pe3-sin", Platform: "junos",
		Adopted: []configtree.Held{{Path: "/configuration/interfaces/interface[name=ge-0/0/5]/vlan-tagging", Leaf: true, Owners: []string{"acme-120"}}},
		Kept:    []configtree.Held{{Path: "/configuration/routing-instances/instance[name=ACME]", Owners: []string{"acme-121"}}},
	}}}
	for _, format := range PlanFormats {
		var buf bytes.Buffer
		v, err := NewPlan(format, &buf, PlanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Plan(p); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		want := []string{"interface[name=ge-0/0/5]/vlan-tagging", "instance[name=ACME]"}
		if format != "json" {
			want = append(want, "~ adopt", "(pre-existing, kept on removal)", "= keep", "pe3-sin")
		} else {
			want = append(want, `"adopted"`, `"kept"`)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s output lacks %q:\n%s", format, w, out)
			}
		}
	}
	if got := SummaryLine(p); !strings.Contains(got, "1 adopted, 1 kept") || !strings.HasPrefix(got, "No changes") {
		t.Errorf("summary %q", got)
	}
}
