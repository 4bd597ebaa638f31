package peer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/lab/labtest"
	"github.com/netrecon/netrecon/render"
)

// The three tools must make the same change: what netrecon renders from the
// intent Prepare writes, and the XML Ansible sends, are the bare loop's tree.
func TestPrepareIsOneChange(t *testing.T) {
	dir := t.TempDir()
	l := Lab{Devices: []Device{{"pe1", "127.0.0.1", 1830}, {"pe2", "127.0.0.1", 1831}, {"pe3", "127.0.0.1", 1832}},
		Username: "root", KeyFile: "/nonexistent/key", KnownHosts: "/nonexistent/known_hosts"}
	if err := Prepare(dir, l, filepath.Join(dir, "ansible", "ssh_config")); err != nil {
		t.Fatal(err)
	}
	b, diags, err := render.BuildFS(context.Background(), os.DirFS(filepath.Join(dir, "intent")), render.BuildOptions{})
	if err != nil || diags.HasErrors() {
		t.Fatalf("the intent does not build: %v %v", err, diags)
	}
	for i, d := range l.Devices {
		want, err := desired(d.Name, i)
		if err != nil {
			t.Fatal(err)
		}
		same(t, d.Name+" rendered", b.Desired[d.Name], want)
		raw, err := os.ReadFile(filepath.Join(dir, "ansible", "xml", d.Name+".xml"))
		if err != nil {
			t.Fatal(err)
		}
		inner := strings.TrimSuffix(strings.TrimPrefix(string(raw), `<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">`), `</config>`)
		sent, err := configtree.Parse(strings.NewReader(inner), d.Name+".xml", keys)
		if err != nil {
			t.Fatal(err)
		}
		same(t, d.Name+" ansible", sent, want)
		if n := countInterfaces(want); n != Interfaces {
			t.Errorf("%s: %d interfaces in the change, want %d", d.Name, n, Interfaces)
		}
	}
	inv, err := os.ReadFile(filepath.Join(dir, "ansible", "inventory.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"ansible_python_interpreter: /usr/bin/python3", "ansible_host_key_checking: true", "pe3: {ansible_host: 127.0.0.1, ansible_port: 1832}"} {
		if !strings.Contains(string(inv), s) {
			t.Errorf("ansible inventory lacks %q:\n%s", s, inv)
		}
	}
}

func same(t *testing.T, what string, got, want *configtree.Tree) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: no tree", what)
		return
	}
	if d := append(configtree.DiffAll(got, want), configtree.DiffAll(want, got)...); len(d) > 0 {
		t.Errorf("%s differs from the bare loop's change: %v", what, d[0].Path)
	}
}

func countInterfaces(t *configtree.Tree) int {
	n := 0
	t.Walk(func(p configtree.Path, node *configtree.Node) bool {
		if node.IsEntry() && strings.HasPrefix(string(p), "/interfaces/interface[") {
			n++
			return false
		}
		return true
	})
	return n
}

// The bare loop, reset and verify on one real device: the loop makes the
// change in one session, verify sees all of it, reset takes all of it away.
func TestLoopOnLab(t *testing.T) {
	lab := labtest.Load(t)
	dev := lab.Devices()[0]
	l := Lab{Devices: []Device{{dev.Name, dev.Address, dev.Port}}, Username: lab.Username(), KeyFile: lab.KeyFile(), KnownHosts: lab.KnownHosts()}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Retries: other packages' lab tests may hold lab1's candidate lock for
	// a moment; this test is about the change, not the floor.
	o := Options{Concurrency: 1, Settle: 100 * time.Millisecond, Retries: 3}
	found := func(step string) int {
		t.Helper()
		r := Verify(ctx, l, o)
		if err := r.Failed(); err != nil {
			t.Fatalf("verify after %s: %v", step, err)
		}
		return r.Found[dev.Name]
	}
	if err := Reset(ctx, l, o).Failed(); err != nil {
		t.Fatal(err)
	}
	if n := found("reset"); n != 0 {
		t.Fatalf("after reset %d interfaces, want 0", n)
	}
	before, err := SessionID(ctx, l, l.Devices[0], o)
	if err != nil {
		t.Fatal(err)
	}
	if err := Loop(ctx, l, o).Failed(); err != nil {
		t.Fatal(err)
	}
	after, err := SessionID(ctx, l, l.Devices[0], o)
	if err != nil {
		t.Fatal(err)
	}
	if n := found("loop"); n != Interfaces {
		t.Errorf("after the loop %d interfaces, want %d", n, Interfaces)
	}
	if before == after {
		t.Errorf("session ids %s then %s: SessionID does not open a session of its own", before, after)
	}
	if err := Reset(ctx, l, o).Failed(); err != nil {
		t.Fatal(err)
	}
	if n := found("the second reset"); n != 0 {
		t.Errorf("after the second reset %d interfaces, want 0", n)
	}
}
