package journal

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestConcurrentPhases is apply running devices in parallel: 50 goroutines
// enter phases of one run at once while others read the run.
func TestConcurrentPhases(t *testing.T) { eachBackend(t, testConcurrentPhases) }

func testConcurrentPhases(t *testing.T, be backend) {
	const devices = 50
	ctx := context.Background()
	j, _ := be.open(t)
	names := make([]string, devices)
	for i := range names {
		names[i] = fmt.Sprintf("pe%02d", i)
	}
	id := mustBegin(t, j, Run{Atomic: true}, names...)
	phases := []Phase{Locked, Edited, Committed, Verified, Confirmed}

	var wg sync.WaitGroup
	errs := make(chan error, devices+4)
	for _, name := range names {
		wg.Go(func() {
			for _, p := range phases {
				persist := ""
				if p == Committed {
					persist = "persist-" + name
				}
				if err := j.EnterPhase(ctx, id, name, p, persist, ""); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 4 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				r, err := j.Run(ctx, id)
				if err != nil {
					errs <- err
					return
				}
				// Each snapshot is consistent: a device's phase is its last
				// transition.
				for _, d := range r.Devices {
					if last := d.Transitions[len(d.Transitions)-1].Phase; last != d.Phase {
						errs <- fmt.Errorf("%s: phase %s but last transition %s", d.Device, d.Phase, last)
						return
					}
				}
				if _, err := j.Runs(ctx, 5); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	r, err := j.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Devices) != devices {
		t.Fatalf("%d devices, want %d", len(r.Devices), devices)
	}
	for _, d := range r.Devices {
		if d.Phase != Confirmed || d.PersistID != "persist-"+d.Device {
			t.Errorf("%s: phase %s persist %q", d.Device, d.Phase, d.PersistID)
		}
		var got []Phase
		for _, tr := range d.Transitions {
			got = append(got, tr.Phase)
		}
		want := append([]Phase{Pending}, phases...)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: transitions %v, want %v", d.Device, got, want)
		}
	}
}

// Environment of the helper process of TestTwoProcesses.
const (
	helperPathEnv = "JOURNAL_TEST_HELPER_PATH"
	helperRunEnv  = "JOURNAL_TEST_HELPER_RUN"
	helperPhases  = 200
)

// TestTwoProcesses is the CLI writing while the daemon writes: this test
// binary runs itself as a second process, and both write to one file at once.
func TestTwoProcesses(t *testing.T) { eachBackend(t, testTwoProcesses) }

func testTwoProcesses(t *testing.T, be backend) {
	if testing.Short() {
		t.Skip("starts a second process")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	j, path := be.open(t)
	mine := mustBegin(t, j, Run{StartedBy: "daemon"}, "pe1")
	theirs := mustBegin(t, j, Run{StartedBy: "cli:test"}, "pe1")

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperPathEnv+"="+path, helperRunEnv+"="+strconv.FormatInt(int64(theirs), 10))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait for the helper to have the file open, then write together.
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "ready" {
	}
	for i := range helperPhases {
		mustEnter(t, j, mine, "pe1", Locked, "", strconv.Itoa(i))
	}
	for sc.Scan() { // drain, so that Wait does not race the pipe
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper process: %v", err)
	}

	for _, id := range []RunID{mine, theirs} {
		r, err := j.Run(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(r.Devices[0].Transitions); n != helperPhases+1 {
			t.Errorf("run %d: %d transitions, want %d", id, n, helperPhases+1)
		}
	}
	// The helper's own run, begun while this process wrote, got its own id.
	runs, err := j.Runs(ctx, 0)
	if err != nil || len(runs) != 3 {
		t.Fatalf("Runs: %d, %v; want 3", len(runs), err)
	}
	if be.name != "sqlite" {
		return // PostgreSQL checks its pages itself; SQLite has the pragma
	}
	var check string
	if err := j.db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: %q, %v", check, err)
	}
}

// TestHelperProcess is the second process of TestTwoProcesses; it does
// nothing in a normal test run.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperPathEnv)
	if path == "" {
		t.Skip("helper process of TestTwoProcesses")
	}
	id, err := strconv.ParseInt(os.Getenv(helperRunEnv), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	j, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	fmt.Println("ready")
	for i := range helperPhases {
		mustEnter(t, j, RunID(id), "pe1", Edited, "", strconv.Itoa(i))
		if i == helperPhases/2 {
			mustBegin(t, j, Run{StartedBy: "cli:helper"}, "pe2")
		}
	}
}
