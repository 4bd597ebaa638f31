package main

import (
	"os"
	"runtime/debug"
)

// batchGC tunes the collector for a verb that reads a whole repo once and
// exits: on the generated 10,000-service repo the default GOGC=100 spends a
// third of validate's CPU collecting garbage; at 400 it is 35-40% less CPU
// for about 80 MiB more peak memory. Plan and apply read the repo once too,
// and then the devices: on the peer benchmark's 10-device apply it is 22%
// less CPU (0.188 to 0.146 cpu-s, 10 runs) for 8 MiB more (issue 14). The
// daemon keeps the default: it lives on. A soft limit of 1 GiB makes the
// collector work hard again before a very large repo costs a lot more
// memory. GOGC or GOMEMLIMIT in the environment win. It returns the
// function that restores the previous settings (the CLI tests run verbs
// in-process).
func batchGC() (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	gc := debug.SetGCPercent(400)
	limit := debug.SetMemoryLimit(1 << 30)
	return func() {
		debug.SetGCPercent(gc)
		debug.SetMemoryLimit(limit)
	}
}
