package planner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/drivers/netsim"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/ownership"
	"github.com/netrecon/netrecon/reconcile/plan"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
)

const ifNS = "urn:ietf:params:xml:ns:yang:ietf-interfaces"

var ietfKeys = render.Keys("ietf", nil)

// verifiedEnv is one netsim device read over real NETCONF sessions, a
// journal, and a count of the replies the planner left unparsed (known).
type verifiedEnv struct {
	sim     *netsim.Sim
	dev     *netsim.Device
	in      *schema.Intent
	journal *journal.Journal
	dialer  reconcile.Dialer
	known   atomic.Int64 // replies answered as known, unparsed
	parsed  atomic.Int64 // replies parsed
	digests bool         // the sessions offer DigestReader
}

func newVerifiedEnv(t *testing.T, digests bool) *verifiedEnv {
	t.Helper()
	const password = "planner-test"
	sim, err := netsim.Start(context.Background(), netsim.Options{
		Devices: []netsim.DeviceSpec{{Name: "pe1", Platform: "ietf"}}, Username: "netrecon", Password: password,
		Keys: func(string) configtree.Keys { return ietfKeys },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, sim.KnownHosts(), 0o600); err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(t.Context(), filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	d := sim.Devices()[0]
	e := &verifiedEnv{sim: sim, dev: d, journal: j, digests: digests,
		in: &schema.Intent{Devices: []*schema.Device{{Name: d.Name, Platform: d.Platform, Address: d.Address, Port: d.Port}}}}
	target := netconf.Target{Device: d.Name, Address: d.Address, Port: d.Port, Username: "netrecon", Auth: netconf.PasswordAuth(password), KnownHosts: kh}
	e.dialer = reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
		s, err := netconf.Dial(ctx, target, netconf.WithKeys(ietfKeys), netconf.WithRPCTimeout(10*time.Second))
		if err != nil {
			return nil, err
		}
		if !e.digests {
			return plainSession{s}, nil
		}
		return &countingSession{Session: s, env: e}, nil
	})
	return e
}

// countingSession is a real session that counts the replies it parsed and
// those it answered as known.
type countingSession struct {
	*netconf.Session
	env *verifiedEnv
}

func (s *countingSession) GetConfigDigest(ctx context.Context, source string, filter *configtree.Tree, known reconcile.Digest) (*configtree.Tree, reconcile.Digest, error) {
	t, sum, err := s.Session.GetConfigDigest(ctx, source, filter, known)
	if err == nil && t == nil {
		s.env.known.Add(1)
	} else if err == nil {
		s.env.parsed.Add(1)
	}
	return t, sum, err
}

// plainSession hides the session's DigestReader: a driver without digests.
type plainSession struct{ reconcile.Device }

// plan plans the device live with v under rev.
func (e *verifiedEnv) plan(t *testing.T, desired *configtree.Tree, v *Verified, rev string) *plan.Device {
	t.Helper()
	p, err := Live(t.Context(), LiveOptions{Intent: e.in, Desired: map[string]*configtree.Tree{"pe1": desired}, Dialer: e.dialer,
		Journal: e.journal, Verified: v, Rev: rev})
	if err != nil {
		t.Fatal(err)
	}
	d := p.Device("pe1")
	if d.Err != nil {
		t.Fatal(d.Err)
	}
	return d
}

// counts returns the replies known and parsed since the last call.
func (e *verifiedEnv) counts() (known, parsed int64) {
	return e.known.Swap(0), e.parsed.Swap(0)
}

// interfaces is a desired (or running) tree of interfaces name → description.
func interfaces(t *testing.T, owner string, kv ...string) *configtree.Tree {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `<interfaces xmlns=%q>`, ifNS)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, `<interface><name>%s</name><description>%s</description></interface>`, kv[i], kv[i+1])
	}
	b.WriteString(`</interfaces>`)
	tree, err := configtree.Parse(strings.NewReader(b.String()), t.Name(), ietfKeys)
	if err != nil {
		t.Fatal(err)
	}
	if owner != "" {
		tree.SetOwner(owner)
	}
	return tree
}

