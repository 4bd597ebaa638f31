// Package journal records what netrecon applied, so that a crash, a restart or
// a lost Git history never leaves netrecon guessing.
//
// It keeps three things:
//
//   - runs: one per apply, with the intent commit, who started it, the plan
//     (JSON, opaque here) and the outcome;
//   - per device of a run, every phase transition, written BEFORE the phase is
//     entered (write-ahead), so that after a crash the last phase says where the
//     device was left, and the persist id says which confirmed commit to finish
//     or cancel; with it, written before the commit, the device's pre-image
//     (running, filtered, read under lock before the edit) and the ownership
//     record that holds once the commit lands;
//   - per device, the configuration tree netrecon applied last (with owners),
//     so that a later removal deletes what was applied even when the commit
//     that rendered it is gone (DESIGN.md invariant 3).
//
// and, for the daemon: each device's state (failures, back-off, deferral),
// alarms active and past, and its passes with their outcome, one row per
// device, alarm or pass so that replicas sharing a database never overwrite
// each other; plus a small key/value table ("last-applied-commit").
//
// A phase boundary of a change set is one transaction for all its devices
// (EnterPhases, with each device's pre-image and pending record in the
// committed batch; SetOwnerships after the confirming commits): a durable
// write costs an fsync, and one per device per phase made the journal the
// slowest part of a 1,000-device apply. The rows stay per device, so a
// batch reads back, and recovers, exactly as single writes do.
//
// # Storage
//
// One SQLite file through the pure-Go modernc.org/sqlite driver, behind
// database/sql, in WAL mode with a busy timeout, foreign keys on and
// synchronous=FULL (a write-ahead record must survive a power cut, or recovery
// would act on a phase older than the device's; NORMAL, in WAL mode, may
// lose the last transactions to one). With a change set's phase in one
// transaction, FULL costs an apply a dozen fsyncs, not thousands. Writers in one process take
// turns on a semaphore (SQLite has one writer); writers in two processes (the CLI while the daemon
// runs) take turns on SQLite's lock, waiting up to the busy timeout, and every
// write transaction starts with BEGIN IMMEDIATE so that no transaction ever
// has to upgrade a read lock, which SQLite refuses without waiting. Readers
// never block writers (WAL). The file is created mode 0600: persist ids let
// any session confirm a pending commit.
//
// The SQL is portable (INTEGER and TEXT columns, timestamps as INTEGER unix
// nanoseconds, INSERT ... RETURNING, ON CONFLICT ... DO UPDATE) and every
// query goes through one placeholder helper (rebind).
//
// Or PostgreSQL: Open with a postgres:// URL (pgx through database/sql). The
// dialect (dialect.go, postgres.go) rebinds placeholders to $n, turns the
// DDL's INTEGER into BIGINT and INTEGER PRIMARY KEY into an identity column,
// reads in one REPEATABLE READ snapshot, and runs the migrations under
// pg_advisory_xact_lock so that replicas starting together migrate once. The
// password comes from password_file= or password_env= in the URL, which is
// redacted in every error (RedactDSN). Up to six write transactions of a
// process are open at once there (commits share WAL flushes); the writes
// that change which lease owns a device run alone (writeAlone).
//
// # Replicas and fencing
//
// Replicas sharing a database each hold a lease (AcquireLease, RenewLease):
// a row with an expiry by the database's clock and a token from one counter
// that only grows. A replica claims devices (ClaimDevices) only when no live
// lease owns them. A journal opened Fenced or FencedBy checks, in the same
// transaction as each write, that its lease is current and owns every device
// the write names; otherwise the write is a *FencedError (ErrLeaseLost) and
// records nothing. Every transition records its writer's token. Unfenced
// (one process), none of this runs.
//
// # Tables (schema version 7)
//
//	schema_version(version PK, name, applied_at)     one row per migration applied
//	runs(id PK, intent_commit, started_by, atomic, started_at,
//	     finished_at NULL while running, outcome, summary)
//	run_plans(run_id PK → runs, plan)                 v5; before, runs.plan; gzip'd since (runplan.go)
//	device_runs(run_id → runs, device, phase, persist_id, error)   PK (run_id, device)
//	transitions(id PK, run_id, device → device_runs, phase, at, detail)
//	pending_ownership(run_id, device → device_runs, record)   v2, PK (run_id, device)
//	pre_images(run_id, device → device_runs, tree)            v3, PK (run_id, device)
//	applied(device PK, tree JSON, intent_commit, updated_at)
//	state(key PK, value, updated_at)
//	device_state(device PK, state, intent_commit, failures, last_error,
//	     next_retry, changed_at, drift_nodes, defer_guard, defer_reason, defer_until)
//	alarms(id PK, kind, device, intent_commit, message, failures, since,
//	     raised_at, cleared_at NULL while active)   one active per (kind, device)
//	passes(seq PK, id UNIQUE, reason, started_at, finished_at, head,
//	     intent_commit, error); pass_devices(pass_id, result, device);
//	     pass_runs(pass_id, run_id)                  v4; the newest KeepPasses kept
//	device_nodes(device, seq, kind, action, path, owners, live, desired, leaf)
//	     v5: the nodes the last plan found different (drift or pending), redacted
//	device_controls(device PK, paused_by, paused_reason, paused_at, heal_by,
//	     heal_reason, heal_at)   v5: what operators set; passes only read it
//	actions(id PK, at, action, target, who, token, reason, detail)   v5: the audit trail
//	alarms gained ack_by, ack_reason, ack_at in v5
//	lease_epoch(id PK, token)                          v7: the one token counter
//	leases(replica PK, token UNIQUE, acquired_at, expires_at)   v7
//	device_owners(device PK, replica, token, since)    v7: who may write for a device
//	transitions gained writer (the lease token; 0 unfenced) in v7
//
// Migrations are an ordered list; Open applies the missing ones in one
// transaction (a crash leaves the old schema or the new one) and refuses a file whose version is newer than it knows
// (*VersionError) rather than write rows an older netrecon does not
// understand.
//
// # Recovery rule
//
// On start, the apply engine lists Unfinished runs (outcome running: the
// process died during apply) and settles each device from its last phase and
// persist id:
//
//   - pending, locked, edited: nothing was committed. A lock dies with its
//     session and the candidate is discarded on the next lock; record
//     cancelled.
//   - committed, verified: a confirmed commit is pending under the persist id.
//     Finish (confirm it with <persist-id>, RFC 6241 §8.4) when the device may
//     keep the change: in an atomic run only when every device of the run
//     reached verified or confirmed (any confirmed device means the decision to
//     confirm was taken), in a non-atomic run when this device reached
//     verified. Otherwise undo: <cancel-commit> with the persist id (§8.4.9);
//     a device whose confirm timeout already expired has rolled back by itself.
//     Record confirmed or cancelled.
//   - confirmed, cancelled, undone, failed, skipped: settled; nothing to do.
//
// Then FinishRun(Recovered) with a summary of what was done. Every decision
// is written with EnterPhase before it is acted on, as during apply, so that a
// crash during recovery is recovered the same way.
//
// # Applied trees
//
// SetApplied stores a configtree.Tree as JSON in this package's own form
// (names, namespaces, values, identity value spaces, keys, leaf flags,
// owners; a namespace or owner list equal to the parent's left out), with a
// format number. A field added to configtree.Node needs a new format here,
// or it would be lost from every journal.
package journal
