package journal

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/ownership"
)

var testKeys = configtree.Keys{
	"/interfaces/interface":      {"name"},
	"/system/dns/server":         {configtree.LeafListKey},
	"/interfaces/interface/type": {configtree.IdentityLeaf},
}

// desiredTree builds pe1's desired tree as render does: each service's
// fragment owned by the service, merged.
func desiredTree(t testing.TB) *configtree.Tree {
	t.Helper()
	tree := configtree.New()
	for _, svc := range []string{"acme", "globex"} {
		f, err := os.Open(filepath.Join("testdata", "applied", svc+".xml"))
		if err != nil {
			t.Fatal(err)
		}
		frag, err := configtree.Parse(f, f.Name(), testKeys)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		frag.SetOwner(svc)
		if err := configtree.Merge(tree, frag); err != nil {
			t.Fatal(err)
		}
	}
	return tree
}

func TestAppliedRoundTrip(t *testing.T) { eachBackend(t, testAppliedRoundTrip) }

func testAppliedRoundTrip(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t)
	want := desiredTree(t)

	// The fixture has what must survive: shared owners, keys, an identity
	// with its value space, a leaf-list, an empty leaf.
	checks := []struct {
		path  configtree.Path
		check func(*configtree.Node) bool
	}{
		{"/system/dns/server[.=192.0.2.53]", func(n *configtree.Node) bool {
			return cmp.Equal(n.Owners, []string{"acme", "globex"}) && n.Leaf
		}},
		{"/interfaces/interface[name=ge-0/0/1.100]", func(n *configtree.Node) bool { return cmp.Equal(n.Keys, []string{"name"}) }},
		{"/interfaces/interface[name=ge-0/0/1.100]/type", func(n *configtree.Node) bool {
			return n.ValueSpace == "urn:ietf:params:xml:ns:yang:iana-if-type" && n.Value == "l2vlan"
		}},
		{"/system/vlan-tagging", func(n *configtree.Node) bool { return n.Leaf && n.Value == "" }},
	}
	for _, c := range checks {
		if n := want.Find(c.path); n == nil || !c.check(n) {
			t.Fatalf("fixture: %s missing or not as the test expects: %+v", c.path, n)
		}
	}

	if err := setApplied(ctx, j, "pe1", want, "c0ffee"); err != nil {
		t.Fatal(err)
	}
	got, commit, err := applied(ctx, j, "pe1")
	if err != nil {
		t.Fatal(err)
	}
	if commit != "c0ffee" {
		t.Errorf("commit %q, want c0ffee", commit)
	}
	if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("Applied (-want +got):\n%s", d)
	}
	if !want.Equal(got) || want.Fingerprint() != got.Fingerprint() {
		t.Error("round trip changed the configuration")
	}
	for _, c := range checks {
		if n := got.Find(c.path); n == nil || !c.check(n) {
			t.Errorf("after the round trip: %s lost: %+v", c.path, n)
		}
	}
	// Owners drive deletion: a service gone from the intent must be
	// deletable from the applied tree alone.
	if d := configtree.Diff(got, configtree.New()); len(d) == 0 {
		t.Error("Diff from the applied tree to nothing deletes nothing: owners lost")
	}
}

func TestAppliedReplaceAndForget(t *testing.T) { eachBackend(t, testAppliedReplaceAndForget) }

func testAppliedReplaceAndForget(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t)
	if tree, commit, err := applied(ctx, j, "pe1"); tree != nil || commit != "" || err != nil {
		t.Fatalf("Applied with nothing recorded: %v, %q, %v", tree, commit, err)
	}
	if err := setApplied(ctx, j, "pe1", desiredTree(t), "one"); err != nil {
		t.Fatal(err)
	}
	small, err := configtree.Parse(strings.NewReader(`<system xmlns="urn:example:system"><hostname>pe1</hostname></system>`), "small", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := setApplied(ctx, j, "pe1", small, "two"); err != nil {
		t.Fatal(err)
	}
	if err := setApplied(ctx, j, "pe2", configtree.New(), "two"); err != nil {
		t.Fatal(err)
	}
	got, commit, err := applied(ctx, j, "pe1")
	if err != nil || commit != "two" || !got.Equal(small) {
		t.Errorf("Applied after replace: %v, %q, %v", got, commit, err)
	}
	// An empty tree is recorded (netrecon owns nothing, but it applied).
	if got, commit, err := applied(ctx, j, "pe2"); err != nil || commit != "two" || got == nil || got.Len() != 0 {
		t.Errorf("Applied empty tree: %v, %q, %v", got, commit, err)
	}
	// A nil tree forgets the device.
	if err := setApplied(ctx, j, "pe1", nil, ""); err != nil {
		t.Fatal(err)
	}
	if tree, commit, err := applied(ctx, j, "pe1"); tree != nil || commit != "" || err != nil {
		t.Errorf("Applied after forgetting: %v, %q, %v", tree, commit, err)
	}
}

