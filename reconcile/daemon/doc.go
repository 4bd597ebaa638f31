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
// A pass is a list of steps (fetch, check, load, plan, sort, apply), each a
// function of the passState the ones before it leave, each tested alone. Then
// record asks the pure next(state, result, now) for every device's next state
// and the alarms to raise or clear, and writes what it decided: the journal,
// metrics, notifications, logs.
//
// A pass with nothing new is cheap but not blind: every device is read every
// pass (drift shows the pass it appears), and so is its ownership record, in
// one query; a device whose record and reply are byte for byte those of its
// last in-sync plan is in sync without a parse or a diff (planner.Verified),
// and a device state the journal already holds is not written again.
//
// State that must outlive the process lives in the journal, never only in
// memory: the last applied commit, runs, what was applied per device, and the
// daemon's own state, one row per device (state, failures, back-off,
// deferral), per alarm (active and past) and per pass, so that several
// replicas can later share one database. What the daemon holds in memory is
// its copy of those rows; the API's documents (package api) are mapped from
// them (view.go), never stored, and the status is a snapshot made once per
// change of what it shows.
//
// The truth the status tells: a device in sync with an older commit than
// the target is pending, never in-sync; each device keeps the nodes it
// differs by (drift, or changes held back), so a service drifts or waits
// only for its own nodes; a pass in progress shows its step and what each
// device waits on; a guard's deferral is an outcome of its own; an alarm is
// one episode, notified once, whatever the commits and restarts in between.
//
// Operators act through the API (actions.go), each action recorded in the
// journal with who and why: accept a rewritten history from a named base,
// heal now, acknowledge an alarm, pause and resume a device.
//
// The daemon imports no driver: cmd/netrecon hands it the Dialer (NETCONF)
// and the SNMP guard's reader through Options, as it does for the CLI.
//
// The HTTP side (Handler) serves /healthz, /readyz, /metrics, the API
// (docs/openapi.yaml, checked against the handlers by a test), and the
// GitHub push webhook. Config documents every setting; see
// docs/daemon.md.
package daemon
