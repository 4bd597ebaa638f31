package planner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/plan"
)

const scheduledCircuit = `apiVersion: netrecon.io/v1
kind: attachment-circuit
metadata:
  name: acme-tokyo-new
  customer: acme
  activate: 2026-12-05T09:00:00+09:00
  deactivate: "2027-03-31 18:00 Asia/Tokyo"
spec:
  device: pe1-tyo
  interface: ge-0/0/1
  vlan: 777
  ipv4: 100.64.7.1/30
`

// A merged service with a window: nothing now, its config at activate, its
// removal at deactivate, each in its own boundary section.
func TestOfflinePlanHasBoundarySections(t *testing.T) {
	dir := exampleRepo(t)
	if err := os.WriteFile(filepath.Join(dir, "services/acme/acme-tokyo-new.yaml"), []byte(scheduledCircuit), 0o644); err != nil {
		t.Fatal(err)
	}
	commit(t, dir, "a scheduled circuit")
	now := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	p, err := FromGit(context.Background(), GitOptions{Dir: dir, Base: "HEAD~1", Head: "HEAD", At: now})
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary().HasChanges() {
		t.Errorf("now (before activate) the merge changes %+v; want nothing", p.Summary())
	}
	if len(p.Boundaries) != 2 {
		t.Fatalf("boundaries = %d, want 2 (activate, deactivate)", len(p.Boundaries))
	}
	act, deact := p.Boundaries[0], p.Boundaries[1]
	if got := act.At.Format("2006-01-02 15:04 -07:00"); got != "2026-12-05 09:00 +09:00" || len(act.Activate) != 1 || act.Activate[0] != "acme-tokyo-new" {
		t.Errorf("first boundary = %s %v, want 2026-12-05 09:00 +09:00 activating acme-tokyo-new", got, act.Activate)
	}
	if got := deact.At.Format("2006-01-02 15:04 -07:00"); got != "2027-03-31 18:00 +09:00" || len(deact.Deactivate) != 1 {
		t.Errorf("second boundary = %s %v, want 2027-03-31 18:00 +09:00 deactivating acme-tokyo-new", got, deact.Deactivate)
	}
	if c := changesOf(act, "777"); c.creates == 0 || c.deletes != 0 {
		t.Errorf("activate: %+v, want creations of unit 777 only", c)
	}
	if c := changesOf(deact, "777"); c.deletes == 0 || c.creates != 0 {
		t.Errorf("deactivate: %+v, want deletions of unit 777 only", c)
	}

	// Planned at activate, the merge itself configures it, and one boundary
	// is left.
	p, err = FromGit(context.Background(), GitOptions{Dir: dir, Base: "HEAD~1", Head: "HEAD", At: act.At})
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Summary(); s.Create == 0 || len(p.Boundaries) != 1 {
		t.Errorf("at activate: summary %+v, %d boundaries; want creations now and the deactivate left", s, len(p.Boundaries))
	}
}

type counts struct{ creates, deletes int }

func changesOf(b plan.Boundary, unit string) counts {
	var c counts
	for _, d := range b.Devices {
		for _, ch := range d.Changes {
			if !strings.Contains(string(ch.Path), unit) {
				continue
			}
			if ch.Action == configtree.Delete {
				c.deletes++
			} else {
				c.creates++
			}
		}
	}
	return c
}
