package netconf

import (
	"fmt"
	"strings"
	"time"

	"github.com/netrecon/netrecon/reconcile"
)

// HostKeyError is a device whose SSH host key is not the one known_hosts holds
// for it (Want lists the known keys' SHA256 fingerprints), or is not in
// known_hosts at all (Want empty), or, at a key re-exchange, not the key the
// session began with (Rekey; Want is that key).
type HostKeyError struct {
	Device  string
	Address string   // host:port
	Want    []string // fingerprints (SHA256:...) in known_hosts for Address
	Got     string   // fingerprint of the key the device presented
	Rekey   bool
}

func (e *HostKeyError) Error() string {
	if e.Rekey {
		return fmt.Sprintf("%s: ssh host key of %s changed during a key re-exchange: the session began with %s, the device presented %s (someone may be in the middle)",
			e.Device, e.Address, strings.Join(e.Want, ", "), e.Got)
	}
	if len(e.Want) == 0 {
		return fmt.Sprintf("%s: ssh host key of %s is unknown (%s): check it and add it to known_hosts, e.g. with `netrecon hostkeys fetch`",
			e.Device, e.Address, e.Got)
	}
	return fmt.Sprintf("%s: ssh host key of %s does not match known_hosts: device presented %s, known_hosts has %s (the device was replaced, or someone is in the middle)",
		e.Device, e.Address, e.Got, strings.Join(e.Want, ", "))
}

// AuthError is a device that refused the credentials.
type AuthError struct {
	Device   string
	Username string
	Err      error // the SSH library's error; it never holds the secret
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("%s: ssh authentication as %q failed: %v", e.Device, e.Username, e.Err)
}

func (e *AuthError) Unwrap() error { return e.Err }

// TimeoutError is an operation that got no answer in time. For an RPC, the
// session is closed afterwards: retry on a new session.
type TimeoutError struct {
	Device string
	Op     string // "dial", "hello", "get-config", "lock", ...
	After  time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("%s: %s: no answer within %s", e.Device, e.Op, e.After)
}

// Timeout reports true, as net.Error does.
func (e *TimeoutError) Timeout() bool { return true }

// Is makes a timeout reconcile.ErrSessionLost: the session is closed after it.
func (e *TimeoutError) Is(target error) bool { return target == reconcile.ErrSessionLost }

// RPCError is one <rpc-error> of severity error in a reply (RFC 6241 4.3).
//
// [RFC6241 4.3]: https://www.rfc-editor.org/rfc/rfc6241#section-4.3
type RPCError struct {
	Device   string
	Op       string
	Type     string // transport, rpc, protocol, application
	Tag      string // error-tag, e.g. invalid-value, data-missing, in-use
	Severity string
	AppTag   string
	Path     string // error-path: the node concerned, when the device says
	Message  string
	Info     string // raw <error-info> content

	// noPending: the answer of a confirming commit or a cancel-commit that
	// names no pending confirmed commit (see settling).
	noPending bool
	// noSchema: the answer of a get-schema naming a schema the device does
	// not have (see notFound).
	noSchema bool
}

// Is maps the rpc-errors the engine branches on onto reconcile's vocabulary:
// in-use and lock-denied are reconcile.ErrInUse, a confirming commit or a
// cancel-commit without a pending commit reconcile.ErrNoPendingCommit, a
// get-schema of a schema the device lacks ErrSchemaNotFound.
func (e *RPCError) Is(target error) bool {
	switch target {
	case reconcile.ErrInUse:
		return e.Tag == "in-use" || e.Tag == "lock-denied"
	case reconcile.ErrNoPendingCommit:
		return e.noPending
	case ErrSchemaNotFound:
		return e.noSchema
	}
	return false
}

func (e *RPCError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s: %s", e.Device, e.Op, e.Tag)
	if e.Path != "" {
		fmt.Fprintf(&b, " at %s", e.Path)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	return b.String()
}
