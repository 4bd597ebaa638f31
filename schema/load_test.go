package schema

import (
	"flag"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/bad/*/want.golden")

// loadDir loads a repo folder through os.Root, as the CLI does.
func loadDir(t *testing.T, dir string, opts Options) (*Intent, Diagnostics) {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return Load(root.FS(), opts)
}

// readTree reads every file under dir into a MapFS, keyed by slash path.
func readTree(t *testing.T, dir string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		m[filepath.ToSlash(rel)] = &fstest.MapFile{Data: data, Mode: 0o644}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLoadValid(t *testing.T) {
	in, diags := loadDir(t, "testdata/valid", Options{})
	if diags.HasErrors() {
		t.Fatalf("valid repo has errors:\n%s", diagText(diags))
	}
	var devices, services []string
	for _, d := range in.Devices {
		devices = append(devices, d.Name)
	}
	for _, s := range in.Services {
		services = append(services, s.Name)
	}
	if diff := cmp.Diff([]string{"pe1-osa", "pe1-tyo", "pe2-tyo"}, devices); diff != "" {
		t.Errorf("devices (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"acme-tokyo-hq", "acme-tokyo-routes", "globex-osaka", "globex-transit"}, services); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}

	pe2 := in.Device("pe2-tyo")
	wantPE2 := &Device{Name: "pe2-tyo", Platform: "junos", Address: "pe2-tyo.mgmt.example.net", Port: 22830,
		Site: "tokyo", Role: "pe", Credentials: Credentials{Username: "netrecon", KeyFile: "/etc/netrecon/id_ed25519"},
		Pos: Pos{File: "inventory/tokyo.yaml", Line: 14, Col: 5}}
	if diff := cmp.Diff(wantPE2, pe2); diff != "" {
		t.Errorf("pe2-tyo (-want +got):\n%s", diff)
	}
	if got := in.Device("pe1-tyo").Port; got != 830 {
		t.Errorf("default port = %d, want 830", got)
	}

	hq := in.Services[0]
	wantSpec := map[string]any{
		"device": "pe1-tyo", "interface": "ge-0/0/1", "vlan": int64(100),
		"description": "ACME Tokyo HQ </description><delete/>",
		"ipv4":        "198.51.100.1/30", "ipv6": "2001:db8:100::1/127", "vrf": "acme",
		"enabled": true, // the schema's default
	}
	if diff := cmp.Diff(wantSpec, hq.Spec); diff != "" {
		t.Errorf("acme-tokyo-hq spec (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"pe1-tyo"}, hq.Devices); diff != "" {
		t.Errorf("devices (-want +got):\n%s", diff)
	}
	if got, want := hq.FieldPos("spec.vlan"), (Pos{File: "services/acme/tokyo-hq.yaml", Line: 11, Col: 3}); got != want {
		t.Errorf("spec.vlan at %v, want %v", got, want)
	}
	routes := in.Services[1]
	if got, want := routes.FieldPos("spec.routes[1].nextHop"), (Pos{File: "services/acme/tokyo-routes.yaml", Line: 14, Col: 7}); got != want {
		t.Errorf("spec.routes[1].nextHop at %v, want %v", got, want)
	}

	// The user-defined type: its defaults come from its own schema.
	transit := in.Services[3]
	wantTransit := map[string]any{
		"devices": []any{"pe2-tyo", "pe1-osa"}, "peerAS": int64(64500),
		"neighbor": "198.51.100.10", "maxPrefixes": int64(100),
	}
	if diff := cmp.Diff(wantTransit, transit.Spec); diff != "" {
		t.Errorf("globex-transit spec (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"pe2-tyo", "pe1-osa"}, transit.Devices); diff != "" {
		t.Errorf("transit devices (-want +got):\n%s", diff)
	}

	tt := in.Types["transit"]
	if tt == nil || tt.BuiltIn || tt.Dir != "service-types/transit" || tt.Template["junos"].Name != "service-types/transit/junos.xml.tmpl" ||
		!strings.Contains(tt.Template["junos"].Source, "<peer-as>") || tt.Description == "" {
		t.Errorf("transit type = %+v", tt)
	}
	if diff := cmp.Diff(map[string][]string{"/configuration/protocols/bgp/group/neighbor": {"name"}}, tt.Lists); diff != "" {
		t.Errorf("transit lists (-want +got):\n%s", diff)
	}
	for _, k := range []string{KindAttachmentCircuit, KindStaticRouting} {
		bt := in.Types[k]
		if bt == nil || !bt.BuiltIn || len(bt.Template) != 0 || !strings.Contains(bt.Schema, "#Spec") {
			t.Errorf("built-in type %s = %+v", k, bt)
		}
	}
}

func diagText(ds Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.Severity.String())
		b.WriteString(": ")
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// TestLoadBad loads testdata/valid overlaid with each testdata/bad/<case>/
// (a file named "delete" lists paths to remove first) and compares the
// diagnostics with the case's want.golden. Run with -update to rewrite them.
func TestLoadBad(t *testing.T) {
	base := readTree(t, "testdata/valid")
	cases, err := os.ReadDir("testdata/bad")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name(), func(t *testing.T) {
			dir := filepath.Join("testdata/bad", c.Name())
			_, diags := Load(overlay(t, base, dir), Options{})
			checkDiags(t, diags)
			compareGolden(t, filepath.Join(dir, "want.golden"), diagText(diags))
		})
	}
}

// overlay returns base with the files of dir added or replaced; a file named
// "delete" lists paths to remove first, want.golden is the expected result.
func overlay(t *testing.T, base fstest.MapFS, dir string) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	for k, v := range base {
		fsys[k] = v
	}
	files := readTree(t, dir)
	if del, ok := files["delete"]; ok {
		for _, p := range strings.Fields(string(del.Data)) {
			for k := range fsys {
				if k == p || strings.HasPrefix(k, p+"/") {
					delete(fsys, k)
				}
			}
		}
	}
	for k, v := range files {
		if k != "delete" && k != "want.golden" {
			fsys[k] = v
		}
	}
	return fsys
}

// compareGolden compares got with the golden file, or rewrites it under -update.
func compareGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

// checkDiags asserts what every bad input must give: at least one error, and
// every error names its file.
func checkDiags(t *testing.T, diags Diagnostics) {
	t.Helper()
	if !diags.HasErrors() {
		t.Fatalf("no error; diagnostics:\n%s", diagText(diags))
	}
	for _, d := range diags {
		if d.Severity == Error && d.Pos.File == "" {
			t.Errorf("error without a file: %v", d)
		}
		if d.Pos.File != "" && (path.IsAbs(d.Pos.File) || strings.Contains(d.Pos.File, `\`)) {
			t.Errorf("position is not repo-relative: %v", d)
		}
	}
}

func TestLoadSecretInsideRepo(t *testing.T) {
	fsys := validPlus(t, map[string]string{"inventory/x.yaml": `apiVersion: netrecon.io/v1
kind: Inventory
devices:
  - {name: pe9, platform: ietf, address: 192.0.2.9, credentials: {username: x, keyFile: /srv/intent/keys/pe9}}
`})
	_, diags := Load(fsys, Options{RepoDir: "/srv/intent"})
	wantError(t, diags, "inventory/x.yaml", `keyFile /srv/intent/keys/pe9 of device "pe9" lies inside the repository`)
	if _, diags := Load(fsys, Options{RepoDir: "/srv/intent-other"}); diags.HasErrors() {
		t.Errorf("a sibling folder is outside the repo:\n%s", diagText(diags))
	}
	if _, diags := Load(fsys, Options{RepoDir: "relative"}); !diags.HasErrors() {
		t.Error("a relative RepoDir is accepted")
	}
}

// TestLoadIsDeterministic: the number of workers changes nothing.
func TestLoadIsDeterministic(t *testing.T) {
	fsys := readTree(t, "testdata/valid")
	for name, data := range map[string]string{
		"services/bad1.yaml": "apiVersion: netrecon.io/v1\nkind: static-routing\nmetadata: {name: b1, customer: acme}\nspec: {device: pe9, routes: []}\n",
		"services/bad2.yaml": "kind: nope\n",
		"services/bad3.yaml": "a: [\n",
	} {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	want, wantDiags := Load(fsys, Options{Workers: 1})
	for range 3 {
		got, gotDiags := Load(fsys, Options{Workers: 4})
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("intent differs with 4 workers:\n%s", diff)
		}
		if diff := cmp.Diff(wantDiags, gotDiags); diff != "" {
			t.Errorf("diagnostics differ with 4 workers:\n%s", diff)
		}
	}
}
