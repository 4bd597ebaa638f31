//go:build race

package daemon

// raceEnabled shrinks the soak test: the race detector slows the simulator
// and the daemon tenfold, and the soak is about behaviour, not scale.
const raceEnabled = true
