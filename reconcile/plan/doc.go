// Package plan computes the Plan: per device, the ordered changes that make the
// device's managed configuration equal to the intent.
//
// A Plan is a value. It is computed from the intent at a revision and a current
// state — another revision of the intent (an offline plan for a pull request) or
// the device's running configuration (a live plan) — and it can be printed,
// serialised, reviewed and applied as it is. Computing never prints: package views
// renders plans for people and tools.
//
// Deletions follow ownership: a node is deleted only when it has owners in the
// current state and no service renders it any more, so configuration that
// netrecon does not own is never planned away (configtree.Diff).
package plan
