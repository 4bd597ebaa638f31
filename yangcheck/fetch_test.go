package yangcheck

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

// fakeDevice serves schemas as yuma123 netconfd does: its list leaves out
// submodules, which get-schema still serves.
type fakeDevice struct {
	caps   []string
	list   []SchemaInfo
	texts  map[string]string // by name@revision
	failAt string            // a schema whose get-schema fails the session

	mu   sync.Mutex
	gets []string
}

func (d *fakeDevice) Capabilities() []string { return d.caps }

func (d *fakeDevice) Schemas(context.Context) ([]SchemaInfo, error) { return d.list, nil }

func (d *fakeDevice) GetSchema(_ context.Context, id, ver string) (string, error) {
	key := fullName(id, ver)
	d.mu.Lock()
	d.gets = append(d.gets, key)
	d.mu.Unlock()
	if key == d.failAt {
		return "", errors.New("session lost")
	}
	if t, ok := d.texts[key]; ok {
		return t, nil
	}
	if ver == "" {
		for k, t := range d.texts {
			if strings.HasPrefix(k, id+"@") {
				return t, nil
			}
		}
	}
	return "", fmt.Errorf("%w: %s", ErrNoSchema, key)
}

const (
	modA = `module a { namespace "urn:a"; prefix a; revision 2020-01-01; include a-sub { revision-date 2020-01-01; } feature f; container c { leaf l { type string; } } }`
	subA = `submodule a-sub { belongs-to a { prefix a; } revision 2020-01-01; leaf s { type string; } }`
	modB = `module b { namespace "urn:b"; prefix b; revision 2021-02-02; import a { prefix a; } }`
)

func newFake(features string, withB bool) *fakeDevice {
	d := &fakeDevice{
		caps: []string{"urn:ietf:params:netconf:base:1.1", "urn:a?module=a&revision=2020-01-01" + features},
		list: []SchemaInfo{{Identifier: "a", Version: "2020-01-01", Format: "yang", NETCONF: true}},
		texts: map[string]string{
			"a@2020-01-01": modA, "a-sub@2020-01-01": subA, "b@2021-02-02": modB,
		},
	}
	if withB {
		d.caps = append(d.caps, "urn:b?module=b&revision=2021-02-02")
		d.list = append(d.list, SchemaInfo{Identifier: "b", Version: "2021-02-02", Format: "yang", NETCONF: true},
			SchemaInfo{Identifier: "b", Version: "2021-02-02", Format: "yin", NETCONF: true})
	}
	return d
}

func fetchFrom(t *testing.T, devs map[string]*fakeDevice) *FetchResult {
	t.Helper()
	var names []string
	for n := range devs {
		names = append(names, n)
	}
	slices.Sort(names)
	return Fetch(t.Context(), FetchOptions{Platform: "ietf", Devices: names, Concurrency: 2,
		Open: func(_ context.Context, name string) (Source, func(), error) {
			d, ok := devs[name]
			if !ok {
				return nil, nil, fmt.Errorf("%s: unreachable", name)
			}
			return d, func() {}, nil
		}})
}

func TestFetchFollowsUnlistedSubmodules(t *testing.T) {
	res := fetchFrom(t, map[string]*fakeDevice{"pe1": newFake("&features=f", true), "pe2": newFake("&features=f", true)})
	if len(res.Failed) != 0 || len(res.Disagreements) != 0 || len(res.Warnings) != 0 {
		t.Fatalf("failed %v, disagreements %v, warnings %v", res.Failed, res.Disagreements, res.Warnings)
	}
	p := res.Platform
	var files []string
	for f := range p.Files {
		files = append(files, f)
	}
	slices.Sort(files)
	if want := []string{"a-sub@2020-01-01.yang", "a@2020-01-01.yang", "b@2021-02-02.yang"}; !slices.Equal(files, want) {
		t.Errorf("files = %v, want %v", files, want)
	}
	got, err := p.Index.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "fetch", "index.yaml")
	if os.Getenv("UPDATE") == "1" {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("index:\n%s\nwant (%s, UPDATE=1 to refresh):\n%s", got, golden, want)
	}
}

