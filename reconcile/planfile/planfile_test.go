package planfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/plan"
	"github.com/netrecon/netrecon/render"
)

var keys = render.Keys("ietf", nil)

func tree(t *testing.T, owner, xml string) *configtree.Tree {
	t.Helper()
	tr, err := configtree.Parse(strings.NewReader(`<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces">`+xml+`</interfaces>`), t.Name(), keys)
	if err != nil {
		t.Fatal(err)
	}
	if owner != "" {
		tr.SetOwner(owner)
	}
	return tr
}

// fixture is a live plan of two devices: creates, an update, a delete of an
// owned node next to a foreign one, an identity value; and a failed device.
func fixture(t *testing.T) (*plan.Plan, map[string]*configtree.Tree, map[string]*configtree.Tree) {
	live1 := tree(t, "", `<interface><name>ge-0/0/1</name><description>old</description></interface>`+
		`<interface><name>ge-0/0/8</name><description>gone</description></interface>`+
		`<interface><name>ge-0/0/9</name><description>by hand</description></interface>`)
	live1.AdoptOwners(tree(t, "svc-a", `<interface><name>ge-0/0/1</name><description>old</description></interface><interface><name>ge-0/0/8</name><description>gone</description></interface>`))
	desired1 := tree(t, "svc-a", `<interface><name>ge-0/0/1</name><description>new &amp; "quoted"</description></interface>`+
		`<interface><name>ge-0/0/2</name><type xmlns:x="urn:ietf:params:xml:ns:yang:iana-if-type">x:ethernetCsmacd</type><enabled>true</enabled></interface>`)
	desired2 := tree(t, "svc-b", `<interface><name>lo0</name></interface>`)
	d1 := plan.DiffDevice("pe1", "ietf", live1, desired1, plan.Live)
	d1.Fingerprint = live1.Fingerprint()
	d2 := plan.DiffDevice("pe2", "ietf", configtree.New(), desired2, plan.Live)
	d3 := &plan.Device{Name: "pe3", Platform: "ietf", Err: errors.New("pe3: dial: connection refused")}
	p := &plan.Plan{Mode: plan.Live, Head: plan.Source{Rev: "main", Commit: "0123456789abcdef0123456789abcdef01234567"}, Devices: []*plan.Device{d1, d2, d3}}
	return p, map[string]*configtree.Tree{"pe1": desired1, "pe2": desired2}, map[string]*configtree.Tree{"pe1": live1}
}

func TestRoundTrip(t *testing.T) {
	p, desired, live := fixture(t)
	var buf bytes.Buffer
	if err := Write(&buf, p, desired, live); err != nil {
		t.Fatal(err)
	}
	got, gotDesired, err := Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got.Mode != p.Mode || got.Head.Commit != p.Head.Commit || got.Head.Rev != p.Head.Rev || len(got.Devices) != len(p.Devices) {
		t.Fatalf("plan header %+v", got)
	}
	for i, d := range p.Devices {
		g := got.Devices[i]
		if g.Name != d.Name || g.Platform != d.Platform || g.Fingerprint != d.Fingerprint || (g.Err == nil) != (d.Err == nil) || len(g.Changes) != len(d.Changes) {
			t.Fatalf("device %d: %+v, want %+v", i, g, d)
		}
		if d.Err != nil && g.Err.Error() != d.Err.Error() {
			t.Errorf("%s: err %q", d.Name, g.Err)
		}
		for k, c := range d.Changes {
			gc := g.Changes[k]
			if gc.Action != c.Action || gc.Path != c.Path || gc.Before != c.Before || gc.After != c.After || gc.Reason != c.Reason || strings.Join(gc.Owners, ",") != strings.Join(c.Owners, ",") {
				t.Errorf("%s change %d: %+v, want %+v", d.Name, k, gc.Change, c.Change)
			}
		}
		// Same changes means the same edit-config on the wire.
		want, err1 := configtree.EditConfig(changes(d))
		have, err2 := configtree.EditConfig(changes(g))
		if err1 != nil || err2 != nil || want != have {
			t.Errorf("%s: edit-config differs:\n%s\nwant\n%s", d.Name, have, want)
		}
		if desired[d.Name] != nil && !gotDesired[d.Name].Equal(desired[d.Name]) {
			t.Errorf("%s: desired tree differs", d.Name)
		}
	}
	// Writing what was read gives the same file.
	var again bytes.Buffer
	if err := Write(&again, got, gotDesired, nil); err != nil {
		t.Fatal(err)
	}
	var noLive bytes.Buffer
	if err := Write(&noLive, p, desired, nil); err != nil {
		t.Fatal(err)
	}
	if again.String() != noLive.String() {
		t.Error("write(read(file)) differs from the file")
	}
}

