package schema

import (
	"encoding/binary"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/netrecon/netrecon/bench/intentgen"
	"github.com/netrecon/netrecon/diskcache"
)

// cachedLoad loads fsys with a cache in dir, opened for this load and
// closed after it, as one run of the CLI does.
func cachedLoad(t *testing.T, dir string, fsys fs.FS, opts Options) (*Intent, Diagnostics, diskcache.Stats) {
	t.Helper()
	c, err := diskcache.Open(dir, diskcache.Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	opts.Cache = c
	in, diags := Load(fsys, opts)
	st := c.Stats()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return in, diags, st
}

// repos are the intent repos the cache tests load: valid ones, and the
// valid one overlaid with each bad case (whose errors must come back
// every time, never stored as valid).
func repos(t *testing.T) map[string]fs.FS {
	t.Helper()
	gen := fstest.MapFS{}
	for name, data := range intentgen.Files(intentgen.Config{Services: 300, Devices: 20, Seed: 3}) {
		gen[name] = &fstest.MapFile{Data: data}
	}
	out := map[string]fs.FS{"valid": readTree(t, "testdata/valid"), "intentgen": gen}
	cases, err := os.ReadDir("testdata/bad")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		fsys := readTree(t, "testdata/valid")
		bad := readTree(t, filepath.Join("testdata/bad", c.Name()))
		if del, ok := bad["delete"]; ok {
			for _, p := range strings.Fields(string(del.Data)) {
				for name := range fsys {
					if name == p || strings.HasPrefix(name, p+"/") {
						delete(fsys, name)
					}
				}
			}
			delete(bad, "delete")
		}
		for name, f := range bad {
			fsys[name] = f
		}
		out["bad/"+c.Name()] = fsys
	}
	return out
}

// TestCacheGivesTheSameResult: a load that fills the cache and the loads
// that use it give what a load without it gives, diagnostics included.
func TestCacheGivesTheSameResult(t *testing.T) {
	for name, fsys := range repos(t) {
		t.Run(name, func(t *testing.T) {
			want, wantDiags := Load(fsys, Options{})
			dir := t.TempDir()
			for _, run := range []string{"cold", "warm", "warm again"} {
				got, diags, st := cachedLoad(t, dir, fsys, Options{})
				if diff := cmp.Diff(diagText(wantDiags), diagText(diags)); diff != "" {
					t.Errorf("%s: diagnostics differ (-without cache +with):\n%s", run, diff)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s: intent differs (-without cache +with):\n%s", run, diff)
				}
				if run != "cold" && st.Added != 0 {
					t.Errorf("%s: %d entries added; every clean file was stored by the cold run", run, st.Added)
				}
				if run == "warm" && st.Hits == 0 && len(want.Services) > 0 {
					t.Errorf("warm: no hit (%+v)", st)
				}
			}
		})
	}
}

// With the content IDs given, as the planner gives a commit's, a warm load
// reads no document at all.
func TestCacheWarmReadsNothing(t *testing.T) {
	fsys := readTree(t, "testdata/valid")
	ids := make(map[string]string)
	for name, f := range fsys {
		ids[name] = blobID(f.Data)
	}
	contentID := func(p string) (string, bool) { id, ok := ids[p]; return id, ok }
	dir := t.TempDir()
	want, _, _ := cachedLoad(t, dir, fsys, Options{ContentID: contentID})
	var reads atomic.Int64
	got, diags, st := cachedLoad(t, dir, countingFS{FS: fsys, reads: &reads}, Options{ContentID: contentID})
	if diags.HasErrors() {
		t.Fatal(diagText(diags))
	}
	if n := reads.Load(); n != 0 {
		t.Errorf("a warm load with content IDs read %d documents", n)
	}
	if st.Misses != 0 {
		t.Errorf("warm load missed %d times", st.Misses)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("warm intent differs:\n%s", diff)
	}
}

