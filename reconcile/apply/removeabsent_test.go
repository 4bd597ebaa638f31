package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/plan"
	"github.com/netrecon/netrecon/reconcile/planner"
	"github.com/netrecon/netrecon/schema"
)

// These tests hold every edit that removes to what the device holds when the
// edit is sent. yuma123 netconfd refuses the remove of a list entry that is
// absent when its parent is absent too (docs/quirks.md; netsim's
// RefuseRemoveOfEntryUnderAbsentParent), so an inverse computed from what a
// device should hold, rather than from running read under the lock, fails the
// whole undo and leaves the device half-applied.
//
// The scenario: interface x exists before the run (nobody's), with ipv4
// address 192.0.2.1. The run adds address 198.51.100.1 to x and creates
// interface y. Then x's whole ipv4 container vanishes (a device that drops
// part of a commit, or someone between a read and a lock). The inverse from
// the planned result removes the new address under the missing ipv4: refused.

const (
	ipNS      = "urn:ietf:params:xml:ns:yang:ietf-ip"
	preAddr   = "192.0.2.1"
	addedAddr = "198.51.100.1"
)

// ifaceAddrs is interface name with description desc and ipv4 addresses (/24).
func ifaceAddrs(t testing.TB, owner, name, desc string, addrs ...string) string {
	t.Helper()
	v4 := ""
	if len(addrs) > 0 {
		v4 = fmt.Sprintf(`<ipv4 xmlns=%q>`, ipNS)
		for _, a := range addrs {
			v4 += fmt.Sprintf(`<address><ip>%s</ip><prefix-length>24</prefix-length></address>`, a)
		}
		v4 += `</ipv4>`
	}
	return fmt.Sprintf(`<interface><name>%s</name><type xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type">ianaift:ethernetCsmacd</type><description>%s</description>%s</interface>`, name, desc, v4)
}

func ifTree(t testing.TB, owner string, entries ...string) *configtree.Tree {
	t.Helper()
	tree, err := configtree.Parse(strings.NewReader(fmt.Sprintf(`<interfaces xmlns=%q>%s</interfaces>`, ifNS, strings.Join(entries, ""))), t.Name(), keys)
	if err != nil {
		t.Fatal(err)
	}
	tree.SetOwner(owner)
	return tree
}

// removeScenario is the trees of the scenario, for interfaces x and y.
type removeScenario struct {
	x, y      string
	pre       *configtree.Tree // what the device holds before the run (unowned)
	desired   *configtree.Tree
	dropIPv4  []configtree.Change // x's ipv4 container, gone
	afterDrop *configtree.Tree    // running once the run landed and ipv4 went
}

func newRemoveScenario(t testing.TB) removeScenario {
	s := removeScenario{x: uniqueName("nrx"), y: uniqueName("nry")}
	s.pre = ifTree(t, "", ifaceAddrs(t, "", s.x, "pre", preAddr))
	s.desired = ifTree(t, "svc-a", ifaceAddrs(t, "", s.x, "pre", preAddr, addedAddr), ifaceAddrs(t, "", s.y, "new"))
	s.afterDrop = ifTree(t, "", ifaceAddrs(t, "", s.x, "pre"), ifaceAddrs(t, "", s.y, "new"))
	s.dropIPv4 = configtree.DiffAll(ifTree(t, "", ifaceAddrs(t, "", s.x, "pre", preAddr)), ifTree(t, "", ifaceAddrs(t, "", s.x, "pre")))
	if len(s.dropIPv4) != 1 || !strings.HasSuffix(string(s.dropIPv4[0].Path), "/ipv4") {
		t.Fatalf("drop changes %v, want the ipv4 container", s.dropIPv4)
	}
	return s
}

// commitOn commits changes plainly on s under the candidate lock.
func commitOn(ctx context.Context, s reconcile.Device, changes []configtree.Change) error {
	if err := lockWithin(ctx, s, reconcile.Candidate, DefaultLockWait); err != nil {
		return err
	}
	defer s.Unlock(context.WithoutCancel(ctx), reconcile.Candidate)
	if err := s.EditConfig(ctx, reconcile.Candidate, changes); err != nil {
		_ = s.Discard(context.WithoutCancel(ctx))
		return err
	}
	return s.Commit(ctx, reconcile.CommitOptions{})
}

