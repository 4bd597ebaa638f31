package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/netrecon/netrecon/reconcile/apply"
	"github.com/netrecon/netrecon/views"
)

// interrupts turns Ctrl-C (SIGINT, or SIGTERM) into netrecon's two ways of
// stopping (STYLE.md 7): the first ends stop, the graceful stop, and the
// second ends hard, the hard cancel; after that the default handler is back,
// so a third one kills the process. Each time it tells w what happens now:
// say(n) words the n-th interrupt.
type interrupts struct {
	stop, hard context.Context
	done       func()
}

func watchInterrupts(parent context.Context, w io.Writer, say func(n int) string) *interrupts {
	hard, cancelHard := context.WithCancel(parent)
	stop, cancelStop := context.WithCancel(hard)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	quit := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		for n := 1; n <= 2; n++ {
			select {
			case <-ch:
			case <-quit:
				return
			}
			fmt.Fprintf(w, "\n%s\n", say(n))
			if n == 1 {
				cancelStop()
				continue
			}
			signal.Stop(ch)
			cancelHard()
		}
	}()
	return &interrupts{stop: stop, hard: hard, done: func() {
		signal.Stop(ch)
		close(quit)
		<-exited
		cancelStop()
		cancelHard()
	}}
}

// interrupted reports whether the operator asked to stop.
func (i *interrupts) interrupted() bool { return i.stop.Err() != nil }

// applyInterruptWords are what apply says on each interrupt; applying says
// whether the transaction has begun.
func applyInterruptWords(applying func() bool, confirmTimeout string) func(int) string {
	return func(n int) string {
		switch {
		case !applying():
			return "Interrupted: stopping before this apply changes anything."
		case n == 1:
			return "Interrupted: stopping. Before the confirm step, every device of the change set is rolled back and read back; " +
				"a confirm step already begun is finished, so the change set stays whole. " +
				"Press Ctrl-C again to stop at once and leave the devices to their confirm-timeout (" + confirmTimeout + ")."
		}
		return "Interrupted again: stopping at once. A device with an unconfirmed commit rolls back by itself at its confirm-timeout (" +
			confirmTimeout + "); the run stays unfinished in the journal, and the next netrecon apply settles it first."
	}
}

// applyView is an apply.Result as views words it.
func applyView(r *apply.Result) views.ApplyResult {
	v := views.ApplyResult{Outcome: string(r.Outcome), Elapsed: r.Elapsed, Stopped: r.Stopped, Abandoned: r.Abandoned}
	for _, d := range r.Devices {
		vd := views.ApplyDevice{Name: d.Name, Phase: d.Phase, Changes: d.Changes, Committed: d.Committed,
			AtFault: d.Err != nil && !errors.As(d.Err, new(*apply.RolledBackError)) && !errors.As(d.Err, new(*apply.StoppedError))}
		if de := (*apply.DeferredError)(nil); errors.As(d.Err, &de) {
			vd.Deferred = de.Reason
		}
		v.Devices = append(v.Devices, vd)
	}
	return v
}

// applySummary is apply.Options.Summary: the views' wording, journaled with
// the run.
func applySummary(r *apply.Result) string { return views.ApplySummary(applyView(r)) }
