package apply

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/drivers/netsim"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
)

const ifNS = "urn:ietf:params:xml:ns:yang:ietf-interfaces"

var keys = render.Keys("ietf", nil)

var nameSeq atomic.Int64

// uniqueName is an interface name no other test, nor another engineer's run
// on the shared lab, uses.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s%d-%d", prefix, time.Now().UnixNano()%1e9, nameSeq.Add(1))
}

// ifaces is the desired tree of interfaces name → description, owned by owner.
func ifaces(t testing.TB, owner string, kv ...string) *configtree.Tree {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `<interfaces xmlns=%q>`, ifNS)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, `<interface><name>%s</name><type xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type">ianaift:ethernetCsmacd</type><description>%s</description></interface>`, kv[i], kv[i+1])
	}
	b.WriteString(`</interfaces>`)
	tree, err := configtree.Parse(strings.NewReader(b.String()), t.Name(), keys)
	if err != nil {
		t.Fatal(err)
	}
	tree.SetOwner(owner)
	return tree
}

// simEnv is a netsim network with its inventory and dialer.
type simEnv struct {
	sim    *netsim.Sim
	inv    *schema.Intent
	dialer reconcile.Dialer
	dials  atomic.Int64
}

func newSim(t testing.TB, n int) *simEnv {
	t.Helper()
	var names []string
	for i := range n {
		names = append(names, fmt.Sprintf("pe%03d", i+1))
	}
	return newSimOf(t, "ietf", names...)
}

// newSimOf starts simulated devices of platform with the given names.
func newSimOf(t testing.TB, platform string, names ...string) *simEnv {
	t.Helper()
	const password = "apply-test"
	k := render.Keys(platform, nil)
	var specs []netsim.DeviceSpec
	for _, name := range names {
		specs = append(specs, netsim.DeviceSpec{Name: name, Platform: platform})
	}
	sim, err := netsim.Start(context.Background(), netsim.Options{
		Devices: specs, Username: "netrecon", Password: password,
		Keys: func(string) configtree.Keys { return k },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, sim.KnownHosts(), 0o600); err != nil {
		t.Fatal(err)
	}
	env := &simEnv{sim: sim, inv: &schema.Intent{}}
	targets := map[string]netconf.Target{}
	for _, d := range sim.Devices() {
		env.inv.Devices = append(env.inv.Devices, &schema.Device{Name: d.Name, Platform: d.Platform, Address: d.Address, Port: d.Port})
		targets[d.Name] = netconf.Target{Device: d.Name, Address: d.Address, Port: d.Port, Username: "netrecon", Auth: netconf.PasswordAuth(password), KnownHosts: kh}
	}
	env.dialer = reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
		env.dials.Add(1)
		tg, ok := targets[dev.Name]
		if !ok {
			return nil, fmt.Errorf("%s: no such sim device", dev.Name)
		}
		return netconf.Dial(ctx, tg, netconf.WithKeys(k), netconf.WithRPCTimeout(10*time.Second))
	})
	return env
}

func (e *simEnv) names() []string {
	var out []string
	for _, d := range e.inv.Devices {
		out = append(out, d.Name)
	}
	return out
}

// openJournal opens a journal in the test's temp dir.
func openJournal(t testing.TB) *journal.Journal {
	t.Helper()
	j, err := journal.Open(t.Context(), filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// recorder is a Reporter that keeps the events.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) Event(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) phases(device string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if e.Device == device {
			out = append(out, e.Phase)
		}
	}
	return out
}

// noSleep makes lock back-off instant: LockWait then counts virtual time.
func noSleep(context.Context, time.Duration) error { return nil }

// noSessions waits, up to a deadline, until no device has a session open:
// a server tears a session down just after answering close-session.
func noSessions(t *testing.T, env *simEnv) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		open := 0
		for _, d := range env.sim.Devices() {
			open += d.Sessions()
		}
		if open == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%d sessions still open", open)
			return
		}
		<-tick.C
	}
}

// errCrashed is what every RPC and dial answers once a crash struck.
var errCrashed = errors.New("crashed: this process is dead")

// crash stops an apply dead at one phase boundary of one device, as a
// SIGKILL would, with no help from the engine: at the progress event of that
// phase (journaled, not yet entered) the journal is closed, so nothing more is
// written to it, and from then on no RPC reaches a device and no dial
// succeeds. Reopen closes every session, as the kernel closes a dead
// process's connections, and hands the journal, as the crash left it, to
// recovery.
type crash struct {
	device string // "" for a batch event
	phase  string // a journal phase, or a batch event (BatchPrefix + name)
	path   string
	j      *journal.Journal
	dead   atomic.Bool
	env    *simEnv

	mu       sync.Mutex
	sessions []reconcile.Device // all it opened: they die with the process
}

func newCrash(t *testing.T, env *simEnv, device string, phase journal.Phase) *crash {
	t.Helper()
	return newCrashAt(t, env, device, string(phase))
}

