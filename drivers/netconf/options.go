package netconf

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/netrecon/netrecon/configtree"
)

// Defaults for the options.
const (
	DefaultDialTimeout = 15 * time.Second
	DefaultRPCTimeout  = 60 * time.Second
)

// Option configures Dial. An invalid option makes Dial fail before it connects.
type Option func(*config) error

type config struct {
	logger      *slog.Logger
	dialTimeout time.Duration
	rpcTimeout  time.Duration
	settle      time.Duration
	keys        configtree.Keys
	defaults    string
	knownHosts  *KnownHosts
	onHello     func()
}

func newConfig(opts []Option) (config, error) {
	c := config{
		logger:      slog.New(slog.DiscardHandler),
		dialTimeout: DefaultDialTimeout,
		rpcTimeout:  DefaultRPCTimeout,
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&c); err != nil {
			return config{}, fmt.Errorf("netconf: %w", err)
		}
	}
	return c, nil
}

// WithLogger logs the session's events (dial, RPCs, timeouts) to l; nil discards.
// The library's own log lines go to l as well.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			l = slog.New(slog.DiscardHandler)
		}
		c.logger = l
		return nil
	}
}

// WithDialTimeout bounds TCP connect, SSH handshake and NETCONF hello together
// (default DefaultDialTimeout). It must be positive.
func WithDialTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("WithDialTimeout(%s): must be positive", d)
		}
		c.dialTimeout = d
		return nil
	}
}

// WithRPCTimeout bounds each RPC, on top of the caller's context (default
// DefaultRPCTimeout). It must be positive: an RPC without a deadline can hang a
// worker forever on a device that lost a reply.
func WithRPCTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("WithRPCTimeout(%s): must be positive", d)
		}
		c.rpcTimeout = d
		return nil
	}
}

// WithSettleAfterHello waits d after the hello exchange before Dial returns.
// yuma123 netconfd 2.13 sometimes loses the reply to an RPC sent right after the
// hello (seen at 30 parallel sessions; 100 ms made it disappear). RFC 6241 lets a
// client send at once, so this is a per-platform quirk knob, default 0.
func WithSettleAfterHello(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("WithSettleAfterHello(%s): must not be negative", d)
		}
		c.settle = d
		return nil
	}
}

// WithOnHello calls f once the server's hello has arrived, before the settle
// pause (WithSettleAfterHello) and before Dial returns: the moment the
// session's set-up stops needing the machine's CPU, which a caller may then
// use for its own work.
func WithOnHello(f func()) Option {
	return func(c *config) error {
		c.onHello = f
		return nil
	}
}

// WithKeys tells how to parse list entries in replies (see configtree.Keys).
func WithKeys(k configtree.Keys) Option {
	return func(c *config) error {
		c.keys = k
		return nil
	}
}

// WithDefaultsMode makes GetConfig ask for with-defaults mode (RFC 6243 3):
// "report-all", "trim", "explicit" or "report-all-tagged". Servers differ in
// their basic mode, and a diff that does not know which one it reads sees
// defaults appear and vanish as phantom changes; asking for one mode everywhere
// makes the reads comparable. GetConfig fails on a device that does not
// support the mode rather than read in another one.
//
// [RFC6243 3]: https://www.rfc-editor.org/rfc/rfc6243#section-3
func WithDefaultsMode(mode string) Option {
	return func(c *config) error {
		switch mode {
		case "report-all", "trim", "explicit", "report-all-tagged":
			c.defaults = mode
			return nil
		}
		return fmt.Errorf("WithDefaultsMode(%q): want report-all, trim, explicit or report-all-tagged", mode)
	}
}

// WithKnownHosts reads the target's known_hosts file through k, which parses
// it once for all the dials that share k rather than once per dial; nil (the
// default) parses it at every dial.
func WithKnownHosts(k *KnownHosts) Option {
	return func(c *config) error {
		c.knownHosts = k
		return nil
	}
}
