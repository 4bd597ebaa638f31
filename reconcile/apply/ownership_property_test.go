package apply

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/planner"
	"github.com/netrecon/netrecon/schema"
)

// TestOwnershipProperty runs random sequences of intent changes (add,
// change, remove a service) and hand edits on the device (create, change,
// delete interfaces and leaves) against a simulated device, applying after
// some of them, and checks after every apply:
//
//   - safety: every node a person created that the current intent does not
//     render is still there, and a person's leaf holds the value it had
//     before netrecon took it over (or the person's last edit since);
//   - convergence: the device holds the desired tree.
//
// The model of who created what is the test's own, kept from the device's
// configuration before and after each step, not from the journal.
//
// NETRECON_PROPERTY_RUNS sets the number of sequences (default 40) and
// NETRECON_PROPERTY_SEED the first seed, to replay a failure.
func TestOwnershipProperty(t *testing.T) {
	runs, seed := 40, uint64(1)
	if v, err := strconv.Atoi(os.Getenv("NETRECON_PROPERTY_RUNS")); err == nil && v > 0 {
		runs = v
	}
	if v, err := strconv.ParseUint(os.Getenv("NETRECON_PROPERTY_SEED"), 10, 64); err == nil {
		seed = v
	}
	env, dev := simOf(t, schema.PlatformIETF)
	for i := range runs {
		s := seed + uint64(i)
		if !t.Run(fmt.Sprintf("seed=%d", s), func(t *testing.T) {
			dev.SetRunning(configtree.New())
			propertyRun(t, env, dev.SetRunning, dev.Running, rand.New(rand.NewPCG(s, s)))
		}) {
			t.Fatalf("replay with NETRECON_PROPERTY_SEED=%d NETRECON_PROPERTY_RUNS=1", s)
		}
	}
}

const (
	propIfaces   = 4 // ge-0/0/0..3; services render 0..2, so 3 is a person's only
	propServices = 3 // service i renders interface i
	propSteps    = 14
)

var propValues = []string{"a", "b", "c"}

// creator says who created a node on the device.
type creator int

const (
	byPerson creator = iota + 1
	byNetrecon
)

type propModel struct {
	creator map[configtree.Path]creator
	// expect is, for a person's leaf, the value it must hold whenever no
	// service renders it: the person's last edit, or, once netrecon changed
	// it since, the value it had before netrecon's first change.
	expect map[configtree.Path]string
	// original holds, for a person's leaves netrecon changed while rendering
	// them, the value before netrecon's first change: what a removal
	// restores after netrecon healed a person's later edit.
	original map[configtree.Path]string
	// wasNetrecon marks nodes netrecon created that a person deleted since
	// the last apply: re-created before any read, they look untouched to
	// netrecon, and stay netrecon's.
	wasNetrecon map[configtree.Path]bool
}

