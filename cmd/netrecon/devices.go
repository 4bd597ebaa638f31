package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/drivers/snmp"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/daemon"
	"github.com/netrecon/netrecon/reconcile/guard"
	"github.com/netrecon/netrecon/reconcile/secretref"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
	"github.com/netrecon/netrecon/usage"
)

// deviceFlags are the knobs of every verb that talks to devices.
type deviceFlags struct {
	stateDir    string
	knownHosts  string
	devices     []string
	concurrency int
	dialTimeout time.Duration
	rpcTimeout  time.Duration
	settle      time.Duration
}

func (f *deviceFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.stateDir, "state", "", "netrecon's state folder: journal, known_hosts (default: $XDG_STATE_HOME/netrecon or ~/.local/state/netrecon)")
	fl.StringVar(&f.knownHosts, "known-hosts", "", "known_hosts file with the devices' SSH host keys (default: STATE/known_hosts)")
	fl.StringSliceVar(&f.devices, "devices", nil, "only these devices (comma-separated names)")
	fl.IntVar(&f.concurrency, "concurrency", 10, "devices talked to at once")
	fl.DurationVar(&f.dialTimeout, "dial-timeout", netconf.DefaultDialTimeout, "SSH connection and NETCONF hello deadline per device")
	fl.DurationVar(&f.rpcTimeout, "rpc-timeout", 30*time.Second, "deadline of each NETCONF request")
	fl.DurationVar(&f.settle, "settle-after-hello", 0, "pause between hello and the first request (works around servers that lose that reply, e.g. yuma123 netconfd: 100ms)")
}

// state returns the state folder, created if missing.
func (f *deviceFlags) state() (string, error) {
	dir, err := f.statePath()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("state folder: %w", err)
	}
	return dir, nil
}

// statePath is the state folder, without creating it: what only reads it
// must not leave a folder behind.
func (f *deviceFlags) statePath() (string, error) {
	if f.stateDir != "" {
		return f.stateDir, nil
	}
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no --state given and no home folder: %w", err)
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "netrecon"), nil
}

func (f *deviceFlags) knownHostsFile() (string, error) {
	if f.knownHosts != "" {
		return f.knownHosts, nil
	}
	dir, err := f.statePath()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "known_hosts"), nil
}

// fetchCommand is the command that records the host keys of devices (all
// of them when none is named) where this verb reads them.
func (f *deviceFlags) fetchCommand(dir string, devices []string) string {
	args := []string{"netrecon", "hostkeys", "fetch", dir}
	if f.stateDir != "" {
		args = append(args, "--state", f.stateDir)
	}
	if f.knownHosts != "" {
		args = append(args, "--known-hosts", f.knownHosts)
	}
	if len(devices) > 0 {
		args = append(args, "--devices", strings.Join(devices, ","))
	}
	return shellJoin(args)
}

// checkHostKeys refuses to go on without the devices' host keys, naming the
// command that records them, before anything is written: netrecon never
// connects to a device whose key it does not know. With all, every device
// must have a key; otherwise only the file must exist (a live plan reports
// each device it cannot read and plans the others).
func (f *deviceFlags) checkHostKeys(in *schema.Intent, dir string, names []string, all bool) error {
	kh, err := f.knownHostsFile()
	if err != nil {
		return err
	}
	if _, err := os.Stat(kh); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no host keys: %s does not exist. Record the devices' keys first (trust on first use; it prints each fingerprint to compare with the router's own):\n  %s", kh, f.fetchCommand(dir, nil))
	} else if err != nil {
		return fmt.Errorf("known_hosts: %w", err)
	}
	if !all {
		return nil
	}
	known, err := readKnownHosts(kh)
	if err != nil {
		return err
	}
	var missing []string
	for _, name := range names {
		d := in.Device(name)
		if _, ok := known[knownhosts.Normalize(net.JoinHostPort(d.Address, strconv.Itoa(d.Port)))]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("no host key for %s in %s: record it first (trust on first use):\n  %s",
			strings.Join(missing, ", "), kh, f.fetchCommand(dir, missing))
	}
	return nil
}

