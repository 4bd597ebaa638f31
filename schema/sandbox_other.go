//go:build !linux

package schema

import "time"

// limitMemory is a no-op where RLIMIT_AS is not dependable: the parent's
// deadline still bounds the child, and its soft memory limit stays set.
func limitMemory(int64) error { return nil }

// limitCPU is a no-op where RLIMIT_CPU is not wired: the parent still
// refuses a child that used more than its CPU time, and its wall deadline
// ends one that runs away.
func limitCPU(time.Duration) error { return nil }
