// Package planner computes Plans: Offline between two revisions of the intent
// (FromGit reads them from a Git repo; only the devices the changed files
// concern are rendered), and Live against the devices' running
// configuration, read through the managed filter apply reads through too
// (ownership.Record.Filter), so that a plan's fingerprint matches at apply
// time. The intent is built by render.BuildFS; the value is package plan's.
package planner
