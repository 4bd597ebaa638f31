package journal_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/netrecon/netrecon/reconcile/journal"
)

// An apply records each phase before entering it; after a crash, Unfinished
// tells the next start where each device was left.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "journal-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	j, err := journal.Open(ctx, filepath.Join(dir, "journal.db"))
	if err != nil {
		log.Fatal(err)
	}
	id, err := j.BeginRun(ctx, journal.Run{IntentCommit: "3f2a9c1", StartedBy: "daemon", Atomic: true},
		[]string{"pe1", "pe2"})
	if err != nil {
		log.Fatal(err)
	}
	for _, step := range []struct {
		device    string
		phase     journal.Phase
		persistID string
	}{
		{"pe1", journal.Locked, ""},
		{"pe2", journal.Locked, ""},
		{"pe1", journal.Committed, "netrecon-1-pe1"},
	} {
		if err := j.EnterPhase(ctx, id, step.device, step.phase, step.persistID, ""); err != nil {
			log.Fatal(err)
		}
	}
	j.Close() // the process dies here: no FinishRun

	j, err = journal.Open(ctx, filepath.Join(dir, "journal.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer j.Close()
	runs, err := j.Unfinished(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range runs {
		fmt.Printf("run %d of %s is %s\n", r.ID, r.IntentCommit, r.Outcome)
		for _, d := range r.Devices {
			fmt.Printf("  %s: %s %s\n", d.Device, d.Phase, d.PersistID)
		}
	}
	// Output:
	// run 1 of 3f2a9c1 is running
	//   pe1: committed netrecon-1-pe1
	//   pe2: locked
}
