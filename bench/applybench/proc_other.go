//go:build !linux

package applybench

import (
	"errors"
	"os"
	"time"
)

// The peak memory figures need Linux's /proc; elsewhere the benchmark
// refuses rather than report a peak it did not measure.
var errNoProc = errors.New("applybench measures peak memory through /proc: Linux only")

func resetPeakRSS() error       { return errNoProc }
func peakRSS() (int64, error)   { return 0, errNoProc }
func processMaxRSS() int64      { return 0 }
func processCPU() time.Duration { return 0 }

func childUsage(*os.ProcessState) (int64, time.Duration) { return 0, 0 }
