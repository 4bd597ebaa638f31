package diskcache

import (
	"bufio"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultMaxBytes = 256 << 20
	DefaultMaxAge   = 30 * 24 * time.Hour
)

const (
	// magic starts every segment; the digit is the segment format.
	magic = "netrecon-cache/1\n"
	// maxSegments of one version are merged into one at the next Close:
	// Open reads each, so many small ones would slow every run down.
	maxSegments = 8
	// A temporary file older than this was left by a run that crashed.
	staleTemp = time.Hour
	segSuffix = ".seg"
	tmpPrefix = "tmp-"
	// recordOverhead is the bytes of a record besides its key and value:
	// two lengths and the checksum.
	recordOverhead = 12
)

// Options tune a Cache. Version should be set; the rest may be zero.
type Options struct {
	// Version identifies what writes and reads the values: the program's
	// build and the format of what it stores. A Cache sees only entries of
	// its own Version.
	Version string
	// MaxBytes bounds the folder's segments, of every version together; 0
	// means DefaultMaxBytes. One run's additions beyond it are dropped.
	MaxBytes int64
	// MaxAge is how long a segment of another version is kept unused; 0
	// means DefaultMaxAge.
	MaxAge time.Duration
}

// Stats count what a Cache did, for tests, benchmarks and diagnostics.
type Stats struct {
	Hits, Misses int
	Added        int // entries Put that the cache did not hold yet
	Corrupt      int // records or segments ignored for a bad checksum, header or length
	Segments     int // of this version, read at Open
	Merged       bool
}

// Cache is one run's view of a cache folder. Its methods are safe for
// concurrent use.
type Cache struct {
	dir      string
	version  string
	prefix   string // the version's segment name prefix
	maxBytes int64
	maxAge   time.Duration
	table    *crc32.Table

	mu     sync.Mutex
	read   map[string]*entry // from the segments at Open; a later segment wins
	added  map[string][]byte // new this run
	segs   []*segment        // of this version
	others []fileInfo        // other versions' segments and temporary files
	stats  Stats
	closed bool
}

type entry struct {
	val  []byte
	seg  *segment
	idx  int // order read: within a segment its position, which merge writes most valuable first
	used bool
}

type segment struct {
	fileInfo
	used    bool // served a hit this run
	damaged bool // a record failed its checksum
}

type fileInfo struct {
	name string
	size int64
	mod  time.Time
	tmp  bool
}

