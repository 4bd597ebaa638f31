package diskcache

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func open(t testing.TB, dir string, opts Options) *Cache {
	t.Helper()
	c, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func closeCache(t testing.TB, c *Cache) {
	t.Helper()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

func value(i int) []byte { return []byte(strings.Repeat("v"+strconv.Itoa(i), 20)) }

// run is one process's use of the cache: open, read every key, add the
// missing ones, close.
func run(t testing.TB, dir string, opts Options, keys ...int) Stats {
	t.Helper()
	c := open(t, dir, opts)
	for _, k := range keys {
		key := "k" + strconv.Itoa(k)
		if v, ok := c.Get(key); ok {
			if !bytes.Equal(v, value(k)) {
				t.Fatalf("%s = %q, want %q", key, v, value(k))
			}
			continue
		}
		c.Put(key, value(k))
	}
	st := c.Stats()
	closeCache(t, c)
	return st
}

func keys(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func folderBytes(t testing.TB, dir string) (n int64, files int) {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		fi, err := de.Info()
		if err != nil {
			t.Fatal(err)
		}
		n += fi.Size()
		files++
	}
	return n, files
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Version: "v1"}
	if st := run(t, dir, opts, keys(0, 100)...); st.Hits != 0 || st.Added != 100 {
		t.Fatalf("first run: %+v, want 100 added", st)
	}
	if st := run(t, dir, opts, keys(0, 100)...); st.Hits != 100 || st.Added != 0 || st.Corrupt != 0 {
		t.Fatalf("second run: %+v, want 100 hits", st)
	}
	// A run that only hits writes nothing new.
	if _, files := folderBytes(t, dir); files != 1 {
		t.Errorf("%d files after a run of hits, want the one segment", files)
	}
}

func TestVersionsAreApart(t *testing.T) {
	dir := t.TempDir()
	run(t, dir, Options{Version: "v1"}, 1, 2, 3)
	if st := run(t, dir, Options{Version: "v2"}, 1, 2, 3); st.Hits != 0 {
		t.Errorf("v2 saw %d entries of v1", st.Hits)
	}
	if st := run(t, dir, Options{Version: "v1"}, 1, 2, 3); st.Hits != 3 {
		t.Errorf("v1 lost its entries to v2: %+v", st)
	}
}

// A record whose bytes changed on disk is never returned: it and what
// follows it in its segment are missed, counted, and rebuilt by the run.
func TestCorruptRecordIsIgnoredAndRebuilt(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Version: "v1"}
	run(t, dir, opts, keys(0, 10)...)
	seg := onlySegment(t, dir)
	data, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, value(5))
	data[i+3] ^= 0x20
	if err := os.WriteFile(seg, data, 0o600); err != nil {
		t.Fatal(err)
	}
	st := run(t, dir, opts, keys(0, 10)...) // fails the test if a bad value comes back
	if st.Corrupt != 1 || st.Hits != 5 || st.Added != 5 {
		t.Errorf("run over the damaged segment: %+v, want 5 hits, 5 rebuilt, 1 corrupt", st)
	}
	if st := run(t, dir, opts, keys(0, 10)...); st.Corrupt != 0 || st.Hits != 10 {
		t.Errorf("run after the rebuild: %+v, want 10 clean hits", st)
	}
}

// A crash leaves at worst a temporary file (the rename never happened) or
// a short segment (a file system that lost the tail); neither is trusted.
func TestCrashLeftovers(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Version: "v1"}
	run(t, dir, opts, keys(0, 10)...)
	seg := onlySegment(t, dir)
	data, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(seg, data[:len(data)-7], 0o600); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, tmpPrefix+"crashed")
	if err := os.WriteFile(tmp, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	// A fresh temporary file may be another run's segment being written.
	st := run(t, dir, opts, keys(0, 10)...)
	if st.Corrupt != 1 || st.Hits != 9 {
		t.Errorf("run over a short segment: %+v, want 9 hits and 1 corrupt", st)
	}
	if _, err := os.Stat(tmp); err != nil {
		t.Errorf("a fresh temporary file was removed: %v", err)
	}
	old := time.Now().Add(-2 * staleTemp)
	if err := os.Chtimes(tmp, old, old); err != nil {
		t.Fatal(err)
	}
	run(t, dir, opts)
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("a stale temporary file is still there: %v", err)
	}
}

