// Package apply executes a Plan on devices, transactionally, and recovers runs
// a crash left half-way. It reads devices through the same managed filter as
// the live planner (ownership.Record.Filter), so that a plan's fingerprint
// means something at apply time.
//
// # The transaction (DESIGN invariants 2, 4, 5, 6)
//
// A change set spanning devices lands on all or none, in two phases with
// confirmed commit (RFC 6241 §8.4):
//
// Phase 1, per device in parallel (bounded by Options.Concurrency): lock
// candidate and running, waiting out another session's lock with capped
// exponential back-off and jitter (never kill-session: the holder may be a
// human); read running filtered to the managed subtrees and refuse a device
// whose fingerprint moved since the plan (*StalePlanError: re-plan); discard
// the candidate; edit it with exactly the plan's changes; validate where the
// platform allows it; confirmed commit with a confirm-timeout and a persist
// id; then verify: re-read running and compare it with the state the plan
// meant (configtree.Apply of the changes on the pre-image). Verification is
// what catches a server that answers <ok/> and changes nothing (yuma123's
// validate quirk, lab/NOTES.md).
//
// Phase 2: the confirming commit (persist-id) on every device, then unlock.
// Any failure before phase 2 cancels the confirmed commit on every device
// already committed, and discards and unlocks the others. Running is unlocked
// before cancel-commit: yuma123 answers <ok/> to a cancel-commit from the
// session holding the running lock and rolls nothing back (lab/NOTES.md).
// Then every device's running is read back and compared with its pre-image;
// one still changed is undone from the pre-image and read again, and one
// still not back is "mixed" (*MixedError, naming the nodes): the outcome is
// "rolled-back" only when every device is back, "mixed" when one is on
// neither side. If netrecon dies, the confirm-timeout rolls the devices back
// by themselves, and Recover settles the run from the journal, reading each
// device back against the pre-image journaled with its commit.
//
// A device without :confirmed-commit:1.1 commits plainly; its pre-image is
// kept (and journaled with the commit) and, on failure, the inverse changes
// are applied and committed (undo) — by Apply, or by Recover after a crash.
//
// With Options.NoAtomic each device is committed and confirmed alone; a
// failing device does not roll the others back (outcome "partial"). The
// devices still take the steps together: a device that fails is rolled back
// as soon as its step ends, and the others go on to the next step. So a
// device waiting out another session's lock holds the others, locked, at
// that step for up to LockWait, where before they went on alone; the price
// of one journal write per step instead of one per device.
//
// # Stopping
//
// Options.Stop is the graceful stop (an operator's first Ctrl-C), apart from
// the hard cancel, Apply's ctx (STYLE.md 7). A stop before phase 2 cuts phase
// 1 short and rolls the whole change set back, each device read back, its
// error a *StoppedError (not the device's fault); once phase 2 has begun the
// confirm step is finished, since stopping there would split the change set.
// With Stop set, ending ctx abandons everything at once, rollbacks included:
// a device with an unconfirmed commit rolls back at its confirm-timeout and
// the run stays unfinished for Recover (Result.Abandoned). Without Stop,
// ending ctx stops and rolls back on a detached context, as the daemon wants.
//
// # Journal rule
//
// A device's transaction is one typed phase (phase.go), changed only by
// engine.to (one device) and engine.enter or engine.record (a batch); the
// rollback step and the run's outcome are read from it. Every phase is
// written to the journal before it is entered (write-ahead), and each step
// of the transaction is written for every device of the change set in one
// journal transaction, before any device takes it (journal.EnterPhases):
// locked, edited, committed (with the persist id, the pre-image and the
// pending ownership record), then — only once every device of the change
// set has passed verification — verified (the run-level "phase 2 entered"
// marker), then confirmed. The run's plan, which recovery reads for a
// commit, is written while the devices lock, and the committed phase waits
// for it. After the confirming commits one write records the devices whose
// confirm failed, and one the ownership records of the others
// (journal.SetOwnerships, copied in the database from the pending records
// the committed phase wrote), while the sessions are released; a rollback writes its steps (cancelled,
// undone, skipped) for all its devices before sending any, and the failed
// and mixed devices in one write after. Only a device that a rollback finds
// on neither side is journaled alone, before its undo. A write costs an
// fsync: one per device per phase made the journal most of a 1,000-device
// apply's time.
//
// Recovery therefore rolls an atomic run forward when every device reached
// verified (or any reached confirmed), and cancels it otherwise; in a
// non-atomic run each device stands alone. A device journaled confirmed or
// cancelled gets its commit or cancel again (the phase is written before the
// RPC is sent; a device without that pending commit answers an error, which
// means it had landed); one whose confirm landed before its ownership record
// was written gets the record from the pending one.
//
// # Files
//
// apply.go runs a change set (Apply, Result) step by step; phase.go the
// phase of one device's transaction and its transitions, one device's or a
// batch's; device.go the steps of that transaction, which reads through the
// ownership record's Filter as the live planner (reconcile/planner) does,
// and phase 2; rollback.go the rollback and its read back; prune.go what
// verification ignores; recover.go settles unfinished runs; devices run on
// package pool's bounded workers. Crash tests stop an apply from outside (a
// Reporter, a Dialer and the journal), at a device's phase or just before a
// journal batch (Event): the engine has no test hooks.
package apply
