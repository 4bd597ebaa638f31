package pool

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// Pool runs items on at most Limit workers at once.
type Pool struct {
	// Limit bounds the items run at once; below 1 means 1.
	Limit int
}

// PanicError is a panic of one item, with the stack where it happened.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("internal error: %v\n%s", e.Value, e.Stack) }

// Run calls fn(ctx, w, i) for every i in [0, n), in order of i, and returns
// when all have ended. w in [0, Limit) names the worker running the item, for
// state a worker reuses and must not share (a CUE validator is not safe for
// concurrent use). A panic in fn(i) is given to failed as a *PanicError.
// Run does not watch ctx: an item that must not start once ctx is done
// checks it itself, so that work such as a rollback still runs.
func (p Pool) Run(ctx context.Context, n int, fn func(ctx context.Context, w, i int), failed func(i int, err error)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range min(max(p.Limit, 1), n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				one(ctx, w, i, fn, failed)
			}
		})
	}
	wg.Wait()
}

// one runs a single item, turning its panic into an error for failed.
func one(ctx context.Context, w, i int, fn func(ctx context.Context, w, i int), failed func(i int, err error)) {
	defer func() {
		if v := recover(); v != nil {
			failed(i, &PanicError{Value: v, Stack: debug.Stack()})
		}
	}()
	fn(ctx, w, i)
}