func TestFetchReadsEachModuleOnce(t *testing.T) {
	devs := map[string]*fakeDevice{"pe1": newFake("", true), "pe2": newFake("", true), "pe3": newFake("", true)}
	fetchFrom(t, devs)
	count := map[string]int{}
	for _, d := range devs {
		for _, g := range d.gets {
			count[g]++
		}
	}
	for k, n := range count {
		if n != 1 {
			t.Errorf("%s read %d times, want once for the platform", k, n)
		}
	}
	if len(count) != 3 {
		t.Errorf("read %v, want a, a-sub and b", count)
	}
}

func TestFetchReportsDisagreements(t *testing.T) {
	res := fetchFrom(t, map[string]*fakeDevice{
		"pe1": newFake("&features=f", true),
		"pe2": newFake("", false),
	})
	want := []string{
		"a: a@2020-01-01 on pe2; a@2020-01-01 with features f on pe1",
		"b: absent on pe2; b@2021-02-02 on pe1",
	}
	if !slices.Equal(res.Disagreements, want) {
		t.Errorf("disagreements:\n%q\nwant\n%q", res.Disagreements, want)
	}
	// Each device is checked against its own modules.
	p := res.Platform
	m1, f1 := p.ModulesFor("pe1")
	m2, f2 := p.ModulesFor("pe2")
	if len(m1) != 3 || len(m2) != 2 || !slices.Equal(f1["a"], []string{"f"}) || len(f2["a"]) != 0 {
		t.Errorf("pe1 %d modules %v, pe2 %d modules %v", len(m1), f1, len(m2), f2)
	}
}

func TestFetchGoesOnWithoutAFailedDevice(t *testing.T) {
	broken := newFake("", true)
	broken.failAt = "a@2020-01-01"
	res := fetchFrom(t, map[string]*fakeDevice{"pe1": newFake("", true)})
	res = Fetch(t.Context(), FetchOptions{Platform: "ietf", Devices: []string{"pe1", "pe9"},
		Open: func(_ context.Context, name string) (Source, func(), error) {
			if name == "pe9" {
				return nil, nil, errors.New("pe9: unreachable")
			}
			return newFake("", true), func() {}, nil
		}})
	if res.Failed["pe9"] == nil || res.Platform == nil || !slices.Equal(res.Platform.Index.Devices, []string{"pe1"}) {
		t.Errorf("failed %v, devices %v: want pe9 failed and pe1 fetched", res.Failed, res.Platform)
	}
	res = fetchFrom(t, map[string]*fakeDevice{"pe1": broken})
	if res.Failed["pe1"] == nil || res.Platform != nil {
		t.Errorf("a session that dies mid-fetch: failed %v, platform %v", res.Failed, res.Platform)
	}
}

func TestFetchWarnsOfAnUnservedModule(t *testing.T) {
	d := newFake("", true)
	delete(d.texts, "b@2021-02-02")
	res := fetchFrom(t, map[string]*fakeDevice{"pe1": d})
	if len(res.Failed) != 0 || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "pe1: module b@2021-02-02 left out of the index: no such schema") {
		t.Errorf("failed %v, warnings %q", res.Failed, res.Warnings)
	}
}

// Writing twice gives the same bytes, and a module no longer advertised
// leaves the folder.
func TestPlatformWriteIsDeterministic(t *testing.T) {
	root := t.TempDir()
	res := fetchFrom(t, map[string]*fakeDevice{"pe1": newFake("", true), "pe2": newFake("", true)})
	if err := res.Platform.Write(root); err != nil {
		t.Fatal(err)
	}
	first := readDir(t, filepath.Join(root, Dir, "ietf"))
	res = fetchFrom(t, map[string]*fakeDevice{"pe2": newFake("", true), "pe1": newFake("", true)})
	if err := res.Platform.Write(root); err != nil {
		t.Fatal(err)
	}
	if second := readDir(t, filepath.Join(root, Dir, "ietf")); !mapsEqual(first, second) {
		t.Errorf("a second fetch changed the folder")
	}
	res = fetchFrom(t, map[string]*fakeDevice{"pe1": newFake("", false)})
	if err := res.Platform.Write(root); err != nil {
		t.Fatal(err)
	}
	if _, ok := readDir(t, filepath.Join(root, Dir, "ietf"))["b@2021-02-02.yang"]; ok {
		t.Error("b stayed after the devices stopped advertising it")
	}
	repo, diags := ReadRepo(os.DirFS(root))
	if len(diags) != 0 || repo["ietf"] == nil || len(repo["ietf"].Files) != 2 {
		t.Errorf("read back: %v %v", diags, repo)
	}
}

