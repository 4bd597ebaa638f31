//go:build netrecontest

package main

import (
	"os"
	"strings"
	"syscall"

	"github.com/netrecon/netrecon/reconcile/apply"
)

// crashAt wraps r with the crash tests' hook, built only with -tags
// netrecontest: NETRECON_TEST_CRASH_AT=PHASE (or PHASE@DEVICE) kills the
// process with SIGKILL at the progress event of that phase — journaled, not
// yet entered — and NETRECON_TEST_CRASH_AT=journal:BATCH at a batch event,
// just before that journal batch is written (apply.Event), so tests can
// check that recovery leaves every device on its old or its new
// configuration.
func crashAt(r apply.Reporter) apply.Reporter {
	at := os.Getenv("NETRECON_TEST_CRASH_AT")
	if at == "" {
		return r
	}
	phase, device, _ := strings.Cut(at, "@")
	return crashReporter{r, phase, device}
}

type crashReporter struct {
	apply.Reporter
	phase, device string
}

func (c crashReporter) Event(e apply.Event) {
	if e.Phase == c.phase && (c.device == "" || c.device == e.Device) {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
	c.Reporter.Event(e)
}
