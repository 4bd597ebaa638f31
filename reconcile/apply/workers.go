package apply

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// forEach runs fn(i) for i in [0, n) with at most limit at once. A panic in
// fn is turned into an error given to failed, with the stack, so that one bad
// device cannot take the process (and every other device's transaction) down.
// A fn that calls runtime.Goexit sets halted, and no further fn is started:
// that is how a PhaseHook simulates a crash.
func forEach(ctx context.Context, n, limit int, halted *atomic.Bool, fn func(ctx context.Context, i int), failed func(i int, err error)) {
	if halted == nil {
		halted = new(atomic.Bool)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(limit, 1))
	for i := range n {
		sem <- struct{}{}
		if halted.Load() {
			<-sem
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			normal := false
			defer func() {
				if p := recover(); p != nil {
					failed(i, fmt.Errorf("internal error: %v\n%s", p, debug.Stack()))
					return
				}
				if !normal {
					halted.Store(true)
				}
			}()
			fn(ctx, i)
			normal = true
		}()
	}
	wg.Wait()
}