// inSyncAndVerified seeds the device with desired, records it as netrecon's
// and plans twice: the first plan is computed in full and verified, the
// second must be answered from the verified plan.
func (e *verifiedEnv) inSyncAndVerified(t *testing.T, desired *configtree.Tree, v *Verified) {
	t.Helper()
	e.dev.SetRunning(desired.Clone())
	rec := ownership.Record{}.Next(configtree.New(), desired)
	if err := e.journal.SetOwnership(t.Context(), "pe1", rec, "c1"); err != nil {
		t.Fatal(err)
	}
	if d := e.plan(t, desired, v, "c1"); len(d.Changes) != 0 {
		t.Fatalf("seeded device not in sync: %+v", d.Changes)
	}
	if known, parsed := e.counts(); known != 0 || parsed != 1 {
		t.Fatalf("first plan: %d known, %d parsed replies; want 0 and 1", known, parsed)
	}
	if d := e.plan(t, desired, v, "c1"); len(d.Changes) != 0 {
		t.Fatalf("second plan: %+v", d.Changes)
	}
	if known, parsed := e.counts(); known != 1 || parsed != 0 {
		t.Fatalf("second plan: %d known, %d parsed replies; want the verified plan (1 known, 0 parsed)", known, parsed)
	}
}

// One leaf changed on the device between two plans with everything else the
// same (revision, desired tree, record) is drift in the very next plan.
func TestVerifiedPlanSeesOneLeafChanged(t *testing.T) {
	e := newVerifiedEnv(t, true)
	desired := interfaces(t, "svc", "ge-0/0/1", "cust-a", "ge-0/0/2", "cust-b")
	var v Verified
	e.inSyncAndVerified(t, desired, &v)

	e.dev.SetRunning(interfaces(t, "", "ge-0/0/1", "cust-a", "ge-0/0/2", "cust-B"))
	d := e.plan(t, desired, &v, "c1")
	if len(d.Changes) != 1 || d.Changes[0].Action != configtree.Update || !strings.Contains(string(d.Changes[0].Path), "ge-0/0/2") {
		t.Fatalf("one leaf changed on the device: planned %+v, want one update of ge-0/0/2's description", d.Changes)
	}
	if known, parsed := e.counts(); known != 0 || parsed != 1 {
		t.Errorf("changed reply: %d known, %d parsed; want it parsed", known, parsed)
	}
	if v.Len() != 0 {
		t.Error("a device with changes is still verified in sync")
	}
	// Put back, it is in sync again and verified afresh.
	e.dev.SetRunning(desired.Clone())
	if d := e.plan(t, desired, &v, "c1"); len(d.Changes) != 0 {
		t.Fatalf("restored: %+v", d.Changes)
	}
	if v.Len() != 1 {
		t.Error("restored device not verified again")
	}
}

// A node added under a managed list entry (foreign child, selected by the
// entry's filter) changes the reply, so it is read, parsed and planned.
func TestVerifiedPlanSeesAnAddedNode(t *testing.T) {
	e := newVerifiedEnv(t, true)
	desired := interfaces(t, "svc", "ge-0/0/1", "cust-a")
	var v Verified
	e.inSyncAndVerified(t, desired, &v)

	live, err := configtree.Parse(strings.NewReader(fmt.Sprintf(`<interfaces xmlns=%q><interface><name>ge-0/0/1</name><description>cust-a</description><enabled>false</enabled></interface></interfaces>`, ifNS)), t.Name(), ietfKeys)
	if err != nil {
		t.Fatal(err)
	}
	e.dev.SetRunning(live)
	e.plan(t, desired, &v, "c1")
	if known, parsed := e.counts(); known != 0 || parsed != 1 {
		t.Errorf("reply with a node added: %d known, %d parsed; want it parsed", known, parsed)
	}
}

// The ownership record changed in the journal (same device, same reply,
// same desired tree): the device is planned again from the new record.
func TestVerifiedPlanReplansWhenOwnershipChanges(t *testing.T) {
	e := newVerifiedEnv(t, true)
	desired := interfaces(t, "svc", "ge-0/0/1", "cust-a", "ge-0/0/2", "cust-b")
	var v Verified
	e.inSyncAndVerified(t, desired, &v)

	// The record now says netrecon created ge-0/0/3 too, which is still on
	// the device but no longer rendered: a plan from the new record deletes it.
	e.dev.SetRunning(interfaces(t, "", "ge-0/0/1", "cust-a", "ge-0/0/2", "cust-b", "ge-0/0/3", "old"))
	more := interfaces(t, "svc", "ge-0/0/1", "cust-a", "ge-0/0/2", "cust-b", "ge-0/0/3", "old")
	if err := e.journal.SetOwnership(t.Context(), "pe1", ownership.Record{}.Next(configtree.New(), more), "c1"); err != nil {
		t.Fatal(err)
	}
	d := e.plan(t, desired, &v, "c1")
	if len(d.Changes) != 1 || d.Changes[0].Action != configtree.Delete {
		t.Fatalf("record changed: planned %+v, want the delete of ge-0/0/3 that the new record allows", d.Changes)
	}
	if known, _ := e.counts(); known != 0 {
		t.Error("a plan under a changed record used the verified plan")
	}
}

