// Package applybench measures one two-phase apply of a change set over many
// simulated devices, with the simulator in a process of its own: the figures
// it reports (wall time, CPU time, peak resident memory, bytes allocated) are
// netrecon's, not the simulator's, which in one process would share the CPU
// and the heap and hide where the time and the memory go.
//
// Run starts the simulator by running its own executable again with
// SimEnv set (the command in bench/cmd/applybench does this from main, see
// MaybeSim), reads the devices from the child's first line of output, plans
// them live, then applies the plan and measures the apply alone. Peak memory
// is the kernel's high-water mark of this process (VmHWM), reset just before
// the apply (Linux /proc/self/clear_refs), so that neither the set-up nor the
// plan counts.
package applybench
