// Package snmp reads single values from a device's SNMP agent, for the checks
// netrecon makes before it changes a device (reconcile/guard): is an operator
// logged in, is the router in maintenance.
//
// It is deliberately small: SNMPv2c GET of one numeric OID at a time. There are
// no MIB files on the machines netrecon runs on, so OIDs are always numeric
// (".1.3.6.1.2.1.25.1.5.0", not "HOST-RESOURCES-MIB::hrSystemNumUsers.0").
//
// The community string is a secret: it appears in no error, log line or
// formatted Options. Errors are typed where callers branch: *TimeoutError (no
// answer; in SNMPv2c an agent silently drops a request with a wrong community,
// so a wrong community looks exactly like a timeout), *NoSuchError (the agent
// has no such object or instance), *AgentError (the agent answered with an
// error status), *OIDError (not a numeric OID).
package snmp
