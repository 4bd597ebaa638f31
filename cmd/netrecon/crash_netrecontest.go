//go:build netrecontest

package main

import (
	"os"
	"strings"
	"sync"
	"syscall"

	"github.com/netrecon/netrecon/reconcile/apply"
)

// crashAt wraps r with the crash tests' hook, built only with -tags
// netrecontest: NETRECON_TEST_CRASH_AT=PHASE (or PHASE@DEVICE) kills the
// process with SIGKILL at the progress event of that phase — journaled, not
// yet entered — and NETRECON_TEST_CRASH_AT=journal:BATCH at a batch event,
// just before that journal batch is written (apply.Event), so tests can
// check that recovery leaves every device on its old or its new
// configuration. NETRECON_TEST_STOP_AT=PHASE[@DEVICE] sends SIGSTOP instead,
// once, so that a test can pause a replica past its lease and then resume it.
func crashAt(r apply.Reporter) apply.Reporter {
	kill, stop := os.Getenv("NETRECON_TEST_CRASH_AT"), os.Getenv("NETRECON_TEST_STOP_AT")
	if kill == "" && stop == "" {
		return r
	}
	c := crashReporter{Reporter: r, sig: syscall.SIGKILL, at: kill}
	if kill == "" {
		c.sig, c.at = syscall.SIGSTOP, stop
	}
	c.phase, c.device, _ = strings.Cut(c.at, "@")
	return &c
}

type crashReporter struct {
	apply.Reporter
	at, phase, device string
	sig               syscall.Signal
	once              sync.Once
}

func (c *crashReporter) Event(e apply.Event) {
	if e.Phase == c.phase && (c.device == "" || c.device == e.Device) {
		// A stop happens once in the process's life (the reporter is
		// made per apply: the variable is cleared instead).
		c.once.Do(func() {
			if c.sig == syscall.SIGSTOP {
				os.Unsetenv("NETRECON_TEST_STOP_AT")
			}
			syscall.Kill(os.Getpid(), c.sig)
		})
	}
	c.Reporter.Event(e)
}