func changes(d *plan.Device) []configtree.Change {
	var out []configtree.Change
	for _, c := range d.Changes {
		out = append(out, c.Change)
	}
	return out
}

// TestReadRefuses: bad files are errors that say what is wrong, never a
// panic, never a plan.
func TestReadRefuses(t *testing.T) {
	p, desired, live := fixture(t)
	var buf bytes.Buffer
	if err := Write(&buf, p, desired, live); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	if !strings.Contains(good, `"format_version":3`) {
		t.Fatalf("the journal's copy is not compact JSON:\n%.200s", good)
	}
	// reenc rewrites a file's content, to reach the checks behind the
	// signature (Read does not check it; the journal's copies have none).
	reenc := func(edit func(f *file)) string {
		var f file
		if err := json.Unmarshal([]byte(good), &f); err != nil {
			t.Fatal(err)
		}
		edit(&f)
		b, _ := json.Marshal(f)
		return string(b)
	}
	cases := []struct{ name, in, want string }{
		{"empty", "", "not a netrecon plan file"},
		{"not json", "plan: yes", "not a netrecon plan file"},
		{"truncated", good[:len(good)/2], "not a netrecon plan file"},
		{"compact re-encoding is still valid", reenc(func(f *file) {}), ""},
		{"future version", strings.Replace(good, `"format_version":3`, `"format_version":4`, 1), "format_version 4"},
		{"past version", strings.Replace(good, `"format_version":3`, `"format_version":1`, 1), "format_version 1"},
		{"changes do not follow from trees", reenc(func(f *file) { f.Devices[0].Changes[0].After = "evil" }), "pe1: change 0"},
		{"bad action", reenc(func(f *file) { f.Devices[1].Changes[0].Action = "*" }), "unknown action"},
		{"bad path", reenc(func(f *file) { f.Devices[1].Changes[0].Path = "interfaces[" }), "pe2: change 0"},
		// Version 2 stored every change's nodes: one without is broken.
		{"missing node in version 2", reenc(func(f *file) { f.FormatVersion = 2 }), "node missing"},
		{"ancestors without a node", reenc(func(f *file) {
			f.Devices[1].Changes[0].Ancestors = []*configtree.Node{{Name: "interfaces"}}
		}), "ancestors without a node"},
		{"unsorted", reenc(func(f *file) { f.Devices[0], f.Devices[1] = f.Devices[1], f.Devices[0] }), "not sorted"},
		{"nameless", reenc(func(f *file) { f.Devices[2].Name = "" }), "has no name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _, err := Read(strings.NewReader(c.in))
			if c.want == "" {
				if err != nil {
					t.Fatalf("valid file refused: %v", err)
				}
				return
			}
			var fe *FormatError
			if !errors.As(err, &fe) || got != nil {
				t.Fatalf("err = %v, want *FormatError", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("err %q does not say %q", err, c.want)
			}
		})
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"format_version":2}`))
	f.Add([]byte(`{"format_version":3,"devices":[{"name":"a","desired":{"Root":{"Name":""}},"changes":[{"action":"+","path":"/x"}]}],"mac":""}`))
	f.Add([]byte(`{"format_version":2,"devices":[{"name":"a","changes":[{"action":"+","path":"/x"}]}],"mac":""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = Read(bytes.NewReader(b))
	})
}

