// Package daemon keeps the network equal to the intent repo, all the time.
//
// A Daemon follows one branch of the intent repo. On every tick of its poll
// interval, and at once when a webhook or the API asks, it runs one pass: fetch
// the branch, check that the new head may be applied (signed, not rewritten),
// load and render the intent, plan every device against its running
// configuration, and apply what changed. A pass is level-triggered: it compares
// the whole network with the intent each time, so a pass with nothing new does
// nothing, and a missed trigger is made up by the next tick.
//
// What a pass decides per device:
//
//   - no changes: the device is in sync;
//   - changes while the applied commit is the head: someone changed a managed
//     node by hand (drift); it is healed or only reported, per the drift policy;
//   - changes for a new commit: applied through the apply engine, as one change
//     set with the other changed devices;
//   - a device a guard defers (operator logged in, freeze window, maintenance)
//     is reported and retried on the next pass;
//   - a device that fails is retried with capped exponential back-off while
//     the others go on; after Config.Alarm.AfterFailures consecutive failures it
//     raises an alarm (log, metric, status, notification) that clears when the
//     device succeeds.
//
// State that must outlive the process (the last applied commit, runs, what was
// applied per device) lives in the journal, never only in memory. The status,
// metrics and alarms held in memory are derived and rebuilt by the next pass.
//
// The HTTP side (Handler) serves /healthz, /readyz, /metrics, the status and
// runs API, and the GitHub push webhook. Config documents every setting; see
// docs/daemon.md.
package daemon
