package render

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/")

// scenario is the input of a golden test, testdata/<scenario>/intent.json: a
// hand-written intent, so the golden files depend on render alone and not on
// the loader.
type scenario struct {
	Devices []struct {
		Name, Platform string
	}
	Services []struct {
		Kind, Name string
		Devices    []string
		Spec       map[string]any
	}
	PrefixLists []schema.PrefixList
}

func loadScenario(t *testing.T, dir string) *schema.Intent {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "intent.json"))
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	d.DisallowUnknownFields()
	var sc scenario
	if err := d.Decode(&sc); err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	var devs []*schema.Device
	for _, dv := range sc.Devices {
		devs = append(devs, device(dv.Name, dv.Platform))
	}
	var svcs []*schema.Service
	for _, s := range sc.Services {
		svcs = append(svcs, &schema.Service{
			APIVersion: schema.APIVersion, Kind: s.Kind, Name: s.Name, Customer: "c",
			Spec: numbers(s.Spec).(map[string]any), Devices: s.Devices,
			Pos: schema.Pos{File: "services/" + s.Name + ".yaml", Line: 1, Col: 1},
		})
	}
	in := intent(devs, svcs...)
	for i := range sc.PrefixLists {
		pl := &sc.PrefixLists[i]
		if in.PrefixLists == nil {
			in.PrefixLists = map[string]*schema.PrefixList{}
		}
		in.PrefixLists[strings.ToUpper(pl.Object)] = pl
	}
	return in
}

// numbers turns JSON numbers into the int64 the loader gives for integers.
func numbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case map[string]any:
		for k, e := range v {
			v[k] = numbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = numbers(e)
		}
	}
	return v
}

// TestGolden renders every device of every scenario and compares it with
// testdata/<scenario>/<device>.xml (canonical XML, owners as comments).
// Refresh with: go test ./render -run TestGolden -update
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*/intent.json")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range dirs {
		dir := filepath.Dir(f)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			in := loadScenario(t, dir)
			r := mustNew(t, in)
			for _, d := range in.Devices {
				tree, diags := r.Device(d.Name)
				if len(diags) > 0 {
					t.Fatalf("%s: %v", d.Name, diags)
				}
				var b bytes.Buffer
				if err := tree.WriteXML(&b, configtree.WriteOptions{Indent: "  ", Owners: true}); err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join(dir, d.Name+".xml")
				if *update {
					if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if diff := cmp.Diff(string(want), b.String()); diff != "" {
					t.Errorf("%s differs (-want +got; -update to accept):\n%s", golden, diff)
				}
				// The golden file must read back as the same tree: it is what
				// drivers and the simulator will see.
				back, err := configtree.Parse(bytes.NewReader(b.Bytes()), golden, Keys(d.Platform, in.Types))
				if err != nil {
					t.Fatal(err)
				}
				if !back.Equal(tree) {
					t.Errorf("%s does not parse back to the rendered tree", golden)
				}
			}
		})
	}
}
