package daemon

import (
	"fmt"
	"time"
)

// The probes, in the sense Kubernetes gives them: liveness asks "is this
// process stuck, so that only a restart helps?", readiness asks "can it do
// its work and tell the truth about it now?". A liveness probe that failed
// on a slow network or a database outage would restart healthy replicas
// into the same outage, so liveness looks at the loop alone; everything
// outside the process (the journal's database, the lease, the Git server)
// is readiness.
//
// Both read what the loop and the lease keeper last saw: a probe costs no
// query and no fetch.

// HealthConfig tunes /readyz (docs/deploy.md).
type HealthConfig struct {
	// FetchFailingFor is how long the intent repo's fetch may fail before
	// the daemon reports itself not ready (default 15m). It goes on
	// reconciling to the last good commit meanwhile: a short Git outage is
	// no reason to leave the Service.
	FetchFailingFor Duration `yaml:"fetch_failing_for"`
}

// livenessSlack is added to each bound: a loop is wedged only well past the
// moment it should have moved.
const livenessSlack = time.Minute

// passBound is how long a pass may run before the loop counts as wedged:
// the pass timeout cancels it, and a graceful stop adds the grace period,
// so a pass older than both ignores its context.
func (d *Daemon) passBound() time.Duration {
	grace := d.opts.ShutdownGrace
	if grace <= 0 {
		grace = DefaultShutdownGrace
	}
	return d.cfg.PassTimeout.D() + grace + livenessSlack
}

// idleBound is how long the loop may go without starting a pass: it wakes
// at least every poll interval.
func (d *Daemon) idleBound() time.Duration {
	return 2*d.cfg.PollInterval.D() + livenessSlack
}

// liveness says whether the loop is wedged, and why: a pass running past
// its bound, or a loop that has not started a pass for longer than it
// waits. A daemon whose loop does not run (serve --once, tests that run
// passes themselves) is judged by its passes alone.
func (d *Daemon) liveness() (ok bool, why string) {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if p := d.current; p != nil && !p.Started.IsZero() {
		if age := now.Sub(p.Started); age > d.passBound() {
			return false, fmt.Sprintf("pass %s has run for %s, past pass_timeout %s and the shutdown grace: the loop is wedged",
				p.ID, age.Round(time.Second), d.cfg.PassTimeout.D())
		}
		return true, "in a pass"
	}
	if !d.loopAt.IsZero() {
		if idle := now.Sub(d.loopAt); idle > d.idleBound() {
			return false, fmt.Sprintf("no pass started for %s (poll_interval %s): the loop is wedged",
				idle.Round(time.Second), d.cfg.PollInterval.D())
		}
	}
	return true, "ok"
}

// readiness says whether the daemon can do its work and report it truly:
// a pass has compared the network with an accepted commit; when it shares
// a database, it holds its lease and the database answers its keeper; and
// the intent repo has not failed to fetch for longer than
// health.fetch_failing_for.
func (d *Daemon) readiness() (ok bool, why string) {
	now := d.now()
	if r := d.replica; r != nil {
		if _, held := r.current(); !held {
			return false, fmt.Sprintf("replica %s holds no lease: it writes nothing until it takes a new one", r.id)
		}
		r.mu.Lock()
		since := r.unreachable
		r.mu.Unlock()
		if !since.IsZero() {
			return false, fmt.Sprintf("replica %s: the journal's database has not answered since %s (see the log)", r.id, since.UTC().Format(time.RFC3339))
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.ready {
		return false, "no pass has compared the network with an accepted commit yet"
	}
	if since := d.fetchFailingSince; !since.IsZero() && now.Sub(since) > d.cfg.Health.FetchFailingFor.D() {
		return false, fmt.Sprintf("the intent repo has failed to fetch since %s (health.fetch_failing_for %s)",
			since.UTC().Format(time.RFC3339), d.cfg.Health.FetchFailingFor.D())
	}
	return true, "ok"
}
