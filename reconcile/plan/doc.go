// Package plan is the Plan value: per device, the ordered changes that make
// the device's managed configuration equal to the intent, each with the
// reason a reviewer reads, and the diff that computes one device's changes
// (DiffDevice). It imports only configtree.
//
// A Plan is a value. Package planner computes it from the intent at a
// revision and a current state — another revision of the intent (an offline
// plan for a pull request) or the device's running configuration (a live
// plan); it can be printed, serialised, reviewed and applied as it is.
// Computing never prints: package views renders plans for people and tools.
//
// Deletions follow ownership: a node is deleted only when it has owners in the
// current state and no service renders it any more, so configuration that
// netrecon does not own is never planned away (configtree.Diff).
package plan