func (f *deviceFlags) check() error {
	if f.concurrency < 1 {
		return fmt.Errorf("--concurrency %d: want at least 1", f.concurrency)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--dial-timeout", f.dialTimeout}, {"--rpc-timeout", f.rpcTimeout}, {"--settle-after-hello", f.settle}} {
		if d.v < 0 {
			return fmt.Errorf("%s %s: want a positive duration", d.name, d.v)
		}
	}
	return nil
}

// selected returns the inventory devices the verb works on, in name order,
// or an error naming the unknown ones.
func (f *deviceFlags) selected(in *schema.Intent) ([]string, error) {
	var all []string
	for _, d := range in.Devices {
		all = append(all, d.Name)
	}
	if len(f.devices) == 0 {
		return all, nil
	}
	var out []string
	for _, d := range f.devices {
		if !slices.Contains(all, d) {
			return nil, fmt.Errorf("device %q is not in the inventory. Devices are %q", d, all)
		}
		out = append(out, d)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// dialer is the CLI's dialConfig: host keys from --known-hosts, credential
// files inside the repo refused, and a credential file that its group or
// others may access used with a warning on warn, once per file (the daemon
// refuses it).
func (f *deviceFlags) dialer(in *schema.Intent, repoDir string, warn io.Writer) (reconcile.Dialer, error) {
	c, err := f.dialConfig(repoDir, warn)
	if err != nil {
		return nil, err
	}
	return dialer(in, c), nil
}

// dialConfig is the CLI's dialConfig (see dialer).
func (f *deviceFlags) dialConfig(repoDir string, warn io.Writer) (dialConfig, error) {
	kh, err := f.knownHostsFile()
	if err != nil {
		return dialConfig{}, err
	}
	var mu sync.Mutex
	warned := map[string]bool{}
	return dialConfig{knownHosts: kh, dialTimeout: f.dialTimeout, rpcTimeout: f.rpcTimeout, settle: f.settle, repoDir: repoDir,
		creds: daemon.Credentials{OnInsecureFile: func(e *schema.InsecureFileError) error {
			mu.Lock()
			defer mu.Unlock()
			if !warned[e.Path] {
				warned[e.Path] = true
				fmt.Fprintf(warn, "warning: %v\n", e)
			}
			return nil
		}}}, nil
}

// dialConfig is how netrecon reaches devices, from the CLI's flags or the
// daemon's config.
type dialConfig struct {
	knownHosts                      string
	dialTimeout, rpcTimeout, settle time.Duration
	repoDir                         string // credential files inside it are refused; "" for the daemon's mirror
	creds                           daemon.Credentials
	// services, when set, is where the sessions read the secret references
	// of the devices' services, instead of the intent they were dialled
	// for: a CLI dials while its services still load (earlySessions).
	services func() *schema.Intent
	// onHello, when set, is called with a device's name once its hello
	// arrived (netconf.WithOnHello).
	onHello func(device string)
}

// dialer opens NETCONF sessions to the inventory's devices, for the CLI and
// the daemon alike: credentials from the inventory's references (never from
// the repo itself), host keys checked against known_hosts, list keys from the
// device's platform and the repo's service types.
func dialer(in *schema.Intent, c dialConfig) reconcile.Dialer {
	hosts := netconf.NewKnownHosts() // parsed once for all the dials, not at each
	// Secret references (a BGP session key) resolve only in the edits sent,
	// and read back as their references.
	refs := func(device string) []string {
		if c.services != nil {
			return secretref.Refs(c.services(), device)
		}
		return secretref.Refs(in, device)
	}
	return secretref.Wrap(reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
		auth, err := c.credentials(dev)
		if err != nil {
			return nil, err
		}
		t := netconf.Target{Device: dev.Name, Address: dev.Address, Port: dev.Port, Username: dev.Credentials.Username, Auth: auth, KnownHosts: c.knownHosts}
		opts := []netconf.Option{netconf.WithKeys(render.Keys(dev.Platform, in.Types)),
			netconf.WithDialTimeout(c.dialTimeout), netconf.WithRPCTimeout(c.rpcTimeout), netconf.WithSettleAfterHello(c.settle),
			netconf.WithKnownHosts(hosts)}
		if c.onHello != nil {
			opts = append(opts, netconf.WithOnHello(func() { c.onHello(dev.Name) }))
		}
		s, err := netconf.Dial(ctx, t, opts...)
		if err != nil {
			return nil, err // not s: a nil *Session in the interface would not be nil
		}
		return s, nil
	}), refs, c.resolveSecret)
}