func propertyRun(t *testing.T, env *simEnv, set func(*configtree.Tree), get func() *configtree.Tree, r *rand.Rand) {
	j := openJournal(t)
	m := &propModel{creator: map[configtree.Path]creator{}, expect: map[configtree.Path]string{},
		original: map[configtree.Path]string{}, wasNetrecon: map[configtree.Path]bool{}}
	intent := map[int]string{} // service → description
	var log []string
	desiredTree := func() *configtree.Tree {
		d := configtree.New()
		for i := range propServices {
			v, ok := intent[i]
			if !ok {
				continue
			}
			f := ifaceEntry(t, fmt.Sprintf("svc%d", i), i, "description", v)
			if err := configtree.Merge(d, f); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	for step := range propSteps {
		desired := desiredTree()
		op := r.IntN(8)
		k := r.IntN(propIfaces)
		v := propValues[r.IntN(len(propValues))]
		entry := ifPath(k)
		running := get()
		switch op {
		case 0: // a service comes or goes
			i := r.IntN(propServices)
			if _, ok := intent[i]; ok {
				delete(intent, i)
				log = append(log, fmt.Sprintf("remove svc%d", i))
			} else {
				intent[i] = v
				log = append(log, fmt.Sprintf("add svc%d=%s", i, v))
			}
		case 1: // a service's description changes
			i := r.IntN(propServices)
			if _, ok := intent[i]; ok {
				intent[i] = v
				log = append(log, fmt.Sprintf("change svc%d=%s", i, v))
			}
		case 2, 3, 4: // a person sets a leaf, creating the entry if need be
			leaf := []string{"description", "enabled", "mtu"}[op-2]
			if leaf == "enabled" {
				v = []string{"true", "false"}[r.IntN(2)]
			}
			if leaf == "mtu" {
				v = []string{"1500", "9000"}[r.IntN(2)]
			}
			next := running.Clone()
			if err := configtree.Merge(next, ifaceEntry(t, "", k)); err != nil {
				t.Fatal(err)
			}
			e := next.Find(entry)
			p := entry + configtree.Path("/"+leaf)
			if n := next.Find(p); n != nil {
				n.Value = v
			} else {
				e.Children = append(e.Children, &configtree.Node{Name: leaf, Space: ifNS, Leaf: true, Value: v})
			}
			m.person(running, next)
			set(next)
			log = append(log, fmt.Sprintf("person sets %s=%s", p, v))
		case 5: // a person deletes a leaf
			leaf := []string{"description", "enabled", "mtu"}[r.IntN(3)]
			next := running.Clone()
			if e := next.Find(entry); e != nil {
				e.Children = slicesDelete(e.Children, leaf)
			}
			m.person(running, next)
			set(next)
			log = append(log, fmt.Sprintf("person deletes %s/%s", entry, leaf))
		case 6: // a person deletes a whole interface
			next := running.Clone()
			if top := next.Find("/interfaces"); top != nil {
				top.Children = slicesDeleteEntry(top.Children, k)
			}
			m.person(running, next)
			set(next)
			log = append(log, fmt.Sprintf("person deletes %s", entry))
		case 7:
			m.apply(t, env, j, desired, get, &log)
			continue
		}
		if step == propSteps-1 {
			m.apply(t, env, j, desiredTree(), get, &log)
		}
	}
	// Finally the intent goes: a person's configuration is still there.
	clear(intent)
	m.apply(t, env, j, desiredTree(), get, &log)
}

// apply plans and applies desired, then checks the properties.
func (m *propModel) apply(t *testing.T, env *simEnv, jr *journal.Journal, desired *configtree.Tree, get func() *configtree.Tree, log *[]string) {
	t.Helper()
	*log = append(*log, "apply")
	before := get()
	want := map[string]*configtree.Tree{"pe1": desired}
	p, err := planner.Live(t.Context(), planner.LiveOptions{Intent: env.inv, Desired: want, Dialer: env.dialer, Journal: jr, Devices: []string{"pe1"}, Concurrency: 1})
	if err != nil || p.Devices[0].Err != nil {
		t.Fatalf("plan: %v %v\n%s", err, p.Devices[0].Err, strings.Join(*log, "\n"))
	}
	if _, err := Apply(t.Context(), p, want, env.inv, Options{Dialer: env.dialer, Journal: jr}); err != nil {
		t.Fatalf("apply: %v\nsteps:\n%s", err, strings.Join(*log, "\n"))
	}
	after := get()
	// Who created what: what the apply added is netrecon's; a person's
	// leaf it changed is taken over, with its value before as the one to
	// restore.
	nodes(after, func(p configtree.Path, n *configtree.Node) {
		old := before.Find(p)
		switch {
		case old == nil:
			m.creator[p] = byNetrecon
		case m.creator[p] == byPerson && n.Leaf && rendered(desired, p) && old.Value != n.Value:
			if _, ok := m.original[p]; !ok {
				m.original[p] = old.Value
			}
			m.expect[p] = m.original[p]
		}
	})
	for p := range m.original {
		if !rendered(desired, p) {
			delete(m.original, p)
		}
	}
	clear(m.wasNetrecon)
	var bad []string
	for p, c := range m.creator {
		if c != byPerson || rendered(desired, p) {
			continue
		}
		n := after.Find(p)
		switch {
		case n == nil:
			bad = append(bad, fmt.Sprintf("a person's %s was deleted", p))
		case n.Leaf && n.Value != m.expect[p]:
			bad = append(bad, fmt.Sprintf("a person's %s is %q, want %q", p, n.Value, m.expect[p]))
		}
	}
	// Diff from an unowned tree only creates and updates: what desired
	// lacks on the device.
	if missing := configtree.Diff(after, desired); len(missing) > 0 {
		bad = append(bad, fmt.Sprintf("not converged: %v", missing))
	}
	m.forgetGone(after)
	if len(bad) > 0 {
		t.Fatalf("%s\nsteps:\n%s\nplan:\n%s\nbefore:\n%s\nafter:\n%s", strings.Join(bad, "\n"), strings.Join(*log, "\n"), changeLines(p.Devices[0]), before, after)
	}
}

// person records a person's edit from the device's configuration before and
// after it.
func (m *propModel) person(before, after *configtree.Tree) {
	for p, c := range m.creator {
		if c == byNetrecon && after.Find(p) == nil {
			m.wasNetrecon[p] = true
		}
	}
	nodes(after, func(p configtree.Path, n *configtree.Node) {
		old := before.Find(p)
		if old == nil {
			m.creator[p] = byPerson
			if m.wasNetrecon[p] {
				m.creator[p] = byNetrecon
			}
			delete(m.original, p)
		}
		if n.Leaf && m.creator[p] == byPerson && (old == nil || old.Value != n.Value) {
			m.expect[p] = n.Value
		}
	})
	m.forgetGone(after)
}

func (m *propModel) forgetGone(t *configtree.Tree) {
	for p := range m.creator {
		if t.Find(p) == nil {
			delete(m.creator, p)
			delete(m.expect, p)
		}
	}
}

func rendered(desired *configtree.Tree, p configtree.Path) bool { return desired.Find(p) != nil }

// nodes calls fn for every node but key leaves.
func nodes(t *configtree.Tree, fn func(configtree.Path, *configtree.Node)) {
	t.Walk(func(p configtree.Path, n *configtree.Node) bool {
		if !strings.HasSuffix(string(p), "]/name") {
			fn(p, n)
		}
		return true
	})
}

func ifPath(k int) configtree.Path {
	return configtree.Path(fmt.Sprintf("/interfaces/interface[name=ge-0/0/%d]", k))
}

// ifaceEntry is interface k with its type, and leaf = value pairs, owned
// by owner ("" for a person's).
func ifaceEntry(t *testing.T, owner string, k int, kv ...string) *configtree.Tree {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `<interfaces xmlns=%q><interface><name>ge-0/0/%d</name><type xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type">ianaift:ethernetCsmacd</type>`, ifNS, k)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, "<%s>%s</%s>", kv[i], kv[i+1], kv[i])
	}
	b.WriteString(`</interface></interfaces>`)
	tree, err := configtree.Parse(strings.NewReader(b.String()), t.Name(), keys)
	if err != nil {
		t.Fatal(err)
	}
	tree.SetOwner(owner)
	return tree
}

func slicesDelete(children []*configtree.Node, name string) []*configtree.Node {
	out := children[:0]
	for _, c := range children {
		if c.Name != name {
			out = append(out, c)
		}
	}
	return out
}

func slicesDeleteEntry(children []*configtree.Node, k int) []*configtree.Node {
	want := fmt.Sprintf("interface[name=ge-0/0/%d]", k)
	out := children[:0]
	for _, c := range children {
		if c.PathStep() != want {
			out = append(out, c)
		}
	}
	return out
}
