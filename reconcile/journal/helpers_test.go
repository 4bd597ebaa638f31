package journal

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// clock is a fake clock that moves one second per reading, so that every
// stamp is distinct and predictable.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)}
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// openTemp opens a journal in a new temporary directory and closes it when
// the test ends.
func openTemp(t testing.TB, opts ...Option) (*Journal, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "journal.db")
	j, err := Open(context.Background(), path, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := j.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return j, path
}

// mustBegin begins a run or fails the test.
func mustBegin(t testing.TB, j *Journal, r Run, devices ...string) RunID {
	t.Helper()
	id, err := j.BeginRun(context.Background(), r, devices)
	if err != nil {
		t.Fatalf("BeginRun: %v", err)
	}
	return id
}

// mustEnter enters a phase or fails the test.
func mustEnter(t testing.TB, j *Journal, id RunID, device string, p Phase, persistID, detail string) {
	t.Helper()
	if err := j.EnterPhase(context.Background(), id, device, p, persistID, detail); err != nil {
		t.Fatalf("EnterPhase(%d, %s, %s): %v", id, device, p, err)
	}
}
