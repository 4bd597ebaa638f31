package apply

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
)

// forEach runs fn(i) for i in [0, n) with at most limit at once. A panic in
// fn is turned into an error given to failed, with the stack, so that one bad
// device cannot take the process (and every other device's transaction) down.
func forEach(ctx context.Context, n, limit int, fn func(ctx context.Context, i int), failed func(i int, err error)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(limit, 1))
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			defer func() {
				if p := recover(); p != nil {
					failed(i, fmt.Errorf("internal error: %v\n%s", p, debug.Stack()))
				}
			}()
			fn(ctx, i)
		}()
	}
	wg.Wait()
}
