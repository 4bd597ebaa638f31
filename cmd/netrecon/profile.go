package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// envCPUProfile names a file that receives a CPU profile of the whole
// process, from the first flag parsed to the exit: the way to see where a
// CLI run's fixed cost goes (go tool pprof netrecon FILE). Unset, nothing
// is measured.
const envCPUProfile = "NETRECON_CPUPROFILE"

// startCPUProfile starts the profile envCPUProfile asks for and returns the
// function that writes it out. A profile that cannot start is said on w and
// the run goes on: it is a diagnostic, never a reason to fail a verb.
func startCPUProfile(w io.Writer) (stop func()) {
	path := os.Getenv(envCPUProfile)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(w, "netrecon: %s: %v\n", envCPUProfile, err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		fmt.Fprintf(w, "netrecon: %s: %v\n", envCPUProfile, err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(w, "netrecon: %s: %v\n", envCPUProfile, err)
		}
	}
}