func TestAppliedCorrupt(t *testing.T) { eachBackend(t, testAppliedCorrupt) }

func testAppliedCorrupt(t *testing.T, be backend) {
	ctx := context.Background()
	j, path := be.open(t)
	db := rawDB(t, path)
	tests := []struct{ device, doc, message string }{
		{"bad-json", `{"format":1,"root":`, "stored tree"},
		{"future", `{"format":7,"root":{}}`, "format 7"},
	}
	for _, tt := range tests {
		if _, err := db.Exec(rawQ(path, `INSERT INTO applied (device, tree, intent_commit, updated_at) VALUES (?, ?, '', 0)`), tt.device, tt.doc); err != nil {
			t.Fatal(err)
		}
		_, _, err := applied(ctx, j, tt.device)
		if err == nil || !strings.Contains(err.Error(), tt.message) || !strings.Contains(err.Error(), tt.device) {
			t.Errorf("Applied(%s): %v, want an error naming the device and %q", tt.device, err, tt.message)
		}
	}
}

func TestState(t *testing.T) { eachBackend(t, testState) }

func testState(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t)
	steps := []struct{ set, want string }{
		{"", ""},
		{"abc123", "abc123"},
		{"def456", "def456"},
	}
	for _, s := range steps {
		if s.set != "" {
			if err := j.SetState(ctx, "last-applied-commit", s.set); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := j.State(ctx, "last-applied-commit"); err != nil || got != s.want {
			t.Errorf("State = %q, %v; want %q", got, err, s.want)
		}
	}
	if got, err := j.State(ctx, "other"); err != nil || got != "" {
		t.Errorf("State(other) = %q, %v", got, err)
	}
}

// TestAppliedInheritance covers what the stored form leaves out when equal to
// the parent's: namespaces and owners, changed, removed and restored on the
// way down.
func TestAppliedInheritance(t *testing.T) { eachBackend(t, testAppliedInheritance) }

func testAppliedInheritance(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t)
	leaf := func(name, space, value string, owners ...string) *configtree.Node {
		return &configtree.Node{Name: name, Space: space, Leaf: true, Value: value, Owners: owners}
	}
	tests := []struct {
		name string
		root *configtree.Node
	}{
		{"empty", &configtree.Node{}},
		{"namespace and owners change", &configtree.Node{Children: []*configtree.Node{{
			Name: "a", Space: "urn:x", Owners: []string{"s1"},
			Children: []*configtree.Node{
				{Name: "b", Space: "", Children: []*configtree.Node{ // no owners, no namespace
					leaf("c", "urn:x", "1", "s1", "s2"),
					leaf("d", "", "2"),
				}},
				leaf("e", "urn:y", "3", "s1"),
				{Name: "entry", Space: "urn:x", Keys: []string{"k"}, Owners: []string{"s2"},
					Children: []*configtree.Node{leaf("k", "urn:x", "key 1", "s2")}},
			},
		}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := &configtree.Tree{Root: tt.root}
			if err := setApplied(ctx, j, "pe1", want, "c"); err != nil {
				t.Fatal(err)
			}
			got, _, err := applied(ctx, j, "pe1")
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("round trip (-want +got):\n%s", d)
			}
			// Inherited owners are copies: changing one node's leaves the
			// others alone.
			var owned []*configtree.Node
			got.Walk(func(_ configtree.Path, n *configtree.Node) bool {
				if len(n.Owners) > 0 {
					owned = append(owned, n)
				}
				return true
			})
			if len(owned) > 1 {
				owned[0].Owners[0] = "changed"
				for _, n := range owned[1:] {
					if slices.Contains(n.Owners, "changed") {
						t.Errorf("%s shares its owners slice with %s", n.Name, owned[0].Name)
					}
				}
			}
		})
	}
}

// setApplied records t as all netrecon created on device (nil: forget it),
// and applied reads that tree back: the tree tests need no more of a record.
func setApplied(ctx context.Context, j *Journal, device string, t *configtree.Tree, commit string) error {
	if t == nil {
		return j.SetOwnership(ctx, device, ownership.Record{}, commit)
	}
	return j.SetOwnership(ctx, device, ownership.Record{Created: t, Desired: t.Fingerprint()}, commit)
}

func applied(ctx context.Context, j *Journal, device string) (*configtree.Tree, string, error) {
	r, commit, err := j.Ownership(ctx, device)
	if err != nil || r.IsZero() {
		return nil, commit, err
	}
	return r.Created, commit, nil
}
