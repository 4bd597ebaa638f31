package irr

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/drivers/irrsim"
)

// The daemon's sync runs once per period (the last run's time is in the
// journal), in a clone of its own; a held change raises an alarm, and a sync
// that cannot reach the remote raises another.
func TestScheduleRunsDailyAndAlarms(t *testing.T) {
	ctx := context.Background()
	sim := startSim(t, "", irrsim.DatabaseOptions{Name: "JPIRR"}, irrsim.DatabaseOptions{Name: "RADB"})
	in := syncIntent(sim)
	remote, _ := intentRepo(t, map[string]string{"README.md": "intent\n"})
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	alarms := &alarmLog{}
	j := openJournal(t)
	s := &Schedule{Every: 24 * time.Hour, RepoURL: remote, WorkDir: filepath.Join(t.TempDir(), "clone"), State: j, Alarms: alarms,
		Propose: ProposeOptions{Base: "main", Mode: CommitBranch, Now: clk.Now}, Sync: SyncOptions{Whois: testWhois()}, Now: clk.Now}
	if err := s.Run(ctx, in); err != nil {
		t.Fatal(err)
	}
	branch := gitCLI(t, remote, "rev-parse", "irr-sync")
	if !strings.Contains(gitCLI(t, remote, "show", "irr-sync:generated/irr/as-acme.yaml"), `"198.51.100.128/25"`) {
		t.Fatal("the first sync pushed no prefix list")
	}
	// The list reaches main as a reviewer's merge puts it there.
	gitCLI(t, remote, "update-ref", "refs/heads/main", branch)

	for _, db := range []string{"JPIRR", "RADB"} {
		sim.DB(db).Put(mustObject(t, "as-set: AS-ACME\nmembers: AS-ACME-SUB\nmnt-by: MAINT-ACME\nsource: "+db+"\n"))
	}
	clk.add(23 * time.Hour)
	if err := s.Run(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, held := alarms.has(AlarmSyncHeld, "sync"); held || gitCLI(t, remote, "rev-parse", "irr-sync") != branch {
		t.Fatal("synced again before a day passed")
	}
	clk.add(time.Hour)
	if err := s.Run(ctx, in); err != nil {
		t.Fatal(err)
	}
	if msg, held := alarms.has(AlarmSyncHeld, "sync"); !held || !strings.Contains(msg, "refs/heads/irr-sync") {
		t.Fatalf("a shrink raised no alarm: %q", msg)
	}
	if gitCLI(t, remote, "rev-parse", "main") != branch {
		t.Fatal("a held sync moved main")
	}

	os.RemoveAll(remote)
	clk.add(24 * time.Hour)
	if err := s.Run(ctx, in); err == nil {
		t.Fatal("a sync without its remote succeeded")
	}
	if _, failing := alarms.has(AlarmSyncFailing, "sync"); !failing {
		t.Fatal("a failed sync raised no alarm")
	}
}