func TestDamagedHeader(t *testing.T) {
	for name, damage := range map[string]func([]byte) []byte{
		"magic":    func(b []byte) []byte { b[0] = 'X'; return b },
		"checksum": func(b []byte) []byte { b[len(magic)+5] ^= 1; return b },
		"empty":    func([]byte) []byte { return nil },
		"length":   func(b []byte) []byte { b[len(magic)] = 0xff; b[len(magic)+3] = 0x7f; return b },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{Version: "v1"}
			run(t, dir, opts, 1, 2)
			seg := onlySegment(t, dir)
			data, _ := os.ReadFile(seg)
			if err := os.WriteFile(seg, damage(data), 0o600); err != nil {
				t.Fatal(err)
			}
			if st := run(t, dir, opts, 1, 2); st.Hits != 0 || st.Corrupt != 1 {
				t.Errorf("%+v, want no hit and 1 corrupt", st)
			}
			if st := run(t, dir, opts, 1, 2); st.Hits != 2 || st.Corrupt != 0 {
				t.Errorf("after the rebuild: %+v, want 2 clean hits", st)
			}
		})
	}
}

// The folder never holds more than MaxBytes after a run, however much each
// run adds, and what the latest runs used survives eviction.
func TestEvictionBound(t *testing.T) {
	dir := t.TempDir()
	rec := recordSize("k100", value(100))
	opts := Options{Version: "v1", MaxBytes: 40 * rec}
	for r := range 30 {
		// Each run uses the hot keys 0-9 and adds 7 new ones.
		ks := append(keys(0, 10), keys(100+7*r, 107+7*r)...)
		run(t, dir, opts, ks...)
		if n, _ := folderBytes(t, dir); n > opts.MaxBytes {
			t.Fatalf("after run %d the folder holds %d bytes, over the bound of %d", r, n, opts.MaxBytes)
		}
	}
	if st := run(t, dir, opts, keys(0, 10)...); st.Hits != 10 {
		t.Errorf("the hot keys were evicted: %+v", st)
	}
	if st := run(t, dir, opts, keys(100, 107)...); st.Hits != 0 {
		t.Errorf("the oldest keys survived: %+v", st)
	}
	// One run adding more than the bound keeps what fits.
	run(t, dir, opts, keys(1000, 1100)...)
	if n, _ := folderBytes(t, dir); n > opts.MaxBytes {
		t.Errorf("a large run left %d bytes, over the bound of %d", n, opts.MaxBytes)
	}
}

func TestSegmentsAreMerged(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Version: "v1"}
	for r := range 3 * maxSegments {
		run(t, dir, opts, r)
		if _, files := folderBytes(t, dir); files > maxSegments {
			t.Fatalf("after run %d: %d segments, want at most %d", r, files, maxSegments)
		}
	}
	if st := run(t, dir, opts, keys(0, 3*maxSegments)...); st.Hits != 3*maxSegments {
		t.Errorf("merging lost entries: %+v", st)
	}
}

func TestOldVersionsAgeOut(t *testing.T) {
	dir := t.TempDir()
	run(t, dir, Options{Version: "old"}, 1)
	seg := onlySegment(t, dir)
	run(t, dir, Options{Version: "new"}, 1)
	if _, err := os.Stat(seg); err != nil {
		t.Fatalf("a recent segment of another version was deleted: %v", err)
	}
	old := time.Now().Add(-2 * DefaultMaxAge)
	if err := os.Chtimes(seg, old, old); err != nil {
		t.Fatal(err)
	}
	run(t, dir, Options{Version: "new"}, 1)
	if _, err := os.Stat(seg); !os.IsNotExist(err) {
		t.Errorf("a segment of another version unused for twice MaxAge is still there: %v", err)
	}
}

