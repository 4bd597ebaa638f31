package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/lab/labtest"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/ownership"
	"github.com/netrecon/netrecon/reconcile/plan"
	"github.com/netrecon/netrecon/reconcile/planner"
	"github.com/netrecon/netrecon/schema"
)

// labSettle is the pause after hello the lab's yuma123 needs (lab NOTES).
const labSettle = 100 * time.Millisecond

type labEnv struct {
	inv    *schema.Intent
	dialer reconcile.Dialer
	target map[string]netconf.Target
	opts   []netconf.Option
}

// newLab describes the lab's devices (platform "ietf") and dials them with
// the settle pause their server needs; the test uses the first need of them
// (lab1 … labN).
func newLab(t testing.TB, need int) *labEnv {
	lab := labtest.NeedDevices(t, need)
	auth, err := netconf.KeyFileAuth(lab.KeyFile())
	if err != nil {
		t.Fatal(err)
	}
	env := &labEnv{inv: &schema.Intent{}, target: map[string]netconf.Target{},
		opts: []netconf.Option{netconf.WithSettleAfterHello(labSettle), netconf.WithKeys(keys), netconf.WithRPCTimeout(20 * time.Second)}}
	for _, d := range lab.Devices() {
		env.inv.Devices = append(env.inv.Devices, &schema.Device{Name: d.Name, Platform: "ietf", Address: d.Address, Port: d.Port})
		env.target[d.Name] = netconf.Target{Device: d.Name, Address: d.Address, Port: d.Port, Username: lab.Username(), Auth: auth, KnownHosts: lab.KnownHosts()}
	}
	env.dialer = reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
		tg, ok := env.target[dev.Name]
		if !ok {
			return nil, fmt.Errorf("%s: not a lab device", dev.Name)
		}
		return netconf.Dial(ctx, tg, env.opts...)
	})
	return env
}

// present reads which of the named interfaces running holds on dev, with
// their descriptions.
func (l *labEnv) present(t testing.TB, dev string, names ...string) map[string]string {
	t.Helper()
	kv := []string{}
	for _, n := range names {
		kv = append(kv, n, "")
	}
	filter := configtree.Filter(ifaces(t, "", kv...))
	live, err := readRunning(context.Background(), l.dialer, l.inv.Device(dev), filter)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, n := range names {
		if live.Find(configtree.Path("/interfaces/interface[name="+n+"]")) != nil {
			d := live.Find(configtree.Path("/interfaces/interface[name=" + n + "]/description"))
			if d != nil {
				out[n] = d.Value
			} else {
				out[n] = ""
			}
		}
	}
	return out
}

// cleanup removes what the journal says the test applied, through apply itself.
func (l *labEnv) cleanup(t testing.TB, j *journal.Journal, devs []string) {
	empty := map[string]*configtree.Tree{}
	p, err := planner.Live(context.Background(), planner.LiveOptions{Intent: l.inv, Desired: empty, Dialer: l.dialer, Journal: j, Devices: devs, Concurrency: 4})
	if err != nil {
		t.Error(err)
		return
	}
	if _, err := Apply(context.Background(), p, empty, l.inv, Options{Dialer: l.dialer, Journal: j}); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}

