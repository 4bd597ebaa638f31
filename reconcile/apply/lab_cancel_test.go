package apply

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/plan"
	"github.com/netrecon/netrecon/reconcile/planner"
)

// rawRunning reads dev's running configuration under filter on a session of
// its own, bypassing apply, as an operator's check would.
func (l *labEnv) rawRunning(t testing.TB, dev string, filter *configtree.Tree) *configtree.Tree {
	t.Helper()
	s, err := netconf.Dial(context.Background(), l.target[dev], l.opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	got, err := s.GetConfig(context.Background(), reconcile.Running, filter)
	if err != nil {
		t.Fatal(err)
	}
	return pruneEmpty(got)
}

// TestLabRollbackCancelQuirk is issue 10's second item on the real server:
// five lab devices, the last refusing its edit (an identity netconfd does not
// know), atomic apply. yuma123 answers <ok/> to a cancel-commit sent under the
// running lock and rolls nothing back (lab NOTES); afterwards EVERY device
// must run exactly its pre-image, read back on a session of its own, and the
// result and the journal must say rolled back.
func TestLabRollbackCancelQuirk(t *testing.T) {
	l := newLab(t, 5)
	var devs []string
	for _, d := range l.inv.Devices[:5] {
		devs = append(devs, d.Name)
	}
	bad := devs[4]
	j := openJournal(t)
	a, circuit := uniqueName("nrq"), uniqueName("nrq")
	old := map[string]*configtree.Tree{}
	for _, d := range devs {
		old[d] = ifaces(t, "svc-lab", a, "old "+d)
	}
	filter := configtree.Filter(ifaces(t, "", a, "", circuit, ""))
	cj := openJournal(t) // closed after the cleanup below: cleanups run last first
	t.Cleanup(func() {
		// The circuit is removed by hand if a rollback left it: the journal
		// never owned it.
		for _, d := range devs {
			if len(l.present(t, d, circuit)) > 0 {
				c := ifaces(t, "svc-lab", circuit, "x")
				del := &plan.Plan{Mode: plan.Live, Devices: []*plan.Device{plan.DiffDevice(d, "ietf", c, configtree.New(), plan.Live)}}
				if _, err := Apply(context.Background(), del, map[string]*configtree.Tree{d: c}, l.inv, Options{Dialer: l.dialer, Journal: cj}); err != nil {
					t.Errorf("cleanup %s: %v", d, err)
				}
			}
		}
		l.cleanup(t, j, devs)
	})
	p, err := planner.Live(t.Context(), planner.LiveOptions{Intent: l.inv, Desired: old, Dialer: l.dialer, Journal: j, Devices: devs, Concurrency: 5})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(t.Context(), p, old, l.inv, Options{Dialer: l.dialer, Journal: j}); err != nil {
		t.Fatal(err)
	}

	desired := map[string]*configtree.Tree{}
	for _, d := range devs {
		typ := "ianaift:ethernetCsmacd"
		if d == bad {
			typ = "ianaift:noSuchInterfaceType" // invalid-value at edit-config
		}
		desired[d] = parseIfaces(t, "svc-lab", a, "new "+d, "ianaift:ethernetCsmacd", circuit, "circuit", typ)
	}
	p, err = planner.Live(t.Context(), planner.LiveOptions{Intent: l.inv, Desired: desired, Dialer: l.dialer, Journal: j, Devices: devs, Concurrency: 5})
	if err != nil {
		t.Fatal(err)
	}
	before := map[string]*configtree.Tree{}
	for _, d := range devs {
		before[d] = l.rawRunning(t, d, filter)
		if before[d].Find(configtree.Path("/interfaces/interface[name="+a+"]")) == nil {
			t.Fatalf("%s: the first apply did not land: %s", d, before[d])
		}
	}
	res, err := Apply(t.Context(), p, desired, l.inv, Options{Dialer: l.dialer, Journal: j})
	if err == nil {
		t.Fatal("apply succeeded although one device refuses its edit")
	}
	t.Log(err)
	left := 0
	for _, d := range devs {
		if got := l.rawRunning(t, d, filter); !got.Equal(before[d]) {
			left++
			t.Errorf("%s: running is not its pre-image after the rollback:\n%v", d, configtree.Diff(before[d], got))
		}
	}
	run, jerr := j.Run(t.Context(), res.RunID)
	if jerr != nil {
		t.Fatal(jerr)
	}
	if left > 0 {
		// What must never happen: a run that says rolled back.
		if res.Outcome == journal.RolledBack || run.Outcome == journal.RolledBack {
			t.Errorf("%d devices left changed, yet the run says %s", left, res.Outcome)
		}
		return
	}
	if res.Outcome != journal.RolledBack || run.Outcome != journal.RolledBack {
		t.Errorf("outcome %s (journal %s)", res.Outcome, run.Outcome)
	}
	for _, d := range run.Devices {
		want := journal.Cancelled
		if d.Device == bad {
			want = journal.PhaseFailed
		}
		if d.Phase != want {
			t.Errorf("%s: journal phase %s, want %s", d.Device, d.Phase, want)
		}
	}
}

// parseIfaces is ifaces with each interface's type given: name, description,
// type, repeated.
func parseIfaces(t testing.TB, owner string, ntd ...string) *configtree.Tree {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `<interfaces xmlns=%q>`, ifNS)
	for i := 0; i+2 < len(ntd); i += 3 {
		fmt.Fprintf(&b, `<interface><name>%s</name><type xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type">%s</type><description>%s</description></interface>`, ntd[i], ntd[i+2], ntd[i+1])
	}
	b.WriteString(`</interfaces>`)
	tree, err := configtree.Parse(strings.NewReader(b.String()), t.Name(), keys)
	if err != nil {
		t.Fatal(err)
	}
	tree.SetOwner(owner)
	return tree
}