func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestParseModuleCaps(t *testing.T) {
	got := parseModuleCaps([]string{
		"urn:ietf:params:netconf:base:1.1",
		"urn:ietf:params:xml:ns:yang:ietf-interfaces?module=ietf-interfaces&revision=2014-05-08&features=arbitrary-names,if-mib",
		"urn:x?module=x&revision=2020-01-01&deviations=x-dev",
		"urn:ietf:params:netconf:capability:with-defaults:1.0?basic-mode=explicit",
	})
	if len(got) != 2 || !slices.Equal(got["ietf-interfaces"].features, []string{"arbitrary-names", "if-mib"}) ||
		got["ietf-interfaces"].namespace != "urn:ietf:params:xml:ns:yang:ietf-interfaces" || !slices.Equal(got["x"].deviations, []string{"x-dev"}) {
		t.Errorf("parseModuleCaps = %+v", got)
	}
}

func TestParseIndexRefuses(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"bad yaml", "platform: ietf\nmodules: [\n", "line"},
		{"unknown key", "platform: ietf\nbogus: 1\n", "field bogus not found"},
		{"file outside", "platform: ietf\nmodules:\n  - name: a\n    file: ../../etc/passwd.yang\n", "is not a .yang file of the folder"},
		{"not yang", "platform: ietf\nmodules:\n  - name: a\n    file: a.txt\n", "is not a .yang file"},
		{"bad platform", "platform: ../x\n", "is not a valid name"},
		{"unknown device", "platform: ietf\ndevices: [pe1]\nmodules:\n  - name: a\n    file: a.yang\n    devices: [pe2]\n", `names device "pe2"`},
		{"twice", "platform: ietf\nmodules:\n  - name: a\n    file: a.yang\n  - name: a\n    file: a.yang\n", "listed twice"},
		{"no name", "platform: ietf\nmodules:\n  - file: a.yang\n", "has no name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseIndex([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseIndex: %v, want %q", err, tc.want)
			}
		})
	}
}

func TestReadRepoRefuses(t *testing.T) {
	idx := "platform: ietf\ndevices: [pe1]\nmodules:\n  - name: a\n    file: a.yang\n"
	for _, tc := range []struct {
		name string
		fs   fstest.MapFS
		want string
	}{
		{"missing file", fstest.MapFS{"schemas/ietf/index.yaml": {Data: []byte(idx)}}, "module a: cannot read schemas/ietf/a.yang"},
		{"huge file", fstest.MapFS{"schemas/ietf/index.yaml": {Data: []byte(idx)}, "schemas/ietf/a.yang": {Data: make([]byte, MaxFileSize+1)}}, "more than the"},
		{"no index", fstest.MapFS{"schemas/ietf/a.yang": {Data: []byte("module a {}")}}, "cannot read the platform's module index"},
		{"wrong folder", fstest.MapFS{"schemas/junos/index.yaml": {Data: []byte(idx)}}, `the index is for platform "ietf" but lies in the folder of "junos"`},
		{"bad yaml", fstest.MapFS{"schemas/ietf/index.yaml": {Data: []byte("platform: ietf\nmodules: [\n")}}, "schemas/ietf/index.yaml:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo, diags := ReadRepo(tc.fs)
			if len(repo) != 0 || len(diags) != 1 || !strings.Contains(diags[0].String(), tc.want) {
				t.Errorf("repo %v, diags %v; want one saying %q", repo, diags, tc.want)
			}
		})
	}
	if repo, diags := ReadRepo(fstest.MapFS{"inventory/x.yaml": {}}); len(repo) != 0 || len(diags) != 0 {
		t.Errorf("a repo without schemas/: %v %v", repo, diags)
	}
}
