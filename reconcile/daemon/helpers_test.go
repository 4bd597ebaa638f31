package daemon

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/drivers/netsim"
	"github.com/netrecon/netrecon/drivers/snmp"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/guard"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
)

const testPassword = "netsim-test-password"

// lab is a real intent repo (git CLI) whose inventory points at netsim
// devices, and a config for a daemon that follows it.
type lab struct {
	t     testing.TB
	repo  string // work tree of the intent repo (branch main)
	state string
	sim   *netsim.Sim
	child *childSim // the simulator in a process of its own, when sim is nil
	cfg   *Config
	in    *schema.Intent // the intent as first committed
}

// newLab copies the intent repo in src (a folder, or files from intentgen) into
// a new Git repo, starts one simulated device per inventory device, rewrites
// the inventory to the simulator's ports and commits.
func newLab(t testing.TB, files map[string][]byte) *lab {
	t.Helper()
	root := t.TempDir()
	l := newRepoLab(t, root, files)
	in := l.in
	var specs []netsim.DeviceSpec
	for _, d := range in.Devices {
		specs = append(specs, netsim.DeviceSpec{Name: d.Name, Platform: d.Platform})
	}
	sim, err := netsim.Start(context.Background(), netsim.Options{
		Devices: specs, Username: "netrecon", Password: testPassword,
		Keys: func(p string) configtree.Keys { return render.Keys(p, in.Types) },
	})
	if err != nil {
		t.Fatal(err)
	}
	l.sim = sim
	t.Cleanup(func() { sim.Close() })
	var at []simAddr
	for _, d := range sim.Devices() {
		at = append(at, simAddr{Name: d.Name, Platform: d.Platform, Address: d.Address, Port: d.Port})
	}
	l.setUp(root, at, sim.KnownHosts())
	return l
}

// newRepoLab writes files, but for the inventory, into a work tree under
// root, and loads the intent of files as it will be first committed.
func newRepoLab(t testing.TB, root string, files map[string][]byte) *lab {
	t.Helper()
	l := &lab{t: t, repo: filepath.Join(root, "repo"), state: filepath.Join(root, "state")}
	for name, data := range files {
		if strings.HasPrefix(name, "inventory/") {
			continue
		}
		p := filepath.Join(l.repo, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The devices: from the original inventory.
	in, diags := schema.Load(fstestMap(files), schema.Options{})
	if diags.HasErrors() {
		t.Fatalf("source intent does not load: %v", diags.Err())
	}
	l.in = in
	return l
}

// simAddr is where a simulated device listens.
type simAddr struct {
	Name     string `json:"name"`
	Platform string `json:"platform"`
	Address  string `json:"address"`
	Port     int    `json:"port"`
}

// setUp points the intent repo's inventory at the devices in at, commits,
// and writes the daemon's config, secrets and known_hosts (knownHosts) under
// root.
func (l *lab) setUp(root string, at []simAddr, knownHosts []byte) {
	t := l.t
	l.writeInventory(at)
	l.git("init", "-q", "-b", "main")
	l.git("add", "-A")
	l.git("commit", "-q", "-m", "intent")

	if err := os.MkdirAll(l.state, 0o700); err != nil {
		t.Fatal(err)
	}
	secrets := filepath.Join(root, "secrets")
	os.MkdirAll(secrets, 0o700)
	kh := filepath.Join(secrets, "known_hosts")
	if err := os.WriteFile(kh, knownHosts, 0o600); err != nil {
		t.Fatal(err)
	}
	env := filepath.Join(secrets, "credentials.env")
	if err := os.WriteFile(env, []byte("NETRECON_PASSWORD="+testPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l.cfg = &Config{
		Repo:           RepoConfig{Path: l.repo},
		StateDir:       l.state,
		KnownHosts:     kh,
		Credentials:    CredentialsConfig{EnvFile: env},
		PollInterval:   Duration(time.Hour), // tests trigger passes themselves
		ConfirmTimeout: Duration(30 * time.Second),
		LockWait:       Duration(300 * time.Millisecond),
		RPCTimeout:     Duration(10 * time.Second),
		Retry:          RetryConfig{Base: Duration(time.Millisecond), Max: Duration(time.Millisecond)},
		Alarm:          AlarmConfig{AfterFailures: 2},
	}
	l.cfg.Defaults()
}

// exampleFiles reads intent-example.
func exampleFiles(t testing.TB) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	root := "../../intent-example"
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func (l *lab) writeInventory(at []simAddr) {
	var b strings.Builder
	b.WriteString("apiVersion: netrecon.io/v1\nkind: Inventory\ndevices:\n")
	for _, d := range at {
		fmt.Fprintf(&b, "  - name: %s\n    platform: %s\n    address: %s\n    port: %d\n    credentials:\n      username: netrecon\n      passwordEnv: NETRECON_PASSWORD\n",
			d.Name, d.Platform, d.Address, d.Port)
		if dev := l.in.Device(d.Name); dev != nil && dev.Maintenance {
			b.WriteString("    maintenance: true\n")
		}
	}
	p := filepath.Join(l.repo, "inventory", "sim.yaml")
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		l.t.Fatal(err)
	}
}

func (l *lab) git(args ...string) string {
	l.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = l.repo
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.net",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.net", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		l.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files (nil content removes) and commits them; it returns the commit.
func (l *lab) commit(msg string, files map[string]string) string {
	l.t.Helper()
	for name, content := range files {
		p := filepath.Join(l.repo, filepath.FromSlash(name))
		if content == "" {
			os.Remove(p)
			continue
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			l.t.Fatal(err)
		}
	}
	l.git("add", "-A")
	l.git("commit", "-q", "-m", msg)
	return l.git("rev-parse", "HEAD")
}

func (l *lab) read(name string) string {
	b, err := os.ReadFile(filepath.Join(l.repo, filepath.FromSlash(name)))
	if err != nil {
		l.t.Fatal(err)
	}
	return string(b)
}

// start makes a daemon of the lab's config; it is closed when the test ends.
func (l *lab) start(opts Options) *Daemon {
	l.t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(l.t)
	}
	if opts.Dialer == nil {
		opts.Dialer = l.dialer
	}
	if opts.SNMP == nil {
		opts.SNMP = testSNMP
	}
	d, err := New(context.Background(), l.cfg, opts)
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { d.Close() })
	return d
}

// dialer is what cmd/netrecon gives the daemon, in short: NETCONF over SSH to
// the netsim devices, credentials resolved under the daemon's policy c.
func (l *lab) dialer(in *schema.Intent, c Credentials) reconcile.Dialer {
	return reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
		auth, err := testCredentials(dev, c)
		if err != nil {
			return nil, err
		}
		t := netconf.Target{Device: dev.Name, Address: dev.Address, Port: dev.Port, Username: dev.Credentials.Username, Auth: auth, KnownHosts: l.cfg.KnownHosts}
		return netconf.Dial(ctx, t, netconf.WithKeys(render.Keys(dev.Platform, in.Types)),
			netconf.WithDialTimeout(l.cfg.DialTimeout.D()), netconf.WithRPCTimeout(l.cfg.RPCTimeout.D()), netconf.WithSettleAfterHello(l.cfg.SettleAfterHello.D()))
	})
}

