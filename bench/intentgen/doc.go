// Package intentgen generates valid intent repos of any size, for benchmarks and
// scale tests.
//
// A generated repo holds Config.Devices PEs (half on the ietf platform, half on
// junos, inventory split by site) and Config.Services service instances, about
// half attachment-circuit and half static-routing, grouped ten to a customer under
// services/<customer>/. The repo passes the cross-document checks by construction:
// every address comes from a plan derived from the service's index, not from
// chance, so names are unique, each device's interface+vlan pairs are unique, no
// two customers share a prefix, and every static route's next hop is the customer
// end of that customer's own circuit on the same device and VRF.
//
// The seed varies what a reader of the data would notice (which device a circuit
// lands on, descriptions, route counts, IPv6 presence), never the invariants.
// The same Config always yields the same bytes.
package intentgen
