// Package pool owns netrecon's one bounded worker pool: a fixed number of
// workers over the indexes [0, n), each item's panic turned into an error so
// that one bad device, file or template cannot take the process (and every
// other item's work) down. DESIGN invariant 5: bounded concurrency.
package pool