// Runs at once (goroutines here, processes below) all succeed and lose
// nothing that fits the bound; the folder stays readable throughout.
func TestConcurrentRuns(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Version: "v1"}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for r := range 5 {
				c, err := Open(dir, opts)
				if err != nil {
					errs <- err
					return
				}
				// Half the keys shared by all, half this goroutine's own.
				for _, k := range append(keys(0, 20), keys(1000*(g+1)+20*r, 1000*(g+1)+20*r+20)...) {
					key := "k" + strconv.Itoa(k)
					if v, ok := c.Get(key); ok && !bytes.Equal(v, value(k)) {
						errs <- fmt.Errorf("%s = %q", key, v)
					} else if !ok {
						c.Put(key, value(k))
					}
				}
				if st := c.Stats(); st.Corrupt != 0 {
					errs <- fmt.Errorf("goroutine %d run %d saw %d corrupt records", g, r, st.Corrupt)
				}
				if err := c.Close(); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var all []int
	for g := range 8 {
		all = append(all, keys(1000*(g+1), 1000*(g+1)+100)...)
	}
	if st := run(t, dir, opts, append(keys(0, 20), all...)...); st.Hits != 20+len(all) || st.Corrupt != 0 {
		t.Errorf("after the concurrent runs: %+v, want %d clean hits", st, 20+len(all))
	}
}

// TestHelperProcess is one run of the cache in a child process.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv("DISKCACHE_HELPER_DIR")
	if dir == "" {
		t.Skip("only run as the child of TestConcurrentProcesses")
	}
	from, _ := strconv.Atoi(os.Getenv("DISKCACHE_HELPER_FROM"))
	for r := range 10 {
		run(t, dir, Options{Version: "v1"}, append(keys(0, 50), keys(from+50*r, from+50*r+50)...)...)
	}
}

func TestConcurrentProcesses(t *testing.T) {
	dir := t.TempDir()
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for p := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "DISKCACHE_HELPER_DIR="+dir, "DISKCACHE_HELPER_FROM="+strconv.Itoa(1000*(p+1)))
		out := &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("process %d: %v\n%s", i, err, outs[i])
		}
	}
	var all []int
	for p := range 3 {
		all = append(all, keys(1000*(p+1), 1000*(p+1)+500)...)
	}
	if st := run(t, dir, Options{Version: "v1"}, append(keys(0, 50), all...)...); st.Hits != 50+len(all) || st.Corrupt != 0 {
		t.Errorf("after three processes: %+v, want %d clean hits", st, 50+len(all))
	}
}

func TestClear(t *testing.T) {
	dir := t.TempDir()
	run(t, dir, Options{Version: "v1"}, 1)
	run(t, dir, Options{Version: "v2"}, 1)
	mine := filepath.Join(dir, "README")
	os.WriteFile(mine, []byte("not the cache's"), 0o600)
	if err := Clear(dir); err != nil {
		t.Fatal(err)
	}
	if _, files := folderBytes(t, dir); files != 1 {
		t.Errorf("%d files after Clear, want only the foreign one", files)
	}
	if st := run(t, dir, Options{Version: "v1"}, 1); st.Hits != 0 {
		t.Errorf("an entry survived Clear: %+v", st)
	}
	if err := Clear(filepath.Join(dir, "missing")); err != nil {
		t.Errorf("Clear of a missing folder: %v", err)
	}
}

func TestBadOptions(t *testing.T) {
	if _, err := Open(t.TempDir(), Options{MaxBytes: -1}); err == nil {
		t.Error("negative MaxBytes accepted")
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o600)
	if _, err := Open(f, Options{}); err == nil {
		t.Error("a file accepted as the cache folder")
	}
}

func onlySegment(t testing.TB, dir string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
	if len(m) != 1 {
		t.Fatalf("segments %v, want one", m)
	}
	return m[0]
}

// FuzzSegment: whatever bytes a segment holds, reading it never panics and
// returns only records whose checksum holds.
func FuzzSegment(f *testing.F) {
	dir := f.TempDir()
	run(f, dir, Options{Version: "v1"}, 1, 2, 3)
	m, _ := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
	good, _ := os.ReadFile(m[0])
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &Cache{version: "v1", table: crc32.MakeTable(crc32.Castagnoli), read: map[string]*entry{}}
		s := &segment{}
		c.parse(s, data)
		for k, e := range c.read {
			if !bytes.Contains(data, []byte(k)) || !bytes.Contains(data, e.val) {
				t.Fatalf("record %q not taken from the data", k)
			}
		}
	})
}