// resolveSecret resolves a secret reference of the intent: env:NAME from the
// daemon's credentials file first, as device passwords are, then from the
// environment.
func (c dialConfig) resolveSecret(ref string) (string, error) {
	if name, ok := strings.CutPrefix(ref, "env:"); ok {
		if v := c.creds.Env[name]; v != "" {
			return v, nil
		}
	}
	return secretref.Resolve(ref)
}

func (c dialConfig) credentials(dev *schema.Device) (netconf.Auth, error) {
	if env := dev.Credentials.PasswordEnv; env != "" {
		if v, ok := c.creds.Env[env]; ok {
			return netconf.PasswordAuth(v), nil
		}
	}
	auth, err := netconf.ResolveCredentials(dev.Credentials, c.repoDir, netconf.OnInsecureFile(c.creds.OnInsecureFile))
	if err != nil {
		return netconf.Auth{}, fmt.Errorf("%s: credentials: %w", dev.Name, err)
	}
	return auth, nil
}

// snmpTables adapts drivers/snmp's client to the usage collection's
// table reads; newSNMPTables is the daemon's Options.SNMPTables.
type snmpTables struct{ c *snmp.Client }

func newSNMPTables(c *daemon.UsageConfig, log *slog.Logger) (usage.TableReader, error) {
	client, err := snmp.New(snmp.Options{Community: os.Getenv(c.CommunityEnv), Timeout: c.Timeout.D(), Retries: c.Retries, Logger: log})
	if err != nil {
		return nil, err
	}
	return snmpTables{client}, nil
}

func (r snmpTables) Table(ctx context.Context, target string, scalars, columns []string) (usage.Table, error) {
	res, err := r.c.Table(ctx, target, scalars, columns, 0)
	out := usage.Table{Scalars: map[string]usage.Value{}, Rows: make(map[string]map[string]usage.Value, len(res.Rows)), Requests: res.Requests}
	for oid, v := range res.Scalars {
		out.Scalars[oid] = usageValue(v)
	}
	for idx, row := range res.Rows {
		r := make(map[string]usage.Value, len(row))
		for col, v := range row {
			r[col] = usageValue(v)
		}
		out.Rows[idx] = r
	}
	return out, err
}

func usageValue(v snmp.Value) usage.Value {
	out := usage.Value{Type: v.Type}
	switch {
	case v.IsInt():
		if n, err := v.Uint(); err == nil {
			out.Uint = &n
		}
	case v.IsText():
		s := v.String()
		out.Text = &s
	}
	return out
}

// snmpReader adapts drivers/snmp's client to the daemon's SNMP guard;
// newSNMPReader is the daemon's Options.SNMP.
type snmpReader struct{ c *snmp.Client }

func newSNMPReader(c *daemon.SNMPConfig, log *slog.Logger) (guard.SNMPReader, error) {
	client, err := snmp.New(snmp.Options{Community: os.Getenv(c.CommunityEnv), Timeout: c.Timeout.D(), Retries: c.Retries, Logger: log})
	if err != nil {
		return nil, err
	}
	return snmpReader{client}, nil
}

func (r snmpReader) Read(ctx context.Context, target, oid string) (guard.SNMPValue, error) {
	v, err := r.c.Get(ctx, target, oid)
	if err != nil {
		return guard.SNMPValue{}, err
	}
	out := guard.SNMPValue{Type: v.Type}
	switch {
	case v.IsInt():
		n, err := v.Int() // a Counter64 beyond int64 is an error, not a wrapped number
		if err != nil {
			return guard.SNMPValue{}, err
		}
		out.Int = &n
	case v.IsText():
		s := v.String()
		out.Text = &s
	}
	return out, nil
}
