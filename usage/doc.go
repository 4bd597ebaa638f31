// Package usage measures each service's traffic: the counters of its
// interface on its device, read over SNMP and exported as Prometheus
// metrics labelled by service and customer.
//
// One Poller per device does every SNMP read of that device, the SNMP
// guard's included (Set satisfies guard.SNMPReader): one GETBULK walk of
// the interface table (IF-MIB ifName, ifHCInOctets, ifHCOutOctets,
// ifOperStatus) carries the guard's scalar in its first request, and a
// device is read at most once per its minimum interval, however many
// services it carries and however many checks ask. So SNMP never loads a
// router more than the operator allowed (DESIGN.md, invariant 5).
//
// A service's interface is found by name (ifName), not by ifIndex, which a
// router may renumber on reboot. Label sets are bounded: only the services
// of the current intent have series, and a removed service's series go
// with it (the collector emits what it holds, nothing is registered per
// service).
package usage
