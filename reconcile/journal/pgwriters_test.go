package journal

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// On PostgreSQL a write does not wait for another write of the process that
// is still open (commits share WAL flushes); on SQLite, with its one
// writer, it does.
func TestWritesOverlapOnPostgres(t *testing.T) { eachBackend(t, testWritesOverlap) }

func testWritesOverlap(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t)
	held, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- j.write(ctx, func(t txn) error {
			close(held)
			<-release
			_, err := t.exec(`INSERT INTO state (key, value, updated_at) VALUES ('a', '1', 1)`)
			return err
		})
	}()
	<-held
	wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	err := j.SetState(wctx, "b", "2")
	cancel()
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	switch be.name {
	case "postgres":
		if err != nil {
			t.Errorf("a second write while one is open: %v; want it through at once", err)
		}
	case "sqlite":
		if err == nil {
			t.Error("a second write got in while one was open on SQLite's one writer")
		}
	}
}

// Many writers at once on PostgreSQL, with devices released and claimed
// again meanwhile (writeAlone), lose nothing and meet no deadlock.
func TestConcurrentFencedWritesPostgres(t *testing.T) {
	ctx := context.Background()
	j, _ := postgresBackend.open(t)
	l := mustAcquire(t, j, "a", time.Hour)
	const writers, each = 16, 20
	var devs, moving []string
	for i := range writers {
		devs = append(devs, fmt.Sprintf("pe%02d", i))
		moving = append(moving, fmt.Sprintf("mv%02d", i))
	}
	if _, err := j.ClaimDevices(ctx, l, append(append([]string{}, devs...), moving...)); err != nil {
		t.Fatal(err)
	}
	fj := j.Fenced(l)
	id := mustBegin(t, fj, Run{}, devs...)
	var wg sync.WaitGroup
	errs := make(chan error, writers*each+2*each)
	for _, d := range devs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range each {
				if err := fj.EnterPhase(ctx, id, d, Locked, "", fmt.Sprint(k)); err != nil {
					errs <- err
				}
				if err := fj.SetDeviceStates(ctx, []DeviceState{{Device: d, State: "applied"}}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range each {
			if err := j.ReleaseDevices(ctx, l, moving); err != nil {
				errs <- err
			}
			if _, err := j.ClaimDevices(ctx, l, moving); err != nil {
				errs <- err
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	r, err := j.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range r.Devices {
		if n := len(d.Transitions); n != 1+each {
			t.Errorf("%s: %d transitions, want %d", d.Device, n, 1+each)
		}
	}
}

// TestClaimsInAnyOrderDoNotDeadlock: two replicas (two processes' journals
// on one PostgreSQL database) claim the same devices at once, one in
// ascending and one in descending order, as a leader gathering a change set
// and a follower claiming its share do. Locked in the callers' orders, the
// rows deadlocked (SQLSTATE 40P01) and a claim failed.
func TestClaimsInAnyOrderDoNotDeadlock(t *testing.T) {
	ctx := context.Background()
	j1, dsn := postgresBackend.open(t)
	j2, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	l1, l2 := mustAcquire(t, j1, "r1", time.Hour), mustAcquire(t, j2, "r2", time.Hour)
	var up, down []string
	for i := range 200 {
		up = append(up, fmt.Sprintf("pe%03d", i))
	}
	down = slices.Clone(up)
	slices.Reverse(down)
	for round := range 10 {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		got := make([][]string, 2)
		for i, c := range []struct {
			j       *Journal
			l       Lease
			devices []string
		}{{j1, l1, up}, {j2, l2, down}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], errs[i] = c.j.ClaimDevices(ctx, c.l, c.devices)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if n := len(got[0]) + len(got[1]); n != len(up) {
			t.Fatalf("round %d: claimed %d + %d devices, want %d in all", round, len(got[0]), len(got[1]), len(up))
		}
		// Give them all up again, so that the next round contends anew.
		if err := j1.ReleaseDevices(ctx, l1, got[0]); err != nil {
			t.Fatal(err)
		}
		if err := j2.ReleaseDevices(ctx, l2, got[1]); err != nil {
			t.Fatal(err)
		}
	}
}