// TestReadRebuildsEdits: a file as `plan -out` writes it (no live tree) in
// which a change keeps its path while its ancestors or node address other
// config, or its values disagree with its node, is refused with the device,
// the change's index and its path. What Read returns is rebuilt from the
// desired tree, not taken from the change.
func TestReadRebuildsEdits(t *testing.T) {
	p, desired, _ := fixture(t)
	// The signed file's encoding: every change keeps its nodes.
	b, err := encode(p, desired, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	good := string(b)
	human := &configtree.Node{Name: "interface", Keys: []string{"name"}, Children: []*configtree.Node{{Name: "name", Leaf: true, Value: "ge-0/0/9"}}}
	const update = "pe1: change 1 (/interfaces/interface[name=ge-0/0/1]/description)"
	const del = "pe1: change 0 (/interfaces/interface[name=ge-0/0/8])"
	cases := []struct {
		name string
		edit func(f *file)
		want []string
	}{
		{"ancestors at a person's interface", func(f *file) {
			c := &f.Devices[0].Changes[1]
			c.Ancestors[1] = human
			c.Node.Value, c.After = "old", "old" // rewrite what is there: nothing for verify to see
		}, []string{update, "/interfaces/interface[name=ge-0/0/9]/description"}},
		{"ancestors in another namespace", func(f *file) {
			c := &f.Devices[0].Changes[1]
			top := *c.Ancestors[0]
			top.Space = "urn:example:other"
			c.Ancestors[0] = &top
		}, []string{update, "ancestors differ"}},
		{"node not what the path names", func(f *file) {
			f.Devices[0].Changes[1].Node.Name = "enabled"
		}, []string{update, "/interfaces/interface[name=ge-0/0/1]/enabled"}},
		{"node value not the after value", func(f *file) {
			f.Devices[0].Changes[1].Node.Value = "other"
		}, []string{update, "after is"}},
		{"node and after agree, desired does not", func(f *file) {
			c := &f.Devices[0].Changes[1]
			c.Node.Value, c.After = "other", "other"
		}, []string{update, "the desired tree has"}},
		{"path outside the desired tree", func(f *file) {
			c := &f.Devices[0].Changes[1]
			c.Path = "/interfaces/interface[name=ge-0/0/9]/description"
			c.Ancestors[1] = human
		}, []string{"pe1: change 1 (/interfaces/interface[name=ge-0/0/9]/description)", "names no node of the desired tree"}},
		{"owners", func(f *file) {
			f.Devices[0].Changes[1].Owners = []string{"svc-z"}
		}, []string{update, "owners"}},
		{"delete of another entry", func(f *file) {
			c := &f.Devices[0].Changes[0]
			c.Node = human
		}, []string{del, "/interfaces/interface[name=ge-0/0/9]"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var f file
			if err := json.Unmarshal([]byte(good), &f); err != nil {
				t.Fatal(err)
			}
			c.edit(&f)
			b, err := json.Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := Read(bytes.NewReader(b))
			if err == nil {
				t.Fatalf("tampered file accepted: %+v", got.Devices[0].Changes)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err %q does not say %q", err, w)
				}
			}
		})
	}
	// The edits Read returns come from the desired tree: the same
	// edit-config as the plan's, and nodes that are not the file's.
	got, gotDesired, err := Read(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range got.Devices[0].Changes[1:] {
		want := gotDesired["pe1"].Find(c.Path)
		if c.Node != want {
			t.Errorf("change %d: node is not the desired tree's", i+1)
		}
	}
}

func TestCompare(t *testing.T) {
	fresh := func() *plan.Plan { p, _, _ := fixture(t); return p }
	if err := Compare(fresh(), fresh()); err != nil {
		t.Fatalf("same plan: %v", err)
	}
	cases := []struct {
		name string
		edit func(p *plan.Plan)
		want string
	}{
		{"value", func(p *plan.Plan) { p.Devices[0].Changes[1].Before = "hand edit" }, `pe1: changed since the plan was made: change 1 (/interfaces/interface[name=ge-0/0/1]/description): now "hand edit"`},
		{"extra change", func(p *plan.Plan) { p.Devices[1].Changes = append(p.Devices[1].Changes, p.Devices[0].Changes[2]) }, "pe2: changed since the plan was made: change 1 (/interfaces/interface[name=ge-0/0/2]): the device now also needs +"},
		{"fewer changes", func(p *plan.Plan) { p.Devices[0].Changes = p.Devices[0].Changes[:4] }, "pe1: changed since the plan was made: change 4 (/interfaces/interface[name=ge-0/0/2]/type): no longer needed"},
		{"fingerprint", func(p *plan.Plan) { p.Devices[0].Fingerprint = "sha256:feed" }, "pe1: changed since the plan was made: the managed configuration differs"},
		{"edit", func(p *plan.Plan) {
			c := &p.Devices[0].Changes[1]
			top := *c.Ancestors[0]
			top.Space = "urn:example:other"
			c.Ancestors = []*configtree.Node{&top, c.Ancestors[1]}
		}, "change 1 (/interfaces/interface[name=ge-0/0/1]/description): the edit it sends differs"},
		{"unreadable", func(p *plan.Plan) { p.Devices[1].Err = errors.New("pe2: dial: refused") }, "pe2: changed since the plan was made: reading it again: pe2: dial: refused"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := fresh()
			c.edit(f)
			err := Compare(fresh(), f)
			var ce *ChangedError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.want) || !strings.HasSuffix(err.Error(), "re-run plan") {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}

// Write encodes the devices one at a time; the file is still the one JSON
// document of the whole plan, the same value json.Marshal gives.
func TestWriteIsTheWholeDocument(t *testing.T) {
	p, desired, live := fixture(t)
	var buf bytes.Buffer
	if err := Write(&buf, p, desired, live); err != nil {
		t.Fatal(err)
	}
	f, err := fileOf(p, desired, live, "", false)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, buf.Bytes())
	}
	if err := json.Unmarshal(whole, &want); err != nil {
		t.Fatal(err)
	}
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
		t.Errorf("Write's document:\n%s\nwant:\n%s", g, w)
	}
	if !bytes.HasSuffix(buf.Bytes(), []byte("]}\n")) {
		t.Errorf("the file does not end with the device list and a newline: %q", buf.Bytes()[buf.Len()-10:])
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v) // maps marshal with sorted keys: comparable
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestWriteLeavesOutRebuiltNodes: the journal's copy stores a change's node
// and ancestors only where Read cannot take them from the trees (a delete
// without the live tree), and what Read gives back is the same edit, its
// nodes the desired tree's (issue 14: the stored copies were five sixths of
// the file).
func TestWriteLeavesOutRebuiltNodes(t *testing.T) {
	p, desired, live := fixture(t)
	for _, withLive := range []map[string]*configtree.Tree{nil, live} {
		var buf bytes.Buffer
		if err := Write(&buf, p, desired, withLive); err != nil {
			t.Fatal(err)
		}
		var f file
		if err := json.Unmarshal(buf.Bytes(), &f); err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Devices {
			for j, c := range d.Changes {
				keep := c.Action == "-" && d.Live == nil
				if (c.Node != nil) != keep || (len(c.Ancestors) > 0) != (keep && len(c.Ancestors) > 0) {
					t.Errorf("live %t: %s change %d (%s %s): node stored %t, want %t", withLive != nil, d.Name, j, c.Action, c.Path, c.Node != nil, keep)
				}
			}
		}
		got, gotDesired, err := Read(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("live %t: %v", withLive != nil, err)
		}
		for i, d := range p.Devices {
			g := got.Devices[i]
			want, err1 := configtree.EditConfig(changes(d))
			have, err2 := configtree.EditConfig(changes(g))
			if err1 != nil || err2 != nil || want != have {
				t.Errorf("live %t: %s: edit-config differs:\n%s\nwant\n%s", withLive != nil, d.Name, have, want)
			}
			for j, c := range g.Changes {
				if c.Action != configtree.Delete && c.Node != gotDesired[d.Name].Find(c.Path) && withLive == nil {
					t.Errorf("%s change %d: node is not the desired tree's", d.Name, j)
				}
			}
		}
	}
	// The signed file, for people, keeps every node, and is larger.
	var compact bytes.Buffer
	if err := Write(&compact, p, desired, nil); err != nil {
		t.Fatal(err)
	}
	full, err := fileOf(p, desired, nil, "", true)
	if err != nil {
		t.Fatal(err)
	}
	whole, _ := json.Marshal(full)
	if compact.Len() >= len(whole) {
		t.Errorf("the journal's copy is %d bytes, the file with every node %d", compact.Len(), len(whole))
	}
}

// TestReadVersion2: a plan of an earlier netrecon (every change with its
// nodes, format_version 2), as the journal keeps it for recovery, reads.
func TestReadVersion2(t *testing.T) {
	p, desired, live := fixture(t)
	f, err := fileOf(p, desired, live, "", true)
	if err != nil {
		t.Fatal(err)
	}
	f.FormatVersion = 2
	b, _ := json.Marshal(f)
	got, _, err := Read(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := configtree.EditConfig(changes(p.Devices[0]))
	if have, _ := configtree.EditConfig(changes(got.Devices[0])); have != want {
		t.Errorf("edit-config differs:\n%s\nwant\n%s", have, want)
	}
}
