package pool

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestRunDoesEveryItemWithinLimit(t *testing.T) {
	for _, tc := range []struct{ n, limit int }{{0, 3}, {1, 3}, {10, 3}, {5, 0}, {3, 10}} {
		var running, peak atomic.Int32
		done := make([]atomic.Int32, tc.n)
		Pool{Limit: tc.limit}.Run(context.Background(), tc.n, func(_ context.Context, w, i int) {
			now := running.Add(1)
			defer running.Add(-1)
			for {
				p := peak.Load()
				if now <= p || peak.CompareAndSwap(p, now) {
					break
				}
			}
			if w < 0 || w >= max(tc.limit, 1) {
				t.Errorf("n %d limit %d: worker %d out of range", tc.n, tc.limit, w)
			}
			done[i].Add(1)
			runtime.Gosched()
		}, func(i int, err error) { t.Errorf("item %d failed: %v", i, err) })
		for i := range done {
			if got := done[i].Load(); got != 1 {
				t.Errorf("n %d limit %d: item %d ran %d times", tc.n, tc.limit, i, got)
			}
		}
		if p := int(peak.Load()); p > max(tc.limit, 1) {
			t.Errorf("n %d limit %d: %d at once", tc.n, tc.limit, p)
		}
	}
}

func TestRunTurnsPanicIntoError(t *testing.T) {
	var mu sync.Mutex
	failed := map[int]error{}
	var ran atomic.Int32
	Pool{Limit: 2}.Run(context.Background(), 6, func(_ context.Context, _, i int) {
		if i == 3 {
			panic("bad item")
		}
		ran.Add(1)
	}, func(i int, err error) {
		mu.Lock()
		defer mu.Unlock()
		failed[i] = err
	})
	if ran.Load() != 5 || len(failed) != 1 {
		t.Fatalf("ran %d, failed %v; want 5 and item 3", ran.Load(), failed)
	}
	var pe *PanicError
	if !errors.As(failed[3], &pe) || pe.Value != "bad item" || !strings.Contains(failed[3].Error(), "internal error: bad item") || len(pe.Stack) == 0 {
		t.Errorf("item 3: %v; want a PanicError with the value and a stack", failed[3])
	}
}
