package schema

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// limitMemory caps this process's address space at what it uses now plus
// budget bytes (setrlimit(2) RLIMIT_AS): an allocation past it fails, and the
// Go runtime ends the process, which is the point. The Go runtime reserves
// address space up front, so the cap counts from the current size.
func limitMemory(budget int64) error {
	statm, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return fmt.Errorf("limit memory: %w", err)
	}
	f := strings.Fields(string(statm))
	if len(f) == 0 {
		return fmt.Errorf("limit memory: /proc/self/statm is empty")
	}
	pages, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return fmt.Errorf("limit memory: /proc/self/statm: %w", err)
	}
	limit := uint64(pages*int64(os.Getpagesize()) + budget)
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
		return fmt.Errorf("limit memory: %w", err)
	}
	return nil
}

// limitCPU has the kernel kill this process once it has used d of CPU time,
// rounded up to whole seconds (setrlimit(2) RLIMIT_CPU; with the soft limit
// at the hard one the signal is SIGKILL, which the Go runtime cannot
// ignore, as it does SIGXCPU). The parent refuses a child that finished over
// d within the last second as well.
func limitCPU(d time.Duration) error {
	secs := uint64(math.Ceil(d.Seconds()))
	if err := syscall.Setrlimit(syscall.RLIMIT_CPU, &syscall.Rlimit{Cur: secs, Max: secs}); err != nil {
		return fmt.Errorf("limit CPU time: %w", err)
	}
	return nil
}
