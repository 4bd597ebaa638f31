// Package guard holds the checks that must pass right before netrecon changes
// a device: it is not in maintenance, no freeze window is open, no operator is
// logged in to it (by NETCONF or, per SNMP, at all). They keep design
// invariant 5: polite to devices and to the people who work on them.
//
// A Guard's Check returns nil (go ahead) or a *DeferredError, which says which
// guard held the device back, why, and when trying again makes sense. The apply
// engine and the daemon branch on it with errors.As: a deferred device is not a
// failed one, nothing was changed, and it is tried again on a later pass. Any
// other error also means "do not change the device now": a guard that cannot
// tell fails closed, reporting a deferral that wraps the cause, so that a
// persistent cause (an agent that never answers) stays visible.
//
// The SNMP guard reads through SNMPReader, which cmd/netrecon adapts from
// drivers/snmp; the package imports no driver.
//
// All combines guards in order; the first deferral wins, so cheap local checks
// (maintenance, freeze windows) go before ones that ask the device.
package guard