// commitVia dials dev and commits changes.
func commitVia(t testing.TB, dialer reconcile.Dialer, dev *schema.Device, changes []configtree.Change) {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	s, err := dialer.Dial(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	if err := commitOn(ctx, s, changes); err != nil {
		t.Fatalf("%s: %v", dev.Name, err)
	}
}

// losesAtCommit is a device without :confirmed-commit whose first commit
// lands and then loses part of itself (changes, committed on the same
// session): verify sees the loss, and the undo must start from what is left.
type losesAtCommit struct {
	noConfirm
	lose  []configtree.Change
	fired *atomic.Bool
}

func (d losesAtCommit) Commit(ctx context.Context, o reconcile.CommitOptions) error {
	if err := d.noConfirm.Commit(ctx, o); err != nil || d.fired.Swap(true) {
		return err
	}
	if err := d.EditConfig(ctx, reconcile.Candidate, d.lose); err != nil {
		return fmt.Errorf("test fault: %w", err)
	}
	return d.noConfirm.Commit(ctx, reconcile.CommitOptions{})
}

// rollbackUndoCase is (b): the plain-commit rollback of a run part of whose
// creation is gone undoes from running, and the device ends on its pre-image.
func rollbackUndoCase(t *testing.T, inv *schema.Intent, dialer reconcile.Dialer, dev string) {
	s := newRemoveScenario(t)
	d := inv.Device(dev)
	commitVia(t, dialer, d, configtree.Diff(configtree.New(), s.pre))
	t.Cleanup(func() { removeIfaces(t, dialer, d, s.x, s.y) })
	j := openJournal(t)
	desired := map[string]*configtree.Tree{dev: s.desired}
	p, err := planner.Live(t.Context(), planner.LiveOptions{Intent: inv, Desired: desired, Dialer: dialer, Journal: j, Devices: []string{dev}})
	if err != nil {
		t.Fatal(err)
	}
	fired := &atomic.Bool{}
	lossy := reconcile.DialFunc(func(ctx context.Context, dv *schema.Device) (reconcile.Device, error) {
		sess, err := dialer.Dial(ctx, dv)
		if err != nil {
			return nil, err
		}
		return losesAtCommit{noConfirm{sess}, s.dropIPv4, fired}, nil
	})
	res, err := Apply(t.Context(), p, desired, inv, Options{Dialer: lossy, Journal: j})
	if !fired.Load() {
		t.Fatalf("the commit never lost its part (err %v); the test proves nothing", err)
	}
	var ve *VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want the *VerifyError of the lost part", err)
	}
	// The device failed on its own (verify), so its last phase is failed;
	// mixed would say the undo did not bring it back.
	if res.Outcome != journal.RolledBack || res.Devices[0].Phase != string(journal.PhaseFailed) {
		t.Errorf("outcome %s, phase %s, want rolled back, failed; err %v", res.Outcome, res.Devices[0].Phase, err)
	}
	got := readIfaces(t, dialer, d, s.x, s.y)
	if !pruneEmpty(got).Equal(pruneEmpty(s.pre)) {
		t.Errorf("running after the rollback:\n%s\nwant the pre-image\n%s", got, s.pre)
	}
}

