// Package netsim simulates PE routers that speak real NETCONF over SSH, so the
// project's NETCONF driver, the demo and the tests run against many devices
// without a lab.
//
// Each simulated device listens on its own TCP port and serves the SSH
// "netconf" subsystem ([RFC6242]): the hello with end-of-message framing, then
// chunked framing once both peers advertise base:1.1. It keeps a running and a
// candidate datastore as *configtree.Tree values and answers the operations
// netrecon uses ([RFC6241]): get-config with subtree filters, get (with the
// ietf-netconf-monitoring sessions and schemas of [RFC6022]), get-schema of the
// schemas ServeSchemas gives, edit-config on the candidate
// (all or nothing), lock and unlock, discard-changes, validate, commit,
// confirmed commit with persist and rollback on timeout, cancel-commit and
// close-session. Errors come back as <rpc-error> with the tags of RFC 6241
// Appendix A.
//
// A Device's methods are fault knobs that tests flip while sessions run:
// latency, a lock held by another session, rejected commits, connections
// dropped at a given rpc or all at once (DropSessions), operators logged in, a rotated host key, hand edits
// of running, and the bugs of the lab's yuma123 netconfd (a reply lost, a
// commit after validate that changes nothing, a cancel-commit under the
// running lock that answers ok and rolls nothing back, a schema list without
// submodules, a missing schema answered with operation-failed, a crash on the
// second get-schema of ietf-netconf, a refused remove of an absent list entry
// under an absent parent — that one on from Start, docs/quirks.md); and counters of the rpcs
// received and of the sessions opened, so a test can assert that a second
// apply touched no device, or that a run dialed each device once.
//
// With Options.StateDir each device keeps its host key and the configuration
// it would come back with across restarts (state.go), as a real router does;
// without, every Start makes new keys and empty datastores.
//
// The simulator has no YANG schema: it knows list keys (Options.Keys) but no
// types, defaults or constraints, so validate always succeeds and every
// with-defaults mode returns what was set.
//
// [RFC6241]: https://www.rfc-editor.org/rfc/rfc6241
// [RFC6242]: https://www.rfc-editor.org/rfc/rfc6242
// [RFC6022]: https://www.rfc-editor.org/rfc/rfc6022
package netsim
