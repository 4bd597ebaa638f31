// Package session leases device sessions to the steps that talk to devices,
// so that a run opens one session per device rather than one per step.
//
// A session costs an SSH handshake, the NETCONF subsystem and the hellos —
// about 20-25 ms of server CPU and 0.1-0.3 s of wall on the lab's yuma123
// netconfd behind OpenSSH (more where the login shell runs an rc file: the
// lab's used to cost 0.13 s more), against 2 ms for lock, edit, commit and
// unlock on an open session (lab/NOTES.md). The live
// planner and apply each ask a reconcile.Dialer for a session; a Pool's
// Dialer answers from the device's open session when it has one, and a
// session handed back (Close on the lease) goes back to the pool instead of
// ending.
//
// The rules a Pool keeps:
//
//   - At most one session per device. A second lease of a device waits for
//     the first to end, unless the first one's session failed: then the new
//     lease replaces it.
//   - A session that failed is discarded, never reused: an RPC that got no
//     answer in time or lost its transport (reconcile.ErrSessionLost), or was
//     cut by its context. A session that comes back with a lock held, an
//     edited candidate or a confirmed commit still pending is closed too, so
//     that nothing a lease did outlives it (the device drops the locks and
//     the edits with the session; a persisted confirmed commit survives and
//     rolls back at its timeout). Locks are never held across a release.
//   - A pooled session that died while nobody held it (the device restarted
//     its server, a firewall forgot the connection) is replaced at the first
//     RPC of the next lease when that RPC is a read or a lock and failed on
//     the transport at once: nothing the lease did depended on it. A reply
//     that never comes fails the lease's attempt (the driver's per-RPC
//     deadline), and the next lease dials.
//   - Close ends every session; a lease still out is ended when it is
//     handed back. Dial after Close fails with ErrClosed.
//   - Prefetch opens sessions in the background for devices the caller is
//     about to lease, so that their set-up overlaps the caller's other work
//     (a CLI run reads its journal meanwhile); a prefetch that failed
//     answers the next lease with its error instead of dialing again, and
//     Close stops it and closes what it opened.
//
// Options add what a daemon needs to keep sessions warm between passes: a
// keepalive RPC on idle sessions (a read of the device's sessions, RFC 6022,
// unless Options.Probe says otherwise), a background reconnect with capped
// exponential back-off after a session was lost, and an idle timeout after
// which a session nobody leased is closed. The zero Options is a pool for one
// CLI run: no background work, everything closed by Close.
//
// Health and Stats report each device's session (state, age, last use,
// failures, reconnects) and the pool's counters, for the daemon's status and
// metrics. A lease names the sessions netrecon itself holds on its device
// (OwnSessionIDs), so that the operator-session guard does not take a
// session the pool just replaced for an operator.
//
// The package imports only the reconcile vocabulary: any reconcile.Dialer can
// feed it, the NETCONF driver in production and the simulator in tests.
package session