// testCredentials resolves dev's credential references as cmd/netrecon's
// dialer does under the daemon's policy c.
func testCredentials(dev *schema.Device, c Credentials) (netconf.Auth, error) {
	if v, ok := c.Env[dev.Credentials.PasswordEnv]; ok && dev.Credentials.PasswordEnv != "" {
		return netconf.PasswordAuth(v), nil
	}
	auth, err := netconf.ResolveCredentials(dev.Credentials, "", netconf.OnInsecureFile(c.OnInsecureFile))
	if err != nil {
		return netconf.Auth{}, fmt.Errorf("%s: credentials: %w", dev.Name, err)
	}
	return auth, nil
}

// testSNMP is cmd/netrecon's Options.SNMP: drivers/snmp's client read by the
// SNMP guard.
func testSNMP(c *SNMPConfig, log *slog.Logger) (guard.SNMPReader, error) {
	client, err := snmp.New(snmp.Options{Community: os.Getenv(c.CommunityEnv), Timeout: c.Timeout.D(), Retries: c.Retries, Logger: log})
	if err != nil {
		return nil, err
	}
	return snmpAdapter{client}, nil
}

type snmpAdapter struct{ c *snmp.Client }

func (r snmpAdapter) Read(ctx context.Context, target, oid string) (guard.SNMPValue, error) {
	v, err := r.c.Get(ctx, target, oid)
	if err != nil {
		return guard.SNMPValue{}, err
	}
	out := guard.SNMPValue{Type: v.Type}
	switch {
	case v.IsInt():
		n, err := v.Int()
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

// desired renders the committed intent at HEAD, as the daemon should.
func (l *lab) desired() (*schema.Intent, map[string]*configtree.Tree) {
	l.t.Helper()
	in, diags := schema.Load(os.DirFS(l.repo), schema.Options{})
	if diags.HasErrors() {
		l.t.Fatal(diags.Err())
	}
	r, diags := render.New(in)
	if diags.HasErrors() {
		l.t.Fatal(diags.Err())
	}
	var names []string
	for _, d := range in.Devices {
		names = append(names, d.Name)
	}
	desired, diags := r.Devices(context.Background(), names)
	if diags.HasErrors() {
		l.t.Fatal(diags.Err())
	}
	return in, desired
}

// assertConverged checks that every device's running configuration holds the
// desired tree exactly on the managed nodes.
func (l *lab) assertConverged() {
	l.t.Helper()
	_, desired := l.desired()
	for _, dev := range l.sim.Devices() {
		want := desired[dev.Name]
		if want == nil {
			continue
		}
		got := dev.Running().Select(configtree.Filter(want))
		if !got.Equal(want) {
			l.t.Errorf("%s: running differs from the intent:\n%v", dev.Name, configtree.Diff(got, want))
		}
	}
}

func (l *lab) editRPCs() int {
	if l.child != nil {
		return l.child.counts().EditConfig
	}
	n := 0
	for _, d := range l.sim.Devices() {
		n += d.RPCCount("edit-config")
	}
	return n
}

func testLogger(t testing.TB) *slog.Logger {
	level := slog.LevelWarn + 4 // errors only: expected failures are logged at Warn
	if os.Getenv("NETRECON_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewJSONHandler(t.Output(), &slog.HandlerOptions{Level: level}))
}

// fstestMap is an fs.FS over a map of files.
func fstestMap(files map[string][]byte) fs.FS {
	m := fstest.MapFS{}
	for k, v := range files {
		m[k] = &fstest.MapFile{Data: v}
	}
	return m
}

// deferredOf lists the devices of st that a guard holds back.
func deferredOf(st api.Status) []api.Device {
	var out []api.Device
	for _, d := range st.Devices {
		if d.Deferral != nil {
			out = append(out, d)
		}
	}
	return out
}

func afterSeconds(n int) <-chan time.Time { return time.After(time.Duration(n) * time.Second) }