// readIfaces reads interfaces names of running.
func readIfaces(t testing.TB, dialer reconcile.Dialer, dev *schema.Device, names ...string) *configtree.Tree {
	t.Helper()
	var entries []string
	for _, n := range names {
		entries = append(entries, "<interface><name>"+n+"</name></interface>")
	}
	got, err := readRunning(context.WithoutCancel(t.Context()), dialer, dev, configtree.Filter(ifTree(t, "", entries...)))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// removeIfaces removes the named interfaces that running holds.
func removeIfaces(t testing.TB, dialer reconcile.Dialer, dev *schema.Device, names ...string) {
	t.Helper()
	now := readIfaces(t, dialer, dev, names...)
	if changes := configtree.DiffAll(now, configtree.New()); len(changes) > 0 {
		commitVia(t, dialer, dev, changes)
	}
}

// TestRollbackUndoFromRunning is (b) on netsim with yuma123's remove quirk.
func TestRollbackUndoFromRunning(t *testing.T) {
	env := newSim(t, 1)
	env.sim.Device("pe001").RefuseRemoveOfEntryUnderAbsentParent(true)
	rollbackUndoCase(t, env.inv, env.dialer, "pe001")
}

// losesBeforeLock is a session on which part of running vanishes just before
// its first candidate lock: someone else's commit between the caller's read
// and its lock (committed here on the same session, which holds no lock yet).
type losesBeforeLock struct {
	reconcile.Device
	lose  []configtree.Change
	fired *atomic.Bool
}

func (d losesBeforeLock) Lock(ctx context.Context, target string) error {
	if target == reconcile.Candidate && !d.fired.Swap(true) {
		if err := d.EditConfig(ctx, reconcile.Candidate, d.lose); err != nil {
			return fmt.Errorf("test fault: %w", err)
		}
		if err := d.Commit(ctx, reconcile.CommitOptions{}); err != nil {
			return fmt.Errorf("test fault: %w", err)
		}
	}
	return d.Device.Lock(ctx, target)
}

// recoverUndoCase is (c): a crash at the second device's commit, after the
// first committed plainly; recovery reads the first (neither side), and
// before its lock part of the run vanishes from it. The undo from running
// under the lock brings it back to its pre-image; one from the earlier read
// is refused (yuma123's remove quirk) and leaves it mixed. env is nil on the
// lab.
func recoverUndoCase(t *testing.T, env *simEnv, inv *schema.Intent, dialer reconcile.Dialer, first, second string) {
	cr := newCrashAt(t, env, second, string(journal.Committed))
	j := cr.j
	s := newRemoveScenario(t)
	devs := []string{first, second}
	desired := map[string]*configtree.Tree{}
	for _, n := range devs {
		d := inv.Device(n)
		commitVia(t, dialer, d, configtree.Diff(configtree.New(), s.pre))
		t.Cleanup(func() { removeIfaces(t, dialer, d, s.x, s.y) })
		desired[n] = s.desired
	}
	plain := reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
		d, err := dialer.Dial(ctx, dev)
		if err != nil {
			return nil, err
		}
		return noConfirm{d}, nil
	})
	p, err := planner.Live(t.Context(), planner.LiveOptions{Intent: inv, Desired: desired, Dialer: dialer, Journal: j, Devices: devs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(t.Context(), p, desired, inv, Options{Dialer: cr.dialer(plain), Journal: j, Reporter: cr, Concurrency: 1}); !cr.stopped(err) {
		t.Fatalf("apply: %v", err)
	}
	j = cr.reopen(t)
	if got := readIfaces(t, dialer, inv.Device(first), s.x, s.y); !pruneEmpty(got).Equal(pruneEmpty(s.desired)) {
		t.Fatalf("%s was not committed before the crash; the test proves nothing:\n%s", first, got)
	}
	fired := &atomic.Bool{}
	outrun := reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
		d, err := dialer.Dial(ctx, dev)
		if err != nil || dev.Name != first {
			return d, err
		}
		return losesBeforeLock{d, s.dropIPv4, fired}, nil
	})
	acts, err := Recover(t.Context(), j, outrun, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !fired.Load() {
		t.Fatal("nothing vanished before recovery's lock; the test proves nothing")
	}
	for _, a := range acts {
		t.Logf("%s: %s %v", a.Device, a.Action, a.Err)
		if a.Action != RecoveryUndone || a.Err != nil {
			t.Errorf("%s: %s %v, want undone", a.Device, a.Action, a.Err)
		}
	}
	for _, n := range devs {
		if got := readIfaces(t, dialer, inv.Device(n), s.x, s.y); !pruneEmpty(got).Equal(pruneEmpty(s.pre)) {
			t.Errorf("%s: running after recovery\n%s\nwant the pre-image\n%s", n, got, s.pre)
		}
	}
}

