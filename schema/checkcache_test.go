package schema

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/netrecon/netrecon/diskcache"
)

// verdictKey is the key under which Load keeps the cross-document checks'
// verdict on the documents of fsys, under the types of in (checkKey), built
// here from the files themselves.
func verdictKey(t *testing.T, fsys fstest.MapFS, in *Intent) string {
	t.Helper()
	r := &repoFS{fsys: fsys, maxSize: DefaultMaxFileSize}
	inv, _, _ := r.listYAML(inventoryDir, false)
	svc, _, _ := r.listYAML(servicesDir, true)
	var jobs []job
	var results []result
	for _, f := range inv {
		jobs = append(jobs, job{file: f.name, typ: f.typ, inventory: true})
	}
	for _, f := range svc {
		jobs = append(jobs, job{file: f.name, typ: f.typ})
	}
	for _, j := range jobs {
		results = append(results, result{blob: blobID(fsys[j.file].Data)})
	}
	key, ok, _ := (&docCache{salt: cacheSalt()}).checkKey(jobs, results, in.Types)
	if !ok {
		t.Fatal("no key for a clean set")
	}
	return key
}

// putVerdict writes val under key in the cache folder dir, as a run would.
func putVerdict(t *testing.T, dir, key string, val []byte) {
	t.Helper()
	c, err := diskcache.Open(dir, diskcache.Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	c.Put(key, val)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// storedVerdict returns what the cache folder dir holds under key.
func storedVerdict(t *testing.T, dir, key string) ([]byte, bool) {
	t.Helper()
	c, err := diskcache.Open(dir, diskcache.Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.Get(key)
}

// overlapping is testdata/valid where ONE file changes so that the set
// fails a cross-document check only: globex-osaka's link moves into vrf
// acme, on a subnet that overlaps acme-tokyo-hq's. The file itself stays
// valid, so the document cache keeps it.
func overlapping(t *testing.T) fstest.MapFS {
	t.Helper()
	fsys := readTree(t, "testdata/valid")
	f := "services/globex/osaka.yml"
	fsys[f] = &fstest.MapFile{Data: []byte(strings.Replace(string(fsys[f].Data), "  ipv4: 198.51.100.9/29\n", "  ipv4: 198.51.100.2/30\n  vrf: acme\n", 1))}
	return fsys
}

// A clean verdict is stored for its set and serves a load of that set; a
// set that differs in one blob has its own key, so a warm cache runs the
// checks on it and refuses what they find, and no verdict is stored for a
// set with a diagnostic.
func TestCheckVerdictServesOnlyItsSet(t *testing.T) {
	valid := readTree(t, "testdata/valid")
	bad := overlapping(t)
	want, wantDiags := Load(bad, Options{})
	if !wantDiags.HasErrors() {
		t.Fatal("the overlapping route is not refused; the test proves nothing")
	}
	for _, d := range wantDiags {
		if d.Pos.File != "services/globex/osaka.yml" && d.Pos.File != "services/acme/tokyo-hq.yaml" {
			t.Fatalf("unexpected diagnostic %v; the test means one cross-document error", d)
		}
	}
	dir := t.TempDir()
	validIn, diags, _ := cachedLoad(t, dir, valid, Options{})
	if diags.HasErrors() {
		t.Fatal(diagText(diags))
	}
	if v, ok := storedVerdict(t, dir, verdictKey(t, valid, validIn)); !ok || string(v) != string(checkPassed) {
		t.Fatalf("no clean verdict stored for the valid set (%q, %v)", v, ok)
	}
	_, _, st := cachedLoad(t, dir, valid, Options{})
	if st.Misses != 0 {
		t.Errorf("warm load of the same set missed %d times: %+v", st.Misses, st)
	}

	for _, run := range []string{"warm", "warm again"} {
		got, diags, st := cachedLoad(t, dir, bad, Options{})
		if diff := cmp.Diff(diagText(wantDiags), diagText(diags)); diff != "" {
			t.Errorf("%s: diagnostics differ (-without cache +with):\n%s", run, diff)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: intent differs (-without cache +with):\n%s", run, diff)
		}
		if run == "warm" && st.Added != 2 {
			// The changed file's kind and entry; never a verdict.
			t.Errorf("%s: %d entries added, want the changed file's 2: %+v", run, st.Added, st)
		}
	}
	if _, ok := storedVerdict(t, dir, verdictKey(t, bad, want)); ok {
		t.Error("a verdict was stored for a set the checks refuse")
	}
}

// The verdict is what a warm load goes by: a clean one stored under the key
// of a set spares it the checks (here one written by hand for a set that
// would fail them, which no run would store); a damaged, truncated or
// foreign value under that key, or a clean verdict of another set, is a
// miss, and the checks run.
func TestCheckVerdictIsUsedOnlyWhole(t *testing.T) {
	bad := overlapping(t)
	want, wantDiags := Load(bad, Options{})
	if !wantDiags.HasErrors() {
		t.Fatal("the overlapping route is not refused; the test proves nothing")
	}
	key := verdictKey(t, bad, want)
	validKey := verdictKey(t, readTree(t, "testdata/valid"), want)

	dir := t.TempDir()
	putVerdict(t, dir, key, checkPassed)
	if _, diags, _ := cachedLoad(t, dir, bad, Options{}); diags.HasErrors() {
		t.Errorf("a clean verdict under the set's key was not used: %s", diagText(diags))
	}

	for name, val := range map[string][]byte{
		"truncated": checkPassed[:len(checkPassed)-1],
		"flipped":   append([]byte{checkPassed[0] ^ 0x20}, checkPassed[1:]...),
		"empty":     {},
		"longer":    append(append([]byte{}, checkPassed...), 0),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			putVerdict(t, dir, key, val)
			_, diags, _ := cachedLoad(t, dir, bad, Options{})
			if diff := cmp.Diff(diagText(wantDiags), diagText(diags)); diff != "" {
				t.Errorf("diagnostics differ (-without cache +with):\n%s", diff)
			}
		})
	}
	t.Run("another set's", func(t *testing.T) {
		dir := t.TempDir()
		putVerdict(t, dir, validKey, checkPassed)
		_, diags, _ := cachedLoad(t, dir, bad, Options{})
		if diff := cmp.Diff(diagText(wantDiags), diagText(diags)); diff != "" {
			t.Errorf("diagnostics differ (-without cache +with):\n%s", diff)
		}
	})
}

// What the checks read of a type is in the key: a type.yaml that starts
// declaring addresses keeps its documents' entries (their schema is the
// same) but not the verdict, and the checks find what the new declaration
// reveals in unchanged documents. Another program (the cache's Version)
// or another format of the checks or the schemas (the salt) misses too.
func TestCheckVerdictMissesForOtherTypesOrPrograms(t *testing.T) {
	valid := readTree(t, "testdata/valid")
	dir := t.TempDir()
	validIn, _, _ := cachedLoad(t, dir, valid, Options{})

	declared := readTree(t, "testdata/valid")
	ty := "service-types/transit/type.yaml"
	declared[ty] = &fstest.MapFile{Data: append(append([]byte{}, declared[ty].Data...), "addresses:\n  neighbors: [neighbor]\n"...)}
	want, wantDiags := Load(declared, Options{})
	if !wantDiags.HasErrors() {
		t.Fatal("declaring the transit neighbour finds nothing; the test proves nothing")
	}
	got, diags, st := cachedLoad(t, dir, declared, Options{})
	if diff := cmp.Diff(diagText(wantDiags), diagText(diags)); diff != "" {
		t.Errorf("diagnostics differ (-without cache +with):\n%s", diff)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("intent differs (-without cache +with):\n%s", diff)
	}
	if st.Hits == 0 {
		t.Errorf("the documents' entries missed too: %+v", st)
	}

	key := verdictKey(t, valid, validIn)
	c, err := diskcache.Open(dir, diskcache.Options{Version: "another build"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(key); ok {
		t.Error("another build read this build's verdict")
	}
	c.Close()
	other := &docCache{salt: append([]byte{}, cacheSalt()...)}
	other.salt[0] ^= 1
	r := &repoFS{fsys: valid, maxSize: DefaultMaxFileSize}
	inv, _, _ := r.listYAML(inventoryDir, false)
	otherKey, _, _ := other.checkKey([]job{{file: inv[0].name, inventory: true}}, []result{{blob: "x"}}, validIn.Types)
	sameKey, _, _ := (&docCache{salt: cacheSalt()}).checkKey([]job{{file: inv[0].name, inventory: true}}, []result{{blob: "x"}}, validIn.Types)
	if otherKey == sameKey {
		t.Error("the key does not depend on the salt (schemas, formats)")
	}
}

// A load whose files come from Options.Previous has their blob IDs on the
// caller's word, not from what it saw: it looks the verdict up, and leaves
// storing it to a load that read the set itself.
func TestCheckVerdictOfPreviousIsOnlyLookedUp(t *testing.T) {
	valid := readTree(t, "testdata/valid")
	ids := func(p string) (string, bool) {
		f, ok := valid[p]
		if !ok {
			return "", false
		}
		return blobID(f.Data), true
	}
	prev, diags := Load(valid, Options{})
	if diags.HasErrors() {
		t.Fatal(diagText(diags))
	}
	fromPrev := Options{Previous: prev, Unchanged: func(string) bool { return true }, ContentID: ids}
	dir := t.TempDir()
	in, _, _ := cachedLoad(t, dir, valid, fromPrev)
	key := verdictKey(t, valid, in)
	if _, ok := storedVerdict(t, dir, key); ok {
		t.Fatal("a load of Previous's files stored a verdict on the caller's word")
	}
	cachedLoad(t, dir, valid, Options{ContentID: ids})
	if _, ok := storedVerdict(t, dir, key); !ok {
		t.Fatal("a load that read the set stored no verdict")
	}
	_, diags, st := cachedLoad(t, dir, valid, fromPrev)
	if diags.HasErrors() || st.Hits != 1 || st.Misses != 0 || st.Added != 0 {
		t.Errorf("load of Previous's files: %+v, %s; want the verdict's hit only", st, diagText(diags))
	}
}
