package netsim

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/netrecon/netrecon/configtree"
)

// DeviceSpec is one simulated device to start.
type DeviceSpec struct {
	Name     string
	Platform string
	// Address is the IP address to listen on; "" means Options.ListenAddr.
	// An inventory may give each device its own loopback address.
	Address string
	// Port is the TCP port to listen on; 0 picks a free one.
	Port int
}

// Options configure Start. Validate reports every problem at once.
type Options struct {
	Devices []DeviceSpec
	// ListenAddr is the address every device listens on; "" means 127.0.0.1.
	ListenAddr string
	// Username is the only user the devices accept. Password, AuthorizedKeys
	// or both must be set: a simulator without authentication would let a
	// driver pass tests that a real router fails.
	Username       string
	Password       string
	AuthorizedKeys []ssh.PublicKey
	// Keys returns the list keys of a platform's configuration, so that
	// edit-config merges list entries as the platform's YANG says. It is
	// injected so netsim need not import render. Nil means no lists.
	Keys func(platform string) configtree.Keys
	// Logger receives session and fault events; nil discards them.
	Logger *slog.Logger
	// MaxMessageSize bounds one incoming NETCONF message; 0 means 16 MiB.
	MaxMessageSize int
	// StateDir, when set, keeps each device's host key and the
	// configuration it comes back with across restarts, in
	// StateDir/<device>/ (state.go); "" keeps nothing.
	StateDir string
}

const defaultMaxMessage = 16 << 20

// Validate checks the options.
func (o *Options) Validate() error {
	var errs []error
	if o.Username == "" {
		errs = append(errs, errors.New("netsim: Username is empty"))
	}
	if o.Password == "" && len(o.AuthorizedKeys) == 0 {
		errs = append(errs, errors.New("netsim: neither Password nor AuthorizedKeys is set"))
	}
	if o.ListenAddr != "" && net.ParseIP(o.ListenAddr) == nil {
		errs = append(errs, fmt.Errorf("netsim: ListenAddr %q is not an IP address", o.ListenAddr))
	}
	if o.MaxMessageSize < 0 {
		errs = append(errs, errors.New("netsim: MaxMessageSize is negative"))
	}
	names := map[string]bool{}
	ports := map[string]string{} // address:port → device
	for i, d := range o.Devices {
		switch {
		case d.Name == "":
			errs = append(errs, fmt.Errorf("netsim: device %d has no name", i))
		case names[d.Name]:
			errs = append(errs, fmt.Errorf("netsim: device %q is listed twice", d.Name))
		}
		names[d.Name] = true
		if d.Address != "" && net.ParseIP(d.Address) == nil {
			errs = append(errs, fmt.Errorf("netsim: device %q: address %q is not an IP address", d.Name, d.Address))
		}
		if d.Port < 0 || d.Port > 65535 {
			errs = append(errs, fmt.Errorf("netsim: device %q: port %d out of range", d.Name, d.Port))
		} else if d.Port != 0 {
			addr := cmp.Or(d.Address, o.ListenAddr, "127.0.0.1")
			key := net.JoinHostPort(addr, strconv.Itoa(d.Port))
			if other, ok := ports[key]; ok {
				errs = append(errs, fmt.Errorf("netsim: devices %q and %q both use %s", other, d.Name, key))
			}
			ports[key] = d.Name
		}
	}
	return errors.Join(errs...)
}

// Sim is a running set of simulated devices.
type Sim struct {
	opts    Options
	log     *slog.Logger
	devices []*Device
	byName  map[string]*Device

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the Sim started

	mu    sync.Mutex
	conns map[*ssh.ServerConn]struct{}

	closeOnce sync.Once
	closeErr  error
	stopAfter func() bool
}

// Start listens for every device and serves NETCONF over SSH until Close is
// called or ctx is done. On error nothing is left running.
func Start(ctx context.Context, opts Options) (*Sim, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.ListenAddr == "" {
		opts.ListenAddr = "127.0.0.1"
	}
	if opts.MaxMessageSize == 0 {
		opts.MaxMessageSize = defaultMaxMessage
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sim{
		opts:   opts,
		log:    log,
		byName: make(map[string]*Device, len(opts.Devices)),
		conns:  map[*ssh.ServerConn]struct{}{},
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	var lc net.ListenConfig
	for _, spec := range opts.Devices {
		if err := ctx.Err(); err != nil {
			_ = s.Close()
			return nil, err
		}
		d, err := newDevice(s, spec)
		if err != nil {
			_ = s.Close()
			return nil, err
		}
		addr := net.JoinHostPort(d.Address, strconv.Itoa(spec.Port))
		ln, err := lc.Listen(ctx, "tcp", addr)
		if err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("netsim: device %s: %w", spec.Name, err)
		}
		d.ln = ln
		d.Port = ln.Addr().(*net.TCPAddr).Port
		s.devices = append(s.devices, d)
		s.byName[d.Name] = d
	}
	for _, d := range s.devices {
		s.wg.Go(func() { s.acceptLoop(d) })
	}
	s.stopAfter = context.AfterFunc(ctx, func() { _ = s.Close() })
	log.Info("netsim started", "devices", len(s.devices), "addr", opts.ListenAddr)
	return s, nil
}

// Devices returns the devices in the order of Options.Devices.
func (s *Sim) Devices() []*Device {
	return append([]*Device(nil), s.devices...)
}

// Device returns the device called name, or nil.
func (s *Sim) Device(name string) *Device { return s.byName[name] }

// KnownHosts returns one known_hosts line per device with its current host
// key, in the "[addr]:port" form that x/crypto/ssh/knownhosts matches. A
// device listening on every address (0.0.0.0, ::) is written as loopback,
// the address a client on this machine dials.
func (s *Sim) KnownHosts() []byte {
	var b []byte
	for _, d := range s.devices {
		host := d.Address
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			host = "127.0.0.1"
			if ip.To4() == nil {
				host = "::1"
			}
		}
		addr := knownhosts.Normalize(net.JoinHostPort(host, strconv.Itoa(d.Port)))
		b = append(b, knownhosts.Line([]string{addr}, d.HostKey())...)
		b = append(b, '\n')
	}
	return b
}

// Close stops every listener, session and timer and waits for all of the
// Sim's goroutines to end. It is safe to call more than once.
func (s *Sim) Close() error {
	s.closeOnce.Do(func() {
		if s.stopAfter != nil {
			s.stopAfter()
		}
		s.cancel()
		var errs []error
		for _, d := range s.devices {
			if err := d.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, fmt.Errorf("netsim: device %s: %w", d.Name, err))
			}
		}
		s.mu.Lock()
		for c := range s.conns {
			_ = c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
		for _, d := range s.devices {
			d.stopTimers()
		}
		s.closeErr = errors.Join(errs...)
		s.log.Info("netsim stopped")
	})
	return s.closeErr
}

func newHostKey() (ssh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("netsim: host key: %w", err)
	}
	return ssh.NewSignerFromKey(priv)
}
