// Package schedule says which services of an intent are configured at a
// given moment, and when that changes.
//
// A service may carry a window (metadata.activate, metadata.deactivate,
// schema.Window): before activate it is planned as absent, from deactivate
// on as removed, and the ownership rules decide what removal deletes. The
// desired state is therefore a function of (commit, moment), never of the
// clock of whoever computes it: callers pass the moment in (At), and ask for
// the boundaries after it (Boundaries) to say what a commit will do later by
// itself — the offline plan's "at …" sections, the daemon's next wake-up,
// the status page's upcoming activations.
//
// A service may also wait for people: the manual steps its type declares
// (Steps) must be marked done before it is configured (a Gate, fed from the
// journal's tasks).
//
// The package computes; it applies nothing. The planner and the daemon
// consume it, so a scheduled change goes through the one plan and apply path
// like any other.
package schedule
