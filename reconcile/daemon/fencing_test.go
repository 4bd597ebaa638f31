package daemon

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/lab/labtest"
	"github.com/netrecon/netrecon/reconcile/journal"
)

// A replica whose lease epoch was taken over while it still believes it
// holds it (its keeper has not renewed yet: a pause shorter than its own
// clock can see) changes no device: the apply engine journals before it
// acts, and the database refuses that write. The replica's own clock never
// stops it here, so only the database can.
func TestReplicaTakenOverChangesNoDevice(t *testing.T) {
	admin := labtest.PostgresDSN(t)
	if admin == "" {
		return
	}
	dsn, _ := healthDatabase(t, admin)
	l := newLab(t, exampleFiles(t))
	l.cfg.State = StateConfig{Database: dsn, Replica: ReplicaConfig{ID: "r1", LeaseTTL: Duration(time.Hour), Renew: Duration(20 * time.Minute)}}
	d := l.start(Options{})
	ctx := context.Background()
	if p := d.SyncOnce(ctx, ReasonStart); p.Error != "" || len(p.Applied) == 0 {
		t.Fatalf("first pass: %+v", p)
	}
	l.assertConverged()
	old, held := d.replica.current()
	if !held {
		t.Fatal("no lease after the first pass")
	}

	// Another process under the same id takes a new epoch (a restarted
	// pod while the old one is frozen).
	other, err := journal.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.AcquireLease(ctx, "r1", time.Hour); err != nil {
		t.Fatal(err)
	}
	runsBefore, err := other.Runs(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}

	edits := l.editRPCs()
	path := "services/acme/acme-singapore.yaml"
	l.commit("change a description", map[string]string{path: strings.Replace(l.read(path), "Singapore regional office", "Singapore office", 1)})
	p := d.SyncOnce(ctx, ReasonTick)
	if now, held := d.replica.current(); !held || now.Token != old.Token {
		t.Fatalf("the replica's own view changed (%+v, %v): the test must not rely on it", now, held)
	}
	if n := l.editRPCs(); n != edits {
		t.Errorf("the fenced replica sent %d edit-config: the database must have refused its write-ahead", n-edits)
	}
	runsAfter, err := other.Runs(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(runsAfter) != len(runsBefore) {
		t.Errorf("runs %d → %d: the database recorded a run of a fenced replica", len(runsBefore), len(runsAfter))
	}
	if len(p.Applied) != 0 {
		t.Errorf("pass applied %v", p.Applied)
	}
}