// A user-defined type's documents were validated by its schema: when the
// schema changes they miss, and the new schema (here a new default) shows.
// Built-in kinds still hit. In-process and in the sandbox.
func TestCacheMissesWhenAUserSchemaChanges(t *testing.T) {
	for name, eval := range map[string]Evaluator{"in-process": nil, "sandbox": testSandbox(Budget{})} {
		t.Run(name, func(t *testing.T) {
			fsys := readTree(t, "testdata/valid")
			dir := t.TempDir()
			cachedLoad(t, dir, fsys, Options{Evaluator: eval})
			schema := fsys["service-types/transit/schema.cue"]
			fsys["service-types/transit/schema.cue"] = &fstest.MapFile{Data: []byte(strings.Replace(string(schema.Data), "*100", "*200", 1))}
			want, wantDiags := Load(fsys, Options{Evaluator: eval})
			got, diags, st := cachedLoad(t, dir, fsys, Options{Evaluator: eval})
			if diff := cmp.Diff(diagText(wantDiags), diagText(diags)); diff != "" {
				t.Errorf("diagnostics differ (-without cache +with):\n%s", diff)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("intent differs (-without cache +with):\n%s", diff)
			}
			transit := 0
			for _, s := range got.Services {
				if s.Kind == "transit" {
					transit++
					if s.Spec["maxPrefixes"] != int64(200) {
						t.Errorf("%s: maxPrefixes %v, want the new default 200", s.Name, s.Spec["maxPrefixes"])
					}
				}
			}
			// The old entry is found and refused; the new one is stored,
			// and so is the cross-document checks' verdict on the set
			// under the new schema (the old one's does not serve it).
			if transit == 0 || st.Added != transit+1 || st.Hits == 0 {
				t.Errorf("stats %+v; want %d added (the transit documents and the new verdict) and hits for the rest", st, transit+1)
			}
		})
	}
}

// A type that the evaluator refuses now (its budget) fails its cached
// documents too, as it fails the others.
func TestCacheFailsDocumentsOfATypeTheSandboxRefuses(t *testing.T) {
	fsys := readTree(t, "testdata/valid")
	dir := t.TempDir()
	cachedLoad(t, dir, fsys, Options{Evaluator: testSandbox(Budget{})})
	tiny := testSandbox(Budget{Time: time.Millisecond})
	want, wantDiags := Load(fsys, Options{Evaluator: tiny})
	got, diags, _ := cachedLoad(t, dir, fsys, Options{Evaluator: tiny})
	if !wantDiags.HasErrors() {
		t.Fatal("a 1 ms budget did not fail the type; the test proves nothing")
	}
	if diff := cmp.Diff(diagText(wantDiags), diagText(diags)); diff != "" {
		t.Errorf("diagnostics differ (-without cache +with):\n%s", diff)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("intent differs (-without cache +with):\n%s", diff)
	}
}

// What Options.Trusted let through unvalidated is never taken as valid by
// a load that does not vouch for the file.
func TestCacheTrustedEntriesServeOnlyTrustedLoads(t *testing.T) {
	fsys := validPlus(t, map[string]string{"services/acme/extra.yaml": "apiVersion: netrecon.io/v1\nkind: static-routing\n" +
		"metadata: {name: extra, customer: acme, colour: blue}\nspec: {device: pe1-tyo, routes: []}\n"})
	want, wantDiags := Load(fsys, Options{})
	if !wantDiags.HasErrors() {
		t.Fatal("the extra document is valid; the test proves nothing")
	}
	dir := t.TempDir()
	trusted := Options{Trusted: func(string) bool { return true }}
	wantTrusted, _ := Load(fsys, trusted)
	for range 2 {
		got, _, _ := cachedLoad(t, dir, fsys, trusted)
		if diff := cmp.Diff(wantTrusted, got); diff != "" {
			t.Errorf("trusted load differs (-without cache +with):\n%s", diff)
		}
	}
	got, diags, _ := cachedLoad(t, dir, fsys, Options{})
	if diff := cmp.Diff(diagText(wantDiags), diagText(diags)); diff != "" {
		t.Errorf("a validating load took a trusted entry (-without cache +with):\n%s", diff)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("intent differs (-without cache +with):\n%s", diff)
	}
}

// A cached file larger than today's size cap is refused as it would be
// without the cache.
func TestCacheKeepsTheSizeCap(t *testing.T) {
	fsys := readTree(t, "testdata/valid")
	contentID := func(p string) (string, bool) { return blobID(fsys[p].Data), fsys[p] != nil }
	dir := t.TempDir()
	cachedLoad(t, dir, fsys, Options{ContentID: contentID})
	// With content IDs, a hit would not even read the file.
	small := Options{MaxFileSize: 200, ContentID: contentID}
	_, wantDiags := Load(fsys, small)
	_, diags, _ := cachedLoad(t, dir, fsys, small)
	if !wantDiags.HasErrors() {
		t.Fatal("no file is over 200 bytes; the test proves nothing")
	}
	if diff := cmp.Diff(diagText(wantDiags), diagText(diags)); diff != "" {
		t.Errorf("diagnostics differ (-without cache +with):\n%s", diff)
	}
}

