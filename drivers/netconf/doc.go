// Package netconf is netrecon's driver for real devices: NETCONF (RFC 6241) over
// SSH (RFC 6242), built on nemith.io/netconf.
//
// Dial opens a Session to one device after checking its SSH host key against a
// known_hosts file; there is no way to switch that check off. A Session reads and
// writes configuration as configtree values, and every RPC it sends has a
// deadline: a reply that does not come in time is a *TimeoutError, and the session
// is closed, because a late reply could otherwise be taken for the answer to the
// next RPC. Errors are typed where callers branch (*HostKeyError, *AuthError,
// *TimeoutError, *RPCError) and always name the device and the operation; the
// ones the engine acts on reach reconcile's vocabulary through errors.Is and
// errors.As: a dead or timed-out session is reconcile.ErrSessionLost, a held
// lock a *reconcile.LockHeldError, in-use reconcile.ErrInUse, and a confirming
// commit or cancel-commit with nothing pending reconcile.ErrNoPendingCommit.
//
// Credentials are resolved from references (schema.Credentials) into an Auth,
// whose secret never appears in errors, logs or formatted output.
//
// Server quirks are options, not hidden rules: WithSettleAfterHello works around
// yuma123 netconfd sometimes losing the reply to an RPC sent right after the
// hello.
package netconf
