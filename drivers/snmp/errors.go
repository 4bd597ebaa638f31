package snmp

import (
	"fmt"
	"time"
)

// TimeoutError is a GET that got no answer after every attempt. SNMPv2c has no
// "authentication failed" reply: an agent drops a request whose community it
// does not accept, so a wrong community ends here too, as does a filtered port.
type TimeoutError struct {
	Target   string // host:port
	OID      string
	Attempts int           // requests sent
	After    time.Duration // time waited for all of them
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("snmp get %s from %s: no answer after %d attempt(s) in %s "+
		"(an SNMPv2c agent drops requests with a wrong community without a reply: check the community as well as reachability and the port)",
		e.OID, e.Target, e.Attempts, e.After.Round(time.Millisecond))
}

// Timeout reports true, as net.Error does.
func (e *TimeoutError) Timeout() bool { return true }

// Missing says what the agent did not have.
type Missing string

// The SNMPv2 exceptions of a variable binding (RFC 3416 3): the value is
// absent, the request itself was fine.
const (
	// NoSuchObject: the agent implements no object at this OID (wrong OID,
	// or a MIB the agent does not support).
	NoSuchObject Missing = "noSuchObject"
	// NoSuchInstance: the object exists but not this instance (a scalar
	// needs the ".0" suffix; a table row may not exist).
	NoSuchInstance Missing = "noSuchInstance"
	// EndOfMIBView: there is nothing at or after this OID.
	EndOfMIBView Missing = "endOfMibView"
)

// NoSuchError is an OID the agent has no value for.
//
// [RFC3416 3]: https://www.rfc-editor.org/rfc/rfc3416#section-3
type NoSuchError struct {
	Target string
	OID    string
	Kind   Missing
}

func (e *NoSuchError) Error() string {
	hint := "the agent implements no object there: check the OID"
	switch e.Kind {
	case NoSuchInstance:
		hint = "the object exists but not this instance: a scalar needs the .0 suffix"
	case EndOfMIBView:
		hint = "the agent has nothing at or after this OID"
	}
	return fmt.Sprintf("snmp get %s from %s: %s (%s)", e.OID, e.Target, e.Kind, hint)
}

// AgentError is a response whose error-status is not noError (RFC 3416 4.2.1),
// e.g. "tooBig" or "genErr".
type AgentError struct {
	Target string
	OID    string
	Status string
	Index  int // 1-based index of the failing variable binding; 0 when none
}

func (e *AgentError) Error() string {
	return fmt.Sprintf("snmp get %s from %s: agent answered %s (error-index %d)", e.OID, e.Target, e.Status, e.Index)
}

// OIDError is an OID that is not in numeric dotted form.
type OIDError struct {
	OID string
}

func (e *OIDError) Error() string {
	return fmt.Sprintf("snmp: OID %q is not numeric (like .1.3.6.1.2.1.1.1.0): there are no MIB files to resolve names", e.OID)
}

// TypeError is a Value read as a type it does not have.
type TypeError struct {
	OID  string
	Type string // the type the agent sent
	Want string // what the caller asked for
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("snmp: %s is %s, not %s", e.OID, e.Type, e.Want)
}