// Every result of a valid repo survives encoding exactly.
func TestEntryRoundTrip(t *testing.T) {
	for name, fsys := range map[string]fs.FS{"valid": readTree(t, "testdata/valid")} {
		in, diags := Load(fsys, Options{})
		if diags.HasErrors() {
			t.Fatal(diagText(diags))
		}
		for _, s := range in.Services {
			b, ok := encodeEntry(s.Pos.File, entry{res: result{service: s}, size: 7, typeHash: "h"})
			if !ok {
				t.Fatalf("%s: %s cannot be encoded", name, s.Pos.File)
			}
			e, err := decodeEntry(s.Pos.File, b)
			if err != nil {
				t.Fatalf("%s: %s: %v", name, s.Pos.File, err)
			}
			if diff := cmp.Diff(entry{res: result{service: s}, size: 7, typeHash: "h"}, e, cmp.AllowUnexported(entry{}, result{})); diff != "" {
				t.Errorf("%s: %s differs after a round trip:\n%s", name, s.Pos.File, diff)
			}
		}
	}
	in, _ := Load(readTree(t, "testdata/valid"), Options{})
	byFile := previousResults(Options{Previous: in, Unchanged: func(string) bool { return true }})
	for file, res := range byFile {
		if res.service != nil {
			continue
		}
		b, ok := encodeEntry(file, entry{res: res, size: 9})
		if !ok {
			t.Fatalf("%s cannot be encoded", file)
		}
		e, err := decodeEntry(file, b)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if diff := cmp.Diff(entry{res: res, size: 9}, e, cmp.AllowUnexported(entry{}, result{})); diff != "" {
			t.Errorf("%s differs after a round trip:\n%s", file, diff)
		}
	}
	// A position in another file cannot be stored (and nothing gives one).
	s := &Service{Kind: KindStaticRouting, Spec: map[string]any{}, Pos: Pos{File: "other.yaml"}}
	if _, ok := encodeEntry("services/x.yaml", entry{res: result{service: s}}); ok {
		t.Error("a position in another file was encoded")
	}
}

// FuzzCacheEntry: whatever an entry's bytes (the cache's checksum should
// make this moot, a bug must not make it a panic), decoding fails cleanly
// or gives an entry that encodes back to the same thing.
func FuzzCacheEntry(f *testing.F) {
	fsys := fstest.MapFS{}
	for name, data := range intentgen.Files(intentgen.Config{Services: 4, Devices: 2, Seed: 1}) {
		fsys[name] = &fstest.MapFile{Data: data}
	}
	in, _ := Load(fsys, Options{})
	for _, s := range in.Services {
		b, _ := encodeEntry("f.yaml", entry{res: result{service: withFile(s, "f.yaml")}})
		f.Add(b)
	}
	devs := []*Device{}
	fields := []string{}
	for i, d := range in.Devices {
		c := *d
		c.Pos.File = "f.yaml"
		devs, fields = append(devs, &c), append(fields, "devices["+string(rune('0'+i))+"]")
	}
	b, _ := encodeEntry("f.yaml", entry{res: result{devices: devs, deviceFields: fields}})
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := decodeEntry("f.yaml", data)
		if err != nil {
			return
		}
		again, ok := encodeEntry("f.yaml", e)
		if !ok {
			t.Fatalf("a decoded entry does not encode: %+v", e)
		}
		e2, err := decodeEntry("f.yaml", again)
		if err != nil {
			t.Fatalf("re-encoded entry does not decode: %v", err)
		}
		if diff := cmp.Diff(e, e2, cmp.AllowUnexported(entry{}, result{})); diff != "" {
			t.Fatalf("round trip differs:\n%s", diff)
		}
	})
}

// withFile copies s with every position in file.
func withFile(s *Service, file string) *Service {
	c := *s
	c.Pos.File = file
	c.Fields = make(map[string]Pos, len(s.Fields))
	for k, p := range s.Fields {
		p.File = file
		c.Fields[k] = p
	}
	return &c
}

// The decoder's uvarint and varint read exactly what encoding/binary's
// read, and refuse what they refuse.
func FuzzDecoderVarint(f *testing.F) {
	for _, x := range []uint64{0, 1, 127, 128, 300, 1 << 35, 1<<64 - 1} {
		f.Add(binary.AppendUvarint(nil, x))
	}
	f.Add([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02})
	f.Add([]byte{0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		want, n := binary.Uvarint(b)
		r := &decoder{b: string(b)}
		got := r.uint()
		if (n <= 0) != (r.err != nil) || (n > 0 && (got != want || len(r.b) != len(b)-n)) {
			t.Fatalf("uint(%x) = %d, rest %d, err %v; binary.Uvarint: %d, %d", b, got, len(r.b), r.err, want, n)
		}
		wantI, n := binary.Varint(b)
		r = &decoder{b: string(b)}
		gotI := r.int()
		if (n <= 0) != (r.err != nil) || (n > 0 && gotI != wantI) {
			t.Fatalf("int(%x) = %d, err %v; binary.Varint: %d, %d", b, gotI, r.err, wantI, n)
		}
	})
}