// newBatchCrash strikes at a batch event: just before the journal batch
// named batch is written, every device having finished the step before.
func newBatchCrash(t *testing.T, env *simEnv, batch string) *crash {
	t.Helper()
	return newCrashAt(t, env, "", BatchPrefix+batch)
}

func newCrashAt(t *testing.T, env *simEnv, device, phase string) *crash {
	t.Helper()
	c := &crash{device: device, phase: phase, env: env, path: filepath.Join(t.TempDir(), "journal.db")}
	var err error
	if c.j, err = journal.Open(t.Context(), c.path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.j.Close() })
	return c
}

// Event implements Reporter: the crash strikes at its phase.
func (c *crash) Event(e Event) {
	if e.Device == c.device && e.Phase == c.phase && !c.dead.Swap(true) {
		c.j.Close()
	}
}

// stopped reports whether an apply ended by the crash: struck, and failed.
func (c *crash) stopped(err error) bool { return c.dead.Load() && err != nil }

// reopen opens the journal the crash left.
func (c *crash) reopen(t *testing.T) *journal.Journal {
	t.Helper()
	if !c.dead.Load() {
		t.Fatal("the crash never struck")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.sessions {
		_ = s.Close(context.Background())
	}
	if c.env != nil { // nil on the lab, which counts no sessions
		noSessions(t, c.env)
	}
	return openAt(t, c.path)
}

func openAt(t testing.TB, path string) *journal.Journal {
	t.Helper()
	j, err := journal.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// dialer wraps d: once the crash struck, nothing goes through.
func (c *crash) dialer(d reconcile.Dialer) reconcile.Dialer {
	return reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
		if c.dead.Load() {
			return nil, errCrashed
		}
		s, err := d.Dial(ctx, dev)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.sessions = append(c.sessions, s)
		return crashSession{s, c}, nil
	})
}

// crashSession sends nothing once the crash struck; Close still closes.
type crashSession struct {
	reconcile.Device
	c *crash
}

func (s crashSession) alive() error {
	if s.c.dead.Load() {
		return errCrashed
	}
	return nil
}

func (s crashSession) GetConfig(ctx context.Context, source string, filter *configtree.Tree) (*configtree.Tree, error) {
	if err := s.alive(); err != nil {
		return nil, err
	}
	return s.Device.GetConfig(ctx, source, filter)
}

func (s crashSession) Lock(ctx context.Context, target string) error {
	if err := s.alive(); err != nil {
		return err
	}
	return s.Device.Lock(ctx, target)
}

func (s crashSession) Unlock(ctx context.Context, target string) error {
	if err := s.alive(); err != nil {
		return err
	}
	return s.Device.Unlock(ctx, target)
}

func (s crashSession) EditConfig(ctx context.Context, target string, changes []configtree.Change) error {
	if err := s.alive(); err != nil {
		return err
	}
	return s.Device.EditConfig(ctx, target, changes)
}

func (s crashSession) Discard(ctx context.Context) error {
	if err := s.alive(); err != nil {
		return err
	}
	return s.Device.Discard(ctx)
}

func (s crashSession) Validate(ctx context.Context, source string) error {
	if err := s.alive(); err != nil {
		return err
	}
	return s.Device.Validate(ctx, source)
}

func (s crashSession) Commit(ctx context.Context, o reconcile.CommitOptions) error {
	if err := s.alive(); err != nil {
		return err
	}
	return s.Device.Commit(ctx, o)
}

func (s crashSession) CancelCommit(ctx context.Context, persistID string) error {
	if err := s.alive(); err != nil {
		return err
	}
	return s.Device.CancelCommit(ctx, persistID)
}

func (s crashSession) Sessions(ctx context.Context) ([]reconcile.MonitoringSession, error) {
	if err := s.alive(); err != nil {
		return nil, err
	}
	return s.Device.Sessions(ctx)
}

// onEvent is a Reporter that calls a function.
type onEvent func(Event)

func (f onEvent) Event(e Event) { f(e) }

// readRunning reads the managed part of running on a session of its own, as
// the live planner does.
func readRunning(ctx context.Context, dialer reconcile.Dialer, dev *schema.Device, filter *configtree.Tree) (*configtree.Tree, error) {
	s, err := dialer.Dial(ctx, dev)
	if err != nil {
		return nil, fmt.Errorf("%s: dial: %w", dev.Name, err)
	}
	defer s.Close(context.WithoutCancel(ctx))
	return s.GetConfig(ctx, reconcile.Running, filter)
}

// confirmedCount is how many devices of res confirmed, with how many changes.
func confirmedCount(res *Result) (devices, changes int) {
	for _, d := range res.Devices {
		if d.Phase == string(journal.Confirmed) {
			devices++
			changes += d.Changes
		}
	}
	return devices, changes
}

// atFault names the devices of res that failed on their own, not merely
// rolled back with their change set.
func atFault(res *Result) []string {
	var out []string
	for _, d := range res.Devices {
		if d.Err != nil && !innocent(d.Err) {
			out = append(out, d.Name)
		}
	}
	return out
}
