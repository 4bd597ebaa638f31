package reconcile

import (
	"context"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/schema"
)

// Device is what reconcile needs of a NETCONF session to one device: reads
// filtered to the managed subtrees, the candidate-datastore transaction, and the
// monitoring read the operator guard uses. drivers/netconf.Session satisfies it,
// for real routers and for the simulator (which speaks real NETCONF); tests of
// failure paths that no server can produce on demand use a fake.
//
// Errors are the driver's typed errors (netconf.LockDeniedError,
// netconf.TimeoutError, netconf.RPCError, netconf.ErrClosed, ...), which the
// apply engine and the daemon branch on.
type Device interface {
	Capabilities() netconf.Capabilities
	GetConfig(ctx context.Context, source string, filter *configtree.Tree) (*configtree.Tree, error)
	Lock(ctx context.Context, target string) error
	Unlock(ctx context.Context, target string) error
	EditConfig(ctx context.Context, target string, changes []configtree.Change) error
	Discard(ctx context.Context) error
	Validate(ctx context.Context, source string) error
	Commit(ctx context.Context, o netconf.CommitOptions) error
	CancelCommit(ctx context.Context, persistID string) error
	Sessions(ctx context.Context) ([]netconf.MonitoringSession, error)
	SessionID() string
	Close(ctx context.Context) error
}

var _ Device = (*netconf.Session)(nil)

// Dialer opens a session to a device of the inventory. The CLI and the daemon
// build one from the inventory's credentials references and a known_hosts file.
type Dialer interface {
	Dial(ctx context.Context, dev *schema.Device) (Device, error)
}

// DialFunc adapts a function to Dialer.
type DialFunc func(ctx context.Context, dev *schema.Device) (Device, error)

// Dial implements Dialer.
func (f DialFunc) Dial(ctx context.Context, dev *schema.Device) (Device, error) { return f(ctx, dev) }
