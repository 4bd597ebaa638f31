// Package peer holds the Go side of the peer benchmark (bench/peer/run.sh):
// netrecon apply, a bare loop on the project's own NETCONF driver, and
// Ansible's netconf_config, each making the same change on the same lab
// devices.
//
// Config fixes that change: ten VLAN sub-interfaces per device
// (ge-7/7/7.3901 .. ge-7/7/7.3910), each with a description and an IPv4
// address that depends on the device's index, so that the three tools can be
// handed the same configuration from one place: Prepare writes the intent repo
// netrecon applies and the XML Ansible sends, Loop is the bare loop (dial, lock,
// edit, commit, unlock, a bounded number in flight: the floor any tool pays
// for a cold change), Reset removes the change between tools, and Verify reads
// running back and counts the interfaces each device really has.
package peer