// TestRecoverUndoFromRunning is recoverUndoCase on netsim with the remove
// quirk (on from Start).
func TestRecoverUndoFromRunning(t *testing.T) {
	env := newSim(t, 2)
	recoverUndoCase(t, env, env.inv, env.dialer, "pe001", "pe002")
}

// countEdits counts the edit-configs sent through a session.
type countEdits struct {
	reconcile.Device
	n *atomic.Int64
}

func (c countEdits) EditConfig(ctx context.Context, target string, changes []configtree.Change) error {
	c.n.Add(1)
	return c.Device.EditConfig(ctx, target, changes)
}

// removalOutrunCase is (a) and (d): a plan that removes what netrecon
// created (the address on x, interface y), and before the apply's lock that
// part is gone already (someone removed x's ipv4 and y; or a retry of a
// removal that landed). Apply's own edit never sends a remove of an absent
// node: prepare applies the plan to running read under the lock and refuses
// a plan that does not fit (*StalePlanError, no edit-config sent), and the
// daemon re-plans at once (DESIGN invariant 2). The new plan applies and
// verifies.
func removalOutrunCase(t *testing.T, inv *schema.Intent, dialer reconcile.Dialer, dev string) {
	d := inv.Device(dev)
	j := openJournal(t)
	s := newRemoveScenario(t)
	commitVia(t, dialer, d, configtree.Diff(configtree.New(), s.pre))
	t.Cleanup(func() { removeIfaces(t, dialer, d, s.x, s.y) })
	replan := func(desired map[string]*configtree.Tree) *plan.Plan {
		p, err := planner.Live(t.Context(), planner.LiveOptions{Intent: inv, Desired: desired, Dialer: dialer, Journal: j, Devices: []string{dev}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	created := map[string]*configtree.Tree{dev: s.desired}
	if _, err := Apply(t.Context(), replan(created), created, inv, Options{Dialer: dialer, Journal: j}); err != nil {
		t.Fatal(err)
	}
	removal := map[string]*configtree.Tree{dev: configtree.New()}
	p := replan(removal)
	if n := len(p.Devices[0].Changes); n == 0 {
		t.Fatal("the removal plan is empty; the test proves nothing")
	}
	// Someone removes x's ipv4 container (the address netrecon created and
	// the one that was there before) and interface y.
	kept := ifTree(t, "", ifaceAddrs(t, "", s.x, "pre"))
	commitVia(t, dialer, d, configtree.DiffAll(readIfaces(t, dialer, d, s.x, s.y), kept))
	edits := &atomic.Int64{}
	counted := reconcile.DialFunc(func(ctx context.Context, dv *schema.Device) (reconcile.Device, error) {
		sess, err := dialer.Dial(ctx, dv)
		if err != nil {
			return nil, err
		}
		return countEdits{sess, edits}, nil
	})
	for attempt := range 2 {
		_, err := Apply(t.Context(), p, removal, inv, Options{Dialer: counted, Journal: j})
		var stale *StalePlanError
		if !errors.As(err, &stale) {
			t.Fatalf("attempt %d: err = %v, want *StalePlanError", attempt+1, err)
		}
	}
	if n := edits.Load(); n != 0 {
		t.Errorf("%d edit-configs sent for a stale plan", n)
	}
	if _, err := Apply(t.Context(), replan(removal), removal, inv, Options{Dialer: dialer, Journal: j}); err != nil {
		t.Fatalf("the re-planned removal: %v", err)
	}
	if got := readIfaces(t, dialer, d, s.x, s.y); !pruneEmpty(got).Equal(pruneEmpty(kept)) {
		t.Errorf("running after the removal:\n%s\nwant\n%s", got, kept)
	}
}

// TestApplyRemovalOutrun is removalOutrunCase on netsim with the remove quirk.
func TestApplyRemovalOutrun(t *testing.T) {
	env := newSim(t, 1)
	env.sim.Device("pe001").RefuseRemoveOfEntryUnderAbsentParent(true)
	removalOutrunCase(t, env.inv, env.dialer, "pe001")
}
