// Package yangcheck holds rendered configuration to the YANG modules of the
// devices that will receive it, offline: what a router would refuse at
// edit-config, validate finds in the pull request.
//
// The modules come from the devices themselves. Fetch reads, over NETCONF,
// the modules each device advertises (its hello's module capabilities, RFC
// 6020 5.6.4, and its /netconf-state/schemas list with <get-schema>, RFC
// 6022) into a Platform: the module files and an Index of which modules,
// features and deviations which devices advertise. `netrecon schemas fetch`
// writes it into the intent repo as schemas/<platform>/<module>@<revision>.yang
// plus schemas/<platform>/index.yaml, and ReadRepo reads it back.
//
// Compile parses a device's modules with github.com/openconfig/goyang once
// and turns them into a Set: a tree of schema nodes keyed by namespace and
// name, with leaf types compiled (ranges, lengths, patterns as regular
// expressions, enumerations, bits, identities with their derived ones,
// unions, leafrefs), features evaluated and deviations applied. Check then
// walks one desired tree against a Set and reports Problems: elements and
// namespaces the device does not know (naming the module a namespace
// belongs to), state data in configuration, values of the wrong type, list
// entries without their keys, list tables that disagree with the YANG list,
// and mandatory nodes left out. CheckIntent is the seam validate calls: every
// rendered device against its modules, each Problem turned into a Diagnostic
// naming the service that owns the node, its file, the template line when it
// can be found, and the YANG path; a platform without modules in the repo is
// reported as unchecked, never silently passed.
//
// What is not checked: when and must expressions (XPath), leafref targets
// existing (the target may be configuration netrecon does not render), and
// if-feature on a uses statement (goyang does not keep it on the nodes it
// expands). A device that lists a module without advertising it in its hello
// is taken to have all the module's features.
package yangcheck