// The same reply under a record rewritten with the same content (another
// commit) is still the verified plan: the digest is of the record, not the row.
func TestVerifiedPlanSurvivesTheSameRecordRewritten(t *testing.T) {
	e := newVerifiedEnv(t, true)
	desired := interfaces(t, "svc", "ge-0/0/1", "cust-a")
	var v Verified
	e.inSyncAndVerified(t, desired, &v)
	if err := e.journal.SetOwnership(t.Context(), "pe1", ownership.Record{}.Next(configtree.New(), desired), "c2"); err != nil {
		t.Fatal(err)
	}
	e.plan(t, desired, &v, "c1")
	if known, parsed := e.counts(); known != 1 || parsed != 0 {
		t.Errorf("same record rewritten: %d known, %d parsed; want the verified plan", known, parsed)
	}
}

// Another desired tree (even with the same content) or another revision
// plans in full: the verified plan is only for what it was computed from.
func TestVerifiedPlanIsOnlyForItsRevisionAndDesiredTree(t *testing.T) {
	e := newVerifiedEnv(t, true)
	desired := interfaces(t, "svc", "ge-0/0/1", "cust-a")
	var v Verified
	e.inSyncAndVerified(t, desired, &v)

	changed := interfaces(t, "svc", "ge-0/0/1", "cust-A")
	d := e.plan(t, changed, &v, "c1")
	if len(d.Changes) != 1 {
		t.Fatalf("desired changed: planned %+v, want one update", d.Changes)
	}
	if known, _ := e.counts(); known != 0 {
		t.Error("a new desired tree used the verified plan")
	}
	e.plan(t, desired, &v, "c1") // verified again under desired
	e.counts()
	e.plan(t, desired, &v, "c2")
	if known, parsed := e.counts(); known != 0 || parsed != 1 {
		t.Errorf("another revision: %d known, %d parsed; want it planned in full", known, parsed)
	}
	e.plan(t, desired, &v, "")
	e.plan(t, desired, &v, "")
	if known, _ := e.counts(); known != 0 {
		t.Error("a plan without a revision used the verified plan")
	}
}

// A session without digests is planned in full every time, and nothing is
// verified.
func TestVerifiedNeedsDigests(t *testing.T) {
	e := newVerifiedEnv(t, false)
	desired := interfaces(t, "svc", "ge-0/0/1", "cust-a")
	e.dev.SetRunning(desired.Clone())
	var v Verified
	for range 2 {
		if d := e.plan(t, desired, &v, "c1"); len(d.Changes) != 0 {
			t.Fatalf("%+v", d.Changes)
		}
	}
	if v.Len() != 0 {
		t.Error("a plan without a reply digest was verified")
	}
	e.dev.SetRunning(interfaces(t, "", "ge-0/0/1", "cust-b"))
	if d := e.plan(t, desired, &v, "c1"); len(d.Changes) != 1 {
		t.Fatalf("drift on a session without digests: %+v", d.Changes)
	}
}

// The verified plan handed out is a copy: changing it changes no later plan.
func TestVerifiedPlanIsACopy(t *testing.T) {
	e := newVerifiedEnv(t, true)
	desired := interfaces(t, "svc", "ge-0/0/1", "cust-a")
	var v Verified
	e.inSyncAndVerified(t, desired, &v)
	d := e.plan(t, desired, &v, "c1")
	d.Changes = append(d.Changes, plan.Change{Reason: "scribbled"})
	d.Kept = append(d.Kept, configtree.Held{})
	if d := e.plan(t, desired, &v, "c1"); len(d.Changes) != 0 || len(d.Kept) != 0 {
		t.Errorf("a caller's change reached the verified plan: %+v", d)
	}
}
