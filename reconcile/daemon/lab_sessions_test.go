package daemon

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/lab/labtest"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/render"
)

// realLab is a daemon's intent repo whose inventory is the lab's yuma123
// netconfd devices, with one attachment circuit per device on a VLAN of its
// own (so runs do not see each other's configuration).
type realLab struct {
	*lab
	lt   *labtest.Lab
	devs []labtest.Device
	vlan int
}

func newRealLab(t testing.TB, lt *labtest.Lab, devs []labtest.Device) *realLab {
	t.Helper()
	root := t.TempDir()
	l := &lab{t: t, repo: filepath.Join(root, "repo"), state: filepath.Join(root, "state")}
	r := &realLab{lab: l, lt: lt, devs: devs, vlan: 2000 + rand.IntN(1000)}
	var inv strings.Builder
	inv.WriteString("apiVersion: netrecon.io/v1\nkind: Inventory\ndevices:\n")
	for _, d := range devs {
		fmt.Fprintf(&inv, "  - name: %s\n    platform: ietf\n    address: %s\n    port: %d\n    credentials:\n      username: %s\n      keyFile: %s\n",
			d.Name, d.Address, d.Port, lt.Username(), lt.KeyFile())
	}
	files := map[string]string{"inventory/lab.yaml": inv.String()}
	for name, c := range r.circuits("first") {
		files[name] = c
	}
	for name, c := range files {
		p := filepath.Join(l.repo, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l.git("init", "-q", "-b", "main")
	l.git("add", "-A")
	l.git("commit", "-q", "-m", "intent")
	os.MkdirAll(l.state, 0o700)
	l.cfg = &Config{
		Repo:             RepoConfig{Path: l.repo},
		StateDir:         l.state,
		KnownHosts:       lt.KnownHosts(),
		PollInterval:     Duration(time.Hour),
		ConfirmTimeout:   Duration(60 * time.Second),
		LockWait:         Duration(2 * time.Second),
		RPCTimeout:       Duration(10 * time.Second),
		SettleAfterHello: Duration(100 * time.Millisecond), // yuma123 (lab/NOTES.md)
		Concurrency:      10,
		Retry:            RetryConfig{Base: Duration(time.Millisecond), Max: Duration(time.Millisecond)},
		Alarm:            AlarmConfig{AfterFailures: 2},
	}
	l.cfg.Defaults()
	return r
}

// circuits are the services: one attachment circuit per device, whose
// description says word.
func (r *realLab) circuits(word string) map[string]string {
	names := make([]string, len(r.devs))
	for i, d := range r.devs {
		names[i] = d.Name
	}
	return circuitServices(names, r.vlan, word)
}

// removeAll commits the removal of every service and runs the pass that
// deletes what netrecon created.
func (r *realLab) removeAll(d *Daemon) {
	r.t.Helper()
	files := map[string]string{}
	for name := range r.circuits("") {
		files[name] = ""
	}
	r.commit("remove the lab circuits", files)
	if p := d.SyncOnce(context.Background(), "test"); len(p.Failed) != 0 || p.Error != "" {
		r.t.Errorf("clean-up pass: %+v", p)
	}
}

func (r *realLab) dial(d labtest.Device) *netconf.Session {
	r.t.Helper()
	auth, err := netconf.KeyFileAuth(r.lt.KeyFile())
	if err != nil {
		r.t.Fatal(err)
	}
	s, err := netconf.Dial(context.Background(), netconf.Target{Device: d.Name, Address: d.Address, Port: d.Port, Username: r.lt.Username(), Auth: auth, KnownHosts: r.lt.KnownHosts()},
		netconf.WithKeys(render.Keys("ietf", nil)), netconf.WithSettleAfterHello(100*time.Millisecond))
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// assertConverged reads every device's running configuration and compares
// it with the intent on the managed nodes.
func (r *realLab) assertConverged() {
	r.t.Helper()
	_, desired := r.desired()
	for _, dev := range r.devs {
		want := desired[dev.Name]
		s := r.dial(dev)
		got, err := s.GetConfig(context.Background(), reconcile.Running, configtree.Filter(want))
		s.Close(context.Background())
		if err != nil {
			r.t.Fatal(err)
		}
		if !got.Equal(want) {
			r.t.Errorf("%s: running differs from the intent:\n%v", dev.Name, configtree.Diff(got, want))
		}
	}
}

func sessionIDs(st api.Status) map[string]string {
	ids := map[string]string{}
	for _, s := range st.Sessions {
		ids[s.Device] = s.SessionID
	}
	return ids
}

// The warm daemon on real netconfd devices, with the operator-session
// guard on: its pooled sessions never count as operators, a second real
// session does, and a pooled session the device killed between passes is
// replaced while the pass converges.
func TestLabWarmDaemonGuardAndKilledSession(t *testing.T) {
	lt := labtest.Load(t)
	// The quiet devices: another package's test on lab1 or lab2 is an
	// operator session to the guard.
	devs := labtest.Quiet(t, 2)
	r := newRealLab(t, lt, devs)
	r.cfg.Guards.OperatorSessions = &OperatorSessionsConfig{}
	r.cfg.Sessions.Keepalive = Duration(time.Hour) // the pass, not the keepalive, meets the killed session
	d := r.start(Options{})
	defer r.removeAll(d)
	ctx := context.Background()
	a, b := devs[0].Name, devs[1].Name

	p := d.SyncOnce(ctx, "test")
	if len(p.Applied) != 2 || len(p.Failed) != 0 || len(deferrals(d.Status())) != 0 {
		t.Fatalf("first pass (the guard must not count the pool's own sessions): %+v, deferred %+v", p, deferrals(d.Status()))
	}
	warm := sessionIDs(d.Status())

	r.commit("second", r.circuits("second"))
	if p := d.SyncOnce(ctx, "test"); len(p.Applied) != 2 || len(p.Failed) != 0 {
		t.Fatalf("warm pass: %+v, deferred %+v", p, deferrals(d.Status()))
	}
	if got := sessionIDs(d.Status()); got[a] != warm[a] || got[b] != warm[b] {
		t.Errorf("the warm pass opened new sessions: %v, before %v", got, warm)
	}

	// An operator logs in to a: a is deferred, b goes ahead alone.
	op := r.dial(devs[0])
	r.commit("third", r.circuits("third"))
	p = d.SyncOnce(ctx, "test")
	st := d.Status()
	if !slices.Equal(p.Applied, []string{b}) || len(deferrals(st)) != 1 || deferrals(st)[0].Device != a ||
		!strings.Contains(deferrals(st)[0].Reason, "(session "+op.SessionID()+" ") || strings.Contains(deferrals(st)[0].Reason, "(session "+warm[a]+" ") {
		t.Fatalf("pass with an operator on %s (session %s; the pool's is %s): %+v, deferred %+v", a, op.SessionID(), warm[a], p, deferrals(st))
	}
	op.Close(ctx)

	// The device kills b's pooled session between passes.
	if err := lt.KillSession(ctx, devs[1], sessionIDs(st)[b]); err != nil {
		t.Fatal(err)
	}
	var applied []string
	for deadline := time.Now().Add(30 * time.Second); !slices.Contains(applied, a); {
		// The operator's session may take a moment to leave netconf-state.
		if time.Now().After(deadline) {
			t.Fatalf("%s not applied within 30 s of the operator leaving: %+v", a, deferrals(d.Status()))
		}
		p := d.SyncOnce(ctx, "test")
		if len(p.Failed) != 0 || p.Error != "" {
			t.Fatalf("pass after the kill: %+v", p)
		}
		applied = append(applied, p.Applied...)
	}
	if s := sessionOf(d.Status(), b); s.SessionID == sessionIDs(st)[b] || s.Reconnects != 1 {
		t.Errorf("%s's killed session was not replaced: %+v", b, s)
	}
	r.assertConverged()
}

// deferral is a device a guard holds back, as the status shows it.
type deferral struct{ Device, Reason string }

func deferrals(st api.Status) []deferral {
	var out []deferral
	for _, dev := range st.Devices {
		if dev.Deferral != nil {
			out = append(out, deferral{dev.Name, dev.Deferral.Reason})
		}
	}
	return out
}
