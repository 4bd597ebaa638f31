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
	// resum rewrites a file's content and gives it a valid checksum, to
	// reach the checks behind the checksum.
	resum := func(edit func(f *file)) string {
		var f file
		if err := json.Unmarshal([]byte(good), &f); err != nil {
			t.Fatal(err)
		}
		edit(&f)
		sum, err := checksum(f)
		if err != nil {
			t.Fatal(err)
		}
		f.Checksum = sum
		b, _ := json.Marshal(f)
		return string(b)
	}
	cases := []struct{ name, in, want string }{
		{"empty", "", "not a netrecon plan file"},
		{"not json", "plan: yes", "not a netrecon plan file"},
		{"truncated", good[:len(good)/2], "not a netrecon plan file"},
		{"edited", strings.Replace(good, "by hand", "by hanD", 1), "checksum mismatch"},
		{"compact re-encoding is still valid", resum(func(f *file) {}), ""},
		{"future version", strings.Replace(good, `"format_version": 1`, `"format_version": 2`, 1), "format_version 2"},
		{"changes do not follow from trees", resum(func(f *file) { f.Devices[0].Changes[0].After = "evil" }), "the trees give"},
		{"bad action", resum(func(f *file) { f.Devices[1].Changes[0].Action = "*" }), "unknown action"},
		{"bad path", resum(func(f *file) { f.Devices[1].Changes[0].Path = "interfaces[" }), "pe2: change 0"},
		{"missing node", resum(func(f *file) { f.Devices[1].Changes[0].Node = nil }), "node missing"},
		{"unsorted", resum(func(f *file) { f.Devices[0], f.Devices[1] = f.Devices[1], f.Devices[0] }), "not sorted"},
		{"nameless", resum(func(f *file) { f.Devices[2].Name = "" }), "has no name"},
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
	f.Add([]byte(`{"format_version":1}`))
	f.Add([]byte(`{"format_version":1,"devices":[{"name":"a","changes":[{"action":"+","path":"/x"}]}],"checksum":""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = Read(bytes.NewReader(b))
	})
}
