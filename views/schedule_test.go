package views

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/netrecon/netrecon/reconcile/plan"
)

// scheduledPlan is samplePlan with what the head does later by itself: a
// service that starts at 09:00 Tokyo time, and one that stops.
func scheduledPlan(t *testing.T) *plan.Plan {
	p := samplePlan(t)
	tokyo := time.FixedZone("", 9*3600)
	empty := tree(t, "", `<interfaces `+ifNS+`/>`)
	unit := tree(t, "acme-tokyo-new", `<interfaces `+ifNS+`><interface><name>ge-0/0/1.777</name><description>new</description></interface></interfaces>`)
	p.At = time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	p.Boundaries = []plan.Boundary{
		{At: time.Date(2026, 12, 5, 9, 0, 0, 0, tokyo), Activate: []string{"acme-tokyo-new"},
			Devices: []*plan.Device{plan.DiffDevice("pe1-tyo", "ietf", empty, unit, plan.Offline)}},
		{At: time.Date(2027, 3, 31, 18, 0, 0, 0, tokyo), Deactivate: []string{"acme-tokyo-new"},
			Devices: []*plan.Device{plan.DiffDevice("pe1-tyo", "ietf", unit, empty, plan.Offline)}},
	}
	return p
}

func TestPlanBoundarySectionsGolden(t *testing.T) {
	for _, format := range PlanFormats {
		name := fmt.Sprintf("plans/scheduled.%s", format)
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			v, err := NewPlan(format, &b, PlanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Plan(scheduledPlan(t)); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"2026-12-05", "2027-03-31", "acme-tokyo-new", "ge-0/0/1.777"} {
				if !bytes.Contains(b.Bytes(), []byte(want)) {
					t.Errorf("%s view lacks %q", format, want)
				}
			}
			golden(t, name, b.Bytes())
		})
	}
}
