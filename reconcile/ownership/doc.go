// Package ownership decides what netrecon may delete on a shared device: only
// what it created there (DESIGN invariant 3).
//
// A PE is shared by many services and by people. When a service renders a
// node, three cases are told apart, per node, from the device's configuration
// read before netrecon's edit:
//
//   - created: the node was absent and netrecon's edit created it. It is owned,
//     by the services that render it, and it is deleted when the last of them
//     stops rendering it.
//   - shared with the device: the node was already there (a person's VLAN
//     tagging, a VRF's instance-type) and the service renders it with the same
//     value. netrecon never deletes it; the plan that first renders it says so
//     ("~ adopt ... (pre-existing, kept on removal)").
//   - restored: a pre-existing leaf whose value the service changes. The value
//     it had before is kept, and put back when no service renders the leaf any
//     more.
//
// A Record holds the three as trees per device; the journal stores it. It is
// recomputed after every confirmed apply from the pre-image read under lock
// (Next), and for a device found in sync from what it already holds, so that
// no path, not even an empty plan, makes netrecon the owner of a node it did
// not create.
package ownership
