package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/schema"
)

// Datastore names (RFC 6241 5.1) the engine reads and writes.
const (
	Running   = "running"
	Candidate = "candidate"
)

// Capabilities are the features a device announced in its hello.
type Capabilities struct {
	Candidate bool // :candidate, RFC 6241 8.3
	// ConfirmedCommit is :confirmed-commit:1.1 (RFC 6241 8.4), with persist and
	// persist-id, which two-phase apply needs; 1.0 alone does not count.
	ConfirmedCommit bool
	Validate        bool // :validate 1.0 or 1.1, RFC 6241 8.6
	RollbackOnError bool // :rollback-on-error, RFC 6241 8.5
	// WithDefaults is the basic mode of :with-defaults (RFC 6243 4.3): "explicit",
	// "trim" or "report-all"; "" when the capability is absent. A diff must know
	// it: under report-all a default shows up in get-config, under trim it never
	// does, under explicit only when it was set.
	WithDefaults string
	// WithDefaultsAlso are the other modes the device accepts in a request.
	WithDefaultsAlso []string
	// Raw is every capability URI, sorted.
	Raw []string
}

// Has reports whether the device announced uri (without its query part).
func (c Capabilities) Has(uri string) bool {
	for _, r := range c.Raw {
		if base, _, _ := strings.Cut(r, "?"); base == uri {
			return true
		}
	}
	return false
}

// CommitOptions shape a <commit> (RFC 6241 8.3.4.1, 8.4.5.1).
type CommitOptions struct {
	// Confirmed makes the commit revert by itself after Timeout unless confirmed
	// by a later commit (RFC 6241 8.4).
	Confirmed bool
	// Timeout is the confirm-timeout, rounded up to whole seconds; 0 leaves the
	// device's default (600 s).
	Timeout time.Duration
	// Persist names a confirmed commit so that another session can confirm or
	// cancel it with PersistID: it survives the end of this session.
	Persist string
	// PersistID confirms (without Confirmed) or extends (with Confirmed) the
	// confirmed commit started with that Persist value.
	PersistID string
}

// MonitoringSession is a session the device reports (RFC 6022 2.1.4).
type MonitoringSession struct {
	ID         string
	Username   string
	Transport  string // identity, e.g. "netconf-ssh" (prefix dropped)
	SourceHost string
	LoginTime  time.Time
}

// The errors the engine branches on. Drivers keep their own detail (the
// device, the operation, the rpc-error) and make errors.Is and errors.As reach
// these.
var (
	// ErrSessionLost: the session is gone (closed, dropped by the peer, or
	// abandoned after an RPC got no answer in time). Its locks and candidate
	// edits died with it; retry on a new session.
	ErrSessionLost = errors.New("session lost")
	// ErrInUse: another session is busy with the datastore (it holds the
	// lock, or its confirmed commit is pending). It ends by itself: wait and
	// retry, never kill the other session.
	ErrInUse = errors.New("in use by another session")
	// ErrNoPendingCommit: a confirming commit or a cancel-commit found no
	// confirmed commit pending under its persist id: it was confirmed, or
	// rolled back, before.
	ErrNoPendingCommit = errors.New("no confirmed commit pending")
)

// LockHeldError is a lock refused because another session holds it (RFC 6241
// 7.5, lock-denied). It is ErrInUse too.
type LockHeldError struct {
	Device string
	Target string // datastore
	HeldBy string // the holder's session-id, "" if the device did not say
}

func (e *LockHeldError) Error() string {
	if e.HeldBy == "" {
		return fmt.Sprintf("%s: lock %s: denied, held by another session", e.Device, e.Target)
	}
	return fmt.Sprintf("%s: lock %s: denied, held by session %s", e.Device, e.Target, e.HeldBy)
}

// Is makes a held lock ErrInUse.
func (e *LockHeldError) Is(target error) bool { return target == ErrInUse }

// DeviceErr prefixes err with the device and the operation, naming the
// device once: a driver's errors already read "pe1: lock: ...", and a second
// "pe1:" in front ("pe1: pe1: lock candidate") helps nobody. The operation is
// kept unless err starts with it. errors.Is and errors.As see err unchanged.
// Every layer that wraps a device's error uses it.
func DeviceErr(device, op string, err error) error {
	msg := err.Error()
	rest, named := strings.CutPrefix(msg, device+": ")
	switch {
	case !named:
		return fmt.Errorf("%s: %s: %w", device, op, err)
	case rest == op || strings.HasPrefix(rest, op+": "):
		return err
	}
	return &deviceError{msg: device + ": " + op + ": " + rest, err: err}
}

// deviceError is err with its message reworded by DeviceErr.
type deviceError struct {
	msg string
	err error
}

func (e *deviceError) Error() string { return e.msg }
func (e *deviceError) Unwrap() error { return e.err }

// Reader reads a datastore, restricted to a subtree filter (nil: all of it).
type Reader interface {
	GetConfig(ctx context.Context, source string, filter *configtree.Tree) (*configtree.Tree, error)
}

// Digest names a reply's configuration by its bytes (a SHA-256 over the
// bytes of the reply that its configuration is read from, as the driver
// defines them: for NETCONF, <data> as the device sent it, with the namespace
// declarations in scope). The zero Digest names nothing.
type Digest [32]byte

// DigestReader is a Reader that names each reply by its Digest and leaves
// unparsed a reply whose digest is known: the daemon's no-op pass, which
// already verified that configuration in sync, need not parse and diff it
// again. drivers/netconf.Session and the session pool's leases satisfy it; a
// Device without it is read and planned in full every time.
type DigestReader interface {
	// GetConfigDigest is GetConfig that also returns the reply's digest;
	// when the digest equals known (not zero) the tree is nil: the reply
	// is the one known, byte for byte, and was not parsed.
	GetConfigDigest(ctx context.Context, source string, filter *configtree.Tree, known Digest) (*configtree.Tree, Digest, error)
}

// Transaction is the candidate-datastore transaction (RFC 6241 7, 8.3, 8.4).
type Transaction interface {
	Lock(ctx context.Context, target string) error
	Unlock(ctx context.Context, target string) error
	EditConfig(ctx context.Context, target string, changes []configtree.Change) error
	Discard(ctx context.Context) error
	Validate(ctx context.Context, source string) error
	Commit(ctx context.Context, o CommitOptions) error
	CancelCommit(ctx context.Context, persistID string) error
}

// Monitor lists the device's sessions, the read the operator guard makes, and
// names this one among them.
type Monitor interface {
	Sessions(ctx context.Context) ([]MonitoringSession, error)
	SessionID() string
}

// Device is a session to one device as the engine uses it: reads filtered to
// the managed subtrees, the transaction, and the monitoring read.
// drivers/netconf.Session satisfies it, for real routers and for the simulator
// (which speaks real NETCONF); tests of failure paths that no server can
// produce on demand use a fake. Its errors reach the vocabulary above.
type Device interface {
	Reader
	Transaction
	Monitor
	Capabilities() Capabilities
	Close(ctx context.Context) error
}

// Dialer opens a session to a device of the inventory. cmd/netrecon builds
// one from the inventory's credentials references and a known_hosts file.
type Dialer interface {
	Dial(ctx context.Context, dev *schema.Device) (Device, error)
}

// DialFunc adapts a function to Dialer.
type DialFunc func(ctx context.Context, dev *schema.Device) (Device, error)

// Dial implements Dialer.
func (f DialFunc) Dial(ctx context.Context, dev *schema.Device) (Device, error) { return f(ctx, dev) }
