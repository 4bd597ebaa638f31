// Package planner computes Plans: Offline between two revisions of the intent
// (FromGit reads them from a Git repo; only the devices the changed files
// concern are rendered), and Live against the devices' running
// configuration, read through the managed filter apply reads through too
// (ownership.Record.Filter), so that a plan's fingerprint matches at apply
// time. The intent is built by render.BuildFS; the value is package plan's.
//
// A long-lived caller (the daemon) passes Live a Verified: each device's last
// in-sync plan with the digests of what it was computed from (revision,
// desired tree, stored ownership record, the device's reply). The journal and
// the device are still read every time; a device whose record and reply are
// byte for byte the verified ones is in sync without being decoded, parsed or
// diffed again, and any other device is planned in full.
package planner