func TestLabApplyTwoDevices(t *testing.T) {
	l := newLab(t, 2)
	j := openJournal(t)
	a, b := uniqueName("nra"), uniqueName("nra")
	devs := []string{"lab1", "lab2"}
	desired := map[string]*configtree.Tree{
		"lab1": ifaces(t, "svc-lab", a, "customer A"),
		"lab2": ifaces(t, "svc-lab", a, "customer A", b, "customer B"),
	}
	t.Cleanup(func() { l.cleanup(t, j, devs) })
	p, err := planner.Live(t.Context(), planner.LiveOptions{Intent: l.inv, Desired: desired, Dialer: l.dialer, Journal: j, Devices: devs, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Apply(t.Context(), p, desired, l.inv, Options{Dialer: l.dialer, Journal: j})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s in %s", res.Outcome, res.Elapsed)
	if got := l.present(t, "lab2", a, b); got[a] != "customer A" || got[b] != "customer B" {
		t.Errorf("lab2 running: %v", got)
	}
	p2, err := planner.Live(t.Context(), planner.LiveOptions{Intent: l.inv, Desired: desired, Dialer: l.dialer, Journal: j, Devices: devs, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	if s := p2.Summary(); s.HasChanges() || s.Failed > 0 {
		t.Fatalf("second plan: %+v", s)
	}
	// Removal through the journal's ownership: the services are gone.
	l.cleanup(t, j, devs)
	if got := l.present(t, "lab2", a, b); len(got) != 0 {
		t.Errorf("after removal lab2 still has %v", got)
	}
}

// TestLabVerifyCatchesValidateQuirk is the regression test for a silent
// no-op commit: with <validate> switched on for "ietf", the lab's yuma123
// answers <ok/> to the commit and changes nothing. Apply must notice, roll
// back, and say so — never report success.
func TestLabVerifyCatchesValidateQuirk(t *testing.T) {
	l := newLab(t, 2)
	name := uniqueName("nrv")
	devs := []string{"lab1", "lab2"}
	desired := map[string]*configtree.Tree{}
	for _, d := range devs {
		desired[d] = ifaces(t, "svc-lab", name, "validated")
	}
	p, err := planner.Live(t.Context(), planner.LiveOptions{Intent: l.inv, Desired: desired, Dialer: l.dialer, Devices: devs, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	rep := &recorder{}
	res, err := Apply(t.Context(), p, desired, l.inv, Options{Dialer: l.dialer, Journal: openJournal(t), Validate: map[string]bool{"ietf": true}, Reporter: rep})
	var ve *VerifyError
	if !errors.As(err, &ve) {
		// If this fails with a nil error, the server was fixed or apply
		// trusted <ok/>: check running before believing it.
		cj := openJournal(t) // closed after the cleanup below: cleanups run last first
		t.Cleanup(func() {
			for _, d := range devs {
				if len(l.present(t, d, name)) > 0 {
					del := &plan.Plan{Mode: plan.Live, Devices: []*plan.Device{plan.DiffDevice(d, "ietf", ifaces(t, "svc-lab", name, "x"), configtree.New(), plan.Live)}}
					_, _ = Apply(context.Background(), del, nil, l.inv, Options{Dialer: l.dialer, Journal: cj})
				}
			}
		})
		t.Fatalf("err = %v (outcome %v), want *VerifyError", err, res.Outcome)
	}
	t.Log(err)
	if res.Outcome != journal.RolledBack {
		t.Errorf("outcome %s", res.Outcome)
	}
	for _, d := range devs {
		if got := l.present(t, d, name); len(got) != 0 {
			t.Errorf("%s: running holds %v after rollback", d, got)
		}
	}
}

// BenchmarkLabApply compares Apply on the lab's devices (two-phase, verify,
// journal) with a bare loop of dial/lock/edit/commit/unlock over the same
// devices with the same driver, in parallel as Apply is. Each iteration
// updates one interface's description per device.
func BenchmarkLabApply(b *testing.B) {
	l := newLab(b, 1)
	var devs []string
	for _, d := range l.inv.Devices {
		devs = append(devs, d.Name)
	}
	name := uniqueName("nrb")
	mk := func(i int) map[string]*configtree.Tree {
		out := map[string]*configtree.Tree{}
		for _, d := range devs {
			out[d] = ifaces(b, "svc-bench", name, fmt.Sprintf("v%d", i))
		}
		return out
	}
	j := openJournal(b)
	defer l.cleanup(b, j, devs)
	run := func(b *testing.B, withJournal bool) {
		var jj *journal.Journal
		if withJournal {
			jj = j
		}
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			desired := mk(i)
			p, err := planner.Live(b.Context(), planner.LiveOptions{Intent: l.inv, Desired: desired, Dialer: l.dialer, Journal: j, Devices: devs, Concurrency: 4})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := Apply(b.Context(), p, desired, l.inv, Options{Dialer: l.dialer, Journal: jj}); err != nil {
				b.Fatal(err)
			}
			if !withJournal {
				b.StopTimer()
				for _, d := range devs {
					_ = j.SetOwnership(b.Context(), d, ownership.Record{Created: desired[d], Desired: desired[d].Fingerprint()}, "")
				}
				b.StartTimer()
			}
		}
	}
	b.Run("apply", func(b *testing.B) { run(b, true) })
	b.Run("apply-nojournal", func(b *testing.B) { run(b, false) })
	b.Run("bare", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			changes := configtree.Diff(configtree.New(), mk(1000 + i)[devs[0]])
			b.StartTimer()
			var wg sync.WaitGroup
			errs := make([]error, len(devs))
			for k, d := range devs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[k] = bare(b.Context(), l, d, changes)
				}()
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// bare is the minimum a tool does to change a device: no verify, no
// two-phase, no journal.
func bare(ctx context.Context, l *labEnv, dev string, changes []configtree.Change) error {
	s, err := netconf.Dial(ctx, l.target[dev], l.opts...)
	if err != nil {
		return err
	}
	defer s.Close(ctx)
	for {
		err = s.Lock(ctx, reconcile.Candidate)
		var denied *reconcile.LockHeldError
		if !errors.As(err, &denied) {
			break
		}
		// Another engineer's test holds the shared lab's lock.
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	if err != nil {
		return err
	}
	defer s.Unlock(ctx, reconcile.Candidate)
	if err := s.EditConfig(ctx, reconcile.Candidate, changes); err != nil {
		return err
	}
	return s.Commit(ctx, reconcile.CommitOptions{})
}

// TestLabLockHolderNamed: a real session holding the lock is named with its
// user from netconf-state, and nothing is changed.
func TestLabLockHolderNamed(t *testing.T) {
	l := newLab(t, 3)
	name := uniqueName("nrl")
	holder, err := l.dialer.Dial(t.Context(), l.inv.Device("lab3"))
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(context.Background())
	if err := lockUntil(t.Context(), holder, reconcile.Candidate); err != nil {
		t.Fatal(err)
	}
	defer holder.Unlock(context.Background(), reconcile.Candidate)
	desired := map[string]*configtree.Tree{"lab3": ifaces(t, "svc-lab", name, "x")}
	p, err := planner.Live(t.Context(), planner.LiveOptions{Intent: l.inv, Desired: desired, Dialer: l.dialer, Devices: []string{"lab3"}, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Apply(t.Context(), p, desired, l.inv, Options{Dialer: l.dialer, Journal: openJournal(t), LockWait: time.Second, Sleep: noSleep})
	var lt *LockTimeoutError
	if !errors.As(err, &lt) {
		t.Fatalf("err %v, want *LockTimeoutError", err)
	}
	t.Log(lt)
	if lt.HeldBy != holder.SessionID() || !strings.Contains(lt.Holder, "session "+holder.SessionID()+" (root") {
		t.Errorf("holder %q (id %q), want session %s by root", lt.Holder, lt.HeldBy, holder.SessionID())
	}
	if got := l.present(t, "lab3", name); len(got) != 0 {
		t.Errorf("changed although locked out: %v", got)
	}
}

// lockUntil takes a lock on the shared lab, waiting while another engineer's
// test holds it.
func lockUntil(ctx context.Context, s reconcile.Device, ds string) error {
	for {
		err := s.Lock(ctx, ds)
		if _, busy := contention(err); !busy {
			return err
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}
