// Package configtree is netrecon's model of device configuration: an ordered tree
// of XML elements with YANG-style paths, list keys and owners.
//
// Every node records the services (owners) that render it. Merging the fragments
// of many services yields one desired tree per device, where a node rendered
// identically by two services is shared and a leaf rendered with two values is a
// conflict. Diff compares two trees and yields ordered changes; it deletes only
// nodes that have owners in the "from" tree, so configuration that netrecon does
// not own (a human's, another tool's) is never planned away.
//
// The package is the bottom floor: it imports nothing of netrecon. Its parts:
//
//   - parse.go: Parse and ParseData read XML (a fragment, a <data> reply)
//     with positions in errors; write.go: WriteXML writes canonical XML.
//   - path.go: Path ("/interfaces/interface[name=ge-0/0/1]/mtu"), Find, Walk.
//   - merge.go: Merge and MergeAll build the desired tree from fragments.
//   - diff.go: Diff, the "touch only what you own" rule; apply.go: Apply,
//     the model of what a device holds after a plan.
//   - edit.go: EditConfig, the NETCONF edit-config payload of a diff, and
//     ApplyEdit, its inverse for the simulator (RFC 6241 §7.2).
//   - filter.go: subtree filters for reading managed configuration only
//     (RFC 6241 §6), Select for the simulator, and Fingerprint.
//
// Identity of a node among its siblings is its local name and, for a list
// entry, its key values (Keys says which elements are entries). Canonical
// order sorts siblings by that identity, key leaves first within an entry;
// every function accepts children in any order and WriteXML, Walk and Diff
// output follow canonical order, so results do not depend on how a template
// or a device ordered its XML. Ordered-by-user lists are not modelled.
//
// Trees are plain values: functions that return a tree return a new one
// (Apply, ApplyEdit, Select, Clone), Merge and AdoptOwners modify their first
// argument, and nothing is safe for concurrent modification.
package configtree
