//go:build !linux

package schema

// limitMemory is a no-op where RLIMIT_AS is not dependable: the parent's
// deadline still bounds the child, and its soft memory limit stays set.
func limitMemory(int64) error { return nil }