// Open reads the segments of opts.Version in dir, creating dir when it does
// not exist. Damaged segments are counted in Stats.Corrupt, never an error.
func Open(dir string, opts Options) (*Cache, error) {
	if opts.MaxBytes < 0 || opts.MaxAge < 0 {
		return nil, fmt.Errorf("cache %s: negative bound (max bytes %d, max age %v)", dir, opts.MaxBytes, opts.MaxAge)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	sum := sha256.Sum256([]byte(opts.Version))
	c := &Cache{
		dir:      dir,
		version:  opts.Version,
		prefix:   hex.EncodeToString(sum[:8]),
		maxBytes: cmp.Or(opts.MaxBytes, DefaultMaxBytes),
		maxAge:   cmp.Or(opts.MaxAge, DefaultMaxAge),
		table:    crc32.MakeTable(crc32.Castagnoli),
		read:     make(map[string]*entry),
		added:    make(map[string][]byte),
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	for _, de := range des {
		name := de.Name()
		isTmp := strings.HasPrefix(name, tmpPrefix)
		if !de.Type().IsRegular() || (!isTmp && !strings.HasSuffix(name, segSuffix)) {
			continue // not ours: left alone, and not counted
		}
		fi, err := de.Info()
		if err != nil {
			continue // deleted since the listing, by a run that merged it
		}
		info := fileInfo{name: name, size: fi.Size(), mod: fi.ModTime(), tmp: isTmp}
		if isTmp || !strings.HasPrefix(name, c.prefix+"-") {
			c.others = append(c.others, info)
			continue
		}
		c.segs = append(c.segs, &segment{fileInfo: info})
	}
	// Names carry the writing time: reading in name order lets a later
	// segment's value of a key win.
	slices.SortFunc(c.segs, func(a, b *segment) int { return strings.Compare(a.name, b.name) })
	kept := c.segs[:0]
	for _, s := range c.segs {
		if c.load(s) {
			kept = append(kept, s)
		}
	}
	c.segs = kept
	c.stats.Segments = len(c.segs)
	return c, nil
}

// load reads one segment's records into c.read. It reports false when the
// segment is gone (merged by another run since the listing).
func (c *Cache) load(s *segment) bool {
	if s.size > c.maxBytes {
		// No segment this version writes is larger than the bound.
		s.damaged = true
		c.stats.Corrupt++
		return true
	}
	data, err := os.ReadFile(filepath.Join(c.dir, s.name))
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if err != nil {
		s.damaged = true
		c.stats.Corrupt++
		return true
	}
	s.size = int64(len(data))
	c.parse(s, data)
	return true
}

// parse adds a segment's records to c.read, up to the first damaged one.
func (c *Cache) parse(s *segment, data []byte) {
	rest, ok := c.header(data)
	if !ok {
		s.damaged = true
		c.stats.Corrupt++
		return
	}
	for len(rest) > 0 {
		key, val, next, ok := c.record(rest)
		if !ok {
			// The lengths of what follows cannot be trusted either.
			s.damaged = true
			c.stats.Corrupt++
			break
		}
		c.read[string(key)] = &entry{val: val, seg: s, idx: len(c.read)}
		rest = next
	}
}

// header checks a segment's header: magic, version and checksum.
func (c *Cache) header(data []byte) ([]byte, bool) {
	if len(data) < len(magic)+8 || string(data[:len(magic)]) != magic {
		return nil, false
	}
	n := binary.LittleEndian.Uint32(data[len(magic):])
	end := uint64(len(magic)) + 4 + uint64(n)
	if end+4 > uint64(len(data)) {
		return nil, false
	}
	if string(data[len(magic)+4:end]) != c.version {
		return nil, false // the name's prefix collided; not ours
	}
	if crc32.Checksum(data[:end], c.table) != binary.LittleEndian.Uint32(data[end:]) {
		return nil, false
	}
	return data[end+4:], true
}

// record splits the first record off data.
func (c *Cache) record(data []byte) (key, val, rest []byte, ok bool) {
	if len(data) < recordOverhead {
		return nil, nil, nil, false
	}
	kl := uint64(binary.LittleEndian.Uint32(data))
	vl := uint64(binary.LittleEndian.Uint32(data[4:]))
	end := 8 + kl + vl
	if end+4 > uint64(len(data)) {
		return nil, nil, nil, false
	}
	if crc32.Checksum(data[:end], c.table) != binary.LittleEndian.Uint32(data[end:]) {
		return nil, nil, nil, false
	}
	return data[8 : 8+kl], data[8+kl : end], data[end+4:], true
}

// Get returns the value stored under key. The value must not be modified.
func (c *Cache) Get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.added[key]; ok {
		c.stats.Hits++
		return v, true
	}
	e, ok := c.read[key]
	if !ok {
		c.stats.Misses++
		return nil, false
	}
	e.used, e.seg.used = true, true
	c.stats.Hits++
	return e.val, true
}

// Put stores val under key, from the next Close on. It keeps val, which the
// caller must not modify afterwards. Values over the bound are not stored.
func (c *Cache) Put(key string, val []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.read[key]; ok && string(e.val) == string(val) {
		e.used, e.seg.used = true, true
		return
	}
	if _, ok := c.added[key]; !ok {
		c.stats.Added++
	}
	c.added[key] = val
}

// Stats returns what the cache did so far.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Close writes what this run added as a new segment, or merges the segments
// when they are many, damaged or over the bound, and deletes what the bound
// or the age evicts. The Cache is unusable afterwards. An error leaves the
// folder as valid as before: at worst, the additions are lost.
func (c *Cache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	now := time.Now()
	var errs []error
	others := c.others[:0]
	for _, o := range c.others {
		age := now.Sub(o.mod)
		if (o.tmp && age > staleTemp) || (!o.tmp && age > c.maxAge) {
			errs = append(errs, c.remove(o.name))
			continue
		}
		others = append(others, o)
	}
	c.others = others

	total := c.addedBytes()
	damaged := false
	for _, s := range c.segs {
		total += s.size
		damaged = damaged || s.damaged
	}
	for _, o := range c.others {
		if !o.tmp {
			total += o.size
		}
	}
	if len(c.segs) >= maxSegments || damaged || total > c.maxBytes {
		errs = append(errs, c.merge(now))
		return errors.Join(errs...)
	}
	if len(c.added) > 0 {
		entries := slices.Sorted(maps.Keys(c.added))
		recs := make([]record, len(entries))
		for i, k := range entries {
			recs[i] = record{k, c.added[k]}
		}
		if _, err := c.write(now, recs); err != nil {
			errs = append(errs, err)
		}
	}
	for _, s := range c.segs {
		if s.used {
			// The modification time is the last use: eviction keeps the
			// segments recent runs read.
			if err := os.Chtimes(filepath.Join(c.dir, s.name), now, now); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("cache: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

type record struct {
	key string
	val []byte
}

func recordSize(key string, val []byte) int64 {
	return int64(len(key)+len(val)) + recordOverhead
}

func (c *Cache) addedBytes() int64 {
	var n int64
	for k, v := range c.added {
		n += recordSize(k, v)
	}
	return n
}

// merge replaces this version's segments by one holding, in this order,
// what this run added, what it used, and the rest from the most recently
// used segment down, as far as three quarters of the bound allow.
func (c *Cache) merge(now time.Time) error {
	var errs []error
	// Other versions' segments give way to the running one, oldest first,
	// until it has at least half the bound. Temporary files are another
	// run's segment being written: not counted, not touched.
	var old []fileInfo
	var otherBytes int64
	for _, o := range c.others {
		if !o.tmp {
			old = append(old, o)
			otherBytes += o.size
		}
	}
	slices.SortFunc(old, func(a, b fileInfo) int { return a.mod.Compare(b.mod) })
	for ; len(old) > 0 && c.maxBytes-otherBytes < c.maxBytes/2; old = old[1:] {
		errs = append(errs, c.remove(old[0].name))
		otherBytes -= old[0].size
	}
	// A quarter of the bound stays free, so that the next runs add
	// segments of their own before the next merge.
	budget := c.maxBytes*3/4 - otherBytes - int64(len(c.header0()))

	var recs []record
	taken := make(map[string]bool)
	add := func(k string, v []byte) {
		if taken[k] {
			return
		}
		if n := recordSize(k, v); n <= budget {
			budget -= n
			recs = append(recs, record{k, v})
			taken[k] = true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(c.added)) {
		add(k, c.added[k])
	}
	var unused []string
	for _, k := range slices.Sorted(maps.Keys(c.read)) {
		if e := c.read[k]; e.used {
			add(k, e.val)
		} else if now.Sub(e.seg.mod) <= c.maxAge {
			unused = append(unused, k)
		}
	}
	// Most recently used segment first; within a segment, in its order,
	// which a merge wrote from the most valuable down.
	slices.SortFunc(unused, func(a, b string) int {
		ea, eb := c.read[a], c.read[b]
		return cmp.Or(eb.seg.mod.Compare(ea.seg.mod), cmp.Compare(ea.idx, eb.idx))
	})
	for _, k := range unused {
		add(k, c.read[k].val)
	}
	c.stats.Merged = true
	if len(recs) > 0 {
		if _, err := c.write(now, recs); err != nil {
			// Keep the old segments: they are still valid.
			return errors.Join(append(errs, err)...)
		}
	}
	for _, s := range c.segs {
		errs = append(errs, c.remove(s.name))
	}
	return errors.Join(errs...)
}

// header0 is the header of a segment of this version.
func (c *Cache) header0() []byte {
	h := make([]byte, 0, len(magic)+8+len(c.version))
	h = append(h, magic...)
	h = binary.LittleEndian.AppendUint32(h, uint32(len(c.version)))
	h = append(h, c.version...)
	return binary.LittleEndian.AppendUint32(h, crc32.Checksum(h, c.table))
}

// write stores recs as a new segment: written to a temporary file, then
// renamed, so no reader ever sees half of it.
func (c *Cache) write(now time.Time, recs []record) (string, error) {
	f, err := os.CreateTemp(c.dir, tmpPrefix+"*")
	if err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	tmp := f.Name()
	w := bufio.NewWriterSize(f, 1<<16)
	w.Write(c.header0())
	var buf []byte
	for _, r := range recs {
		buf = binary.LittleEndian.AppendUint32(buf[:0], uint32(len(r.key)))
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(r.val)))
		buf = append(buf, r.key...)
		buf = append(buf, r.val...)
		buf = binary.LittleEndian.AppendUint32(buf, crc32.Checksum(buf, c.table))
		w.Write(buf)
	}
	err = w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	name := fmt.Sprintf("%s-%016x-%08x%s", c.prefix, now.UnixNano(), rand.Uint32(), segSuffix)
	if err == nil {
		err = os.Rename(tmp, filepath.Join(c.dir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("cache: write segment: %w", err)
	}
	return name, nil
}

// remove deletes a file of the folder; one that another run removed first
// is no error.
func (c *Cache) remove(name string) error {
	if err := os.Remove(filepath.Join(c.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

// Clear deletes every segment and temporary file of a cache folder, of
// every version, and leaves other files alone.
func Clear(dir string) error {
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	var errs []error
	for _, de := range des {
		name := de.Name()
		if de.Type().IsRegular() && (strings.HasPrefix(name, tmpPrefix) || strings.HasSuffix(name, segSuffix)) {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("cache: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}
