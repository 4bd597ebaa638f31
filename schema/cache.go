package schema

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"slices"

	"github.com/netrecon/netrecon/diskcache"
)

// What a document's cache entry depends on, and so what its key holds:
//
//   - the file's path (positions name it, its folder says inventory or
//     service) and its content, by Git blob ID: a work tree and a commit
//     then share entries, and the planner knows a commit's IDs without
//     reading a blob;
//   - cacheFormat and the embedded built-in schemas (cacheSalt); the
//     program that reads the entries is separated by the cache's own
//     Version (the CLI gives it netrecon's build);
//   - whether CUE validated the document ('v') or Options.Trusted vouched
//     for it ('t'): a vouched-for entry serves only a load that vouches for
//     the file too, so a file is never taken as valid because the planner
//     once trusted it;
//   - for a user-defined kind, its schema.cue. The kind is known only once
//     the file is decoded, so a first entry maps the content to its kind,
//     and the result is found under the kind and its schema's hash.
//
// Only results without a single diagnostic are stored.

// cacheFormat changes whenever the entry encoding or what Load computes per
// document changes.
const cacheFormat = 2

// Modes of an entry: validated by CUE, or decoded under Options.Trusted.
const (
	modeValidated = 'v'
	modeTrusted   = 't'
)

// cacheNote is what the loader needs to store a file's result once it is
// final (a user-defined kind's is known only after the Evaluator ran).
type cacheNote struct {
	blob      string // the content's Git blob ID
	size      int
	validated bool
}

// cacheSalt hashes what every entry depends on besides its file: the entry
// format and the built-in schemas.
func cacheSalt() []byte {
	h := sha256.New()
	fmt.Fprintf(h, "netrecon schema cache %d\x00", cacheFormat)
	names, _ := fs.Glob(builtinCUE, "cue/*.cue")
	slices.Sort(names)
	for _, n := range names {
		src, _ := builtinCUE.ReadFile(n)
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(src))
		h.Write(src)
	}
	// Half the hash tells the schemas apart as well, at half the length of
	// every key.
	return h.Sum(nil)[:16]
}

// blobID is the object ID Git gives a blob of this content (gitsrc computes
// the same for work trees), so that entries written from a work tree serve
// a commit's files and the other way round. The cache trusts Git's IDs as
// Git does.
func blobID(data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// typeHash identifies a user-defined type's schema for the entries of its
// documents.
func typeHash(t *ServiceType) string {
	sum := sha256.Sum256([]byte(t.Dir + "\x00" + t.Schema))
	return string(sum[:])
}

// docCache is one Load's use of Options.Cache.
type docCache struct {
	cache      *diskcache.Cache
	ids        func(string) (string, bool)
	salt       []byte
	typeHashes map[string]string // of the user-defined kinds, by kind
}

func newDocCache(opts Options, types map[string]*ServiceType) *docCache {
	c := &docCache{cache: opts.Cache, ids: opts.ContentID, salt: cacheSalt(), typeHashes: make(map[string]string)}
	for kind, t := range types {
		if !t.BuiltIn {
			c.typeHashes[kind] = typeHash(t)
		}
	}
	return c
}

func (c *docCache) contentID(file string) (string, bool) {
	if c.ids == nil {
		return "", false
	}
	return c.ids(file)
}

// key is the entry of file j with content blob, in mode, when its kind is
// kind with schema typeHash ("" for built-in kinds and inventory files).
// The same bytes may mean two things under two schemas: the base and the
// head of a pull request that changes a type's schema.cue each keep their
// own entry.
//
// The key is the parts themselves, not a hash of them: building it costs
// nothing next to hashing twice per file, and it is no longer than a
// path. Lengths keep the parts apart.
func (c *docCache) key(j job, mode byte, blob, kind, typeHash string) string {
	role := byte('s')
	if j.inventory {
		role = 'i'
	}
	b := make([]byte, 0, 2+len(c.salt)+len(j.file)+len(blob)+len(kind)+len(typeHash)+12)
	b = append(b, mode, role)
	b = append(b, c.salt...)
	for _, part := range []string{j.file, blob, kind, typeHash} {
		b = binary.AppendUvarint(b, uint64(len(part)))
		b = append(b, part...)
	}
	return string(b)
}

// kindKey is where the kind of a service file's content is kept: it is
// needed to find the entry (key) and known only once the file is decoded.
func (c *docCache) kindKey(j job, blob string) string {
	return c.key(j, 'k', blob, "", "")
}

// schemaOf returns the type hash a document of kind is validated with
// now, or false when no schema may validate it (unknown or broken).
func (c *docCache) schemaOf(l *loader, kind string) (string, bool) {
	if isBuiltin(kind) {
		return "", true
	}
	t := l.types[kind]
	if t == nil || t.BuiltIn || l.broken[kind] {
		return "", false
	}
	return c.typeHashes[kind], true
}

// lookup returns the stored result of file j with content blob, if the
// cache holds one that l's load may use.
func (c *docCache) lookup(l *loader, j job, blob string, trusted bool) (result, bool) {
	kind, th := "", ""
	if !j.inventory {
		k, ok := c.cache.Get(c.kindKey(j, blob))
		if !ok {
			return result{}, false
		}
		kind = string(k)
		if th, ok = c.schemaOf(l, kind); !ok {
			return result{}, false
		}
	}
	modes := []byte{modeValidated}
	if trusted {
		modes = append(modes, modeTrusted)
	}
	for _, mode := range modes {
		b, ok := c.cache.Get(c.key(j, mode, blob, kind, th))
		if !ok {
			continue
		}
		e, err := decodeEntry(j.file, b)
		if err != nil {
			continue // rebuilt and stored again by this run
		}
		if int64(e.size) > l.r.maxSize {
			continue // the size cap refuses it now: reading says so
		}
		if e.typeHash != th || (e.res.service == nil) != j.inventory || (e.res.service != nil && e.res.service.Kind != kind) {
			continue
		}
		e.res.reused = true
		return e.res, true
	}
	return result{}, false
}

// store puts every final result without a diagnostic that has a note:
// those of user-defined kinds the Evaluator gave (put already stored the
// others, in the workers).
func (c *docCache) store(results []result, jobs []job) {
	for i, res := range results {
		c.put(jobs[i], res)
	}
}

// put stores the result of file j if it is final and without a diagnostic.
func (c *docCache) put(j job, res result) {
	if res.note == nil || len(res.diags) > 0 || res.pending != nil || (res.service == nil) != j.inventory {
		return
	}
	kind, th := "", ""
	if s := res.service; s != nil {
		kind = s.Kind
		if !isBuiltin(kind) {
			if th = c.typeHashes[kind]; th == "" {
				return // a kind no schema validated: never stored
			}
		}
	}
	b, ok := encodeEntry(j.file, entry{res: res, size: res.note.size, typeHash: th})
	if !ok {
		return
	}
	mode := byte(modeTrusted)
	if res.note.validated {
		mode = modeValidated
	}
	if !j.inventory {
		c.cache.Put(c.kindKey(j, res.note.blob), []byte(kind))
	}
	c.cache.Put(c.key(j, mode, res.note.blob, kind, th), b)
}

// entry is what the cache keeps of one file.
type entry struct {
	res      result // devices and their fields, or the service
	size     int    // of the file, checked against the size cap
	typeHash string // of the user-defined kind's schema; "" for built-in kinds
}

// The entry encoding: a format byte, the size, the type hash, then 'i' and
// the devices or 's' and the service. Strings and lists are length-prefixed
// (uvarint); positions are line and column in the entry's own file. Plain
// data values are a tag and a payload (see encValue).
const (
	tagNil = iota
	tagFalse
	tagTrue
	tagInt
	tagFloat
	tagString
	tagList
	tagMap
	tagNilList
	tagNilMap
)

// maxValueDepth bounds nesting in an entry: a little over what parsing
// allows, so that a valid entry always decodes.
const maxValueDepth = maxDepth + 4

// encodeEntry encodes e; ok is false for what it cannot encode exactly
// (a position in another file, a value of another type), which is then not
// cached.
func encodeEntry(file string, e entry) ([]byte, bool) {
	w := &encoder{file: file, ok: true, b: make([]byte, 0, 512)}
	w.b = append(w.b, cacheFormat)
	w.uint(uint64(e.size))
	w.str(e.typeHash)
	switch {
	case e.res.service != nil:
		s := e.res.service
		w.b = append(w.b, 's')
		w.str(s.APIVersion)
		w.str(s.Kind)
		w.str(s.Name)
		w.str(s.Customer)
		w.strMap(s.Labels)
		w.str(s.Activate)
		w.str(s.Deactivate)
		w.value(s.Spec, 0)
		w.strList(s.Devices)
		w.pos(s.Pos)
		w.uint(uint64(len(s.Fields)))
		for k, p := range s.Fields {
			w.str(k)
			w.pos(p)
		}
	default:
		w.b = append(w.b, 'i')
		if len(e.res.devices) != len(e.res.deviceFields) {
			return nil, false
		}
		w.uint(uint64(len(e.res.devices)))
		for i, d := range e.res.devices {
			w.str(d.Name)
			w.str(d.Platform)
			w.str(d.Address)
			w.int(int64(d.Port))
			w.str(d.Site)
			w.str(d.Role)
			w.strMap(d.Labels)
			w.str(d.Credentials.Username)
			w.str(d.Credentials.PasswordEnv)
			w.str(d.Credentials.PasswordFile)
			w.str(d.Credentials.KeyFile)
			w.bool(d.Maintenance)
			w.pos(d.Pos)
			w.str(e.res.deviceFields[i])
		}
	}
	return w.b, w.ok
}

type encoder struct {
	b    []byte
	file string
	ok   bool
}

func (w *encoder) uint(x uint64) { w.b = binary.AppendUvarint(w.b, x) }
func (w *encoder) int(x int64)   { w.b = binary.AppendVarint(w.b, x) }
func (w *encoder) str(s string) {
	w.uint(uint64(len(s)))
	w.b = append(w.b, s...)
}

func (w *encoder) bool(b bool) {
	if b {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

func (w *encoder) pos(p Pos) {
	if p.File != w.file || p.Line < 0 || p.Col < 0 {
		w.ok = false
	}
	w.uint(uint64(p.Line))
	w.uint(uint64(p.Col))
}

// strMap and strList keep nil apart from empty, as the decoders build them.
func (w *encoder) strMap(m map[string]string) {
	if m == nil {
		w.uint(0)
		return
	}
	w.uint(uint64(len(m)) + 1)
	for k, v := range m {
		w.str(k)
		w.str(v)
	}
}

func (w *encoder) strList(l []string) {
	if l == nil {
		w.uint(0)
		return
	}
	w.uint(uint64(len(l)) + 1)
	for _, s := range l {
		w.str(s)
	}
}

func (w *encoder) value(x any, depth int) {
	if depth > maxValueDepth {
		w.ok = false
		return
	}
	switch x := x.(type) {
	case nil:
		w.b = append(w.b, tagNil)
	case bool:
		if x {
			w.b = append(w.b, tagTrue)
		} else {
			w.b = append(w.b, tagFalse)
		}
	case int64:
		w.b = append(w.b, tagInt)
		w.int(x)
	case float64:
		w.b = append(w.b, tagFloat)
		w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(x))
	case string:
		w.b = append(w.b, tagString)
		w.str(x)
	case []any:
		if x == nil {
			w.b = append(w.b, tagNilList)
			return
		}
		w.b = append(w.b, tagList)
		w.uint(uint64(len(x)))
		for _, v := range x {
			w.value(v, depth+1)
		}
	case map[string]any:
		if x == nil {
			w.b = append(w.b, tagNilMap)
			return
		}
		w.b = append(w.b, tagMap)
		w.uint(uint64(len(x)))
		for k, v := range x {
			w.str(k)
			w.value(v, depth+1)
		}
	default:
		w.ok = false
	}
}

var errEntry = errors.New("malformed cache entry")

// decodeEntry decodes an entry of file. Whatever the bytes, it returns an
// error rather than panicking or allocating more than the bytes can hold.
//
// The entry is copied into one string, of which every decoded string is a
// part: a service's dozens of strings (field paths, values) then cost one
// allocation rather than one each, which was a third of a warm load's
// decoding.
func decodeEntry(file string, b []byte) (entry, error) {
	r := &decoder{b: string(b), file: file}
	var e entry
	if r.byte() != cacheFormat {
		return e, errEntry
	}
	e.size = r.count(math.MaxInt32)
	e.typeHash = r.str()
	switch r.byte() {
	case 's':
		s := &Service{}
		s.APIVersion = r.str()
		s.Kind = r.str()
		s.Name = r.str()
		s.Customer = r.str()
		s.Labels = r.strMap()
		s.Activate = r.str()
		s.Deactivate = r.str()
		spec, _ := r.value(0).(map[string]any)
		s.Spec = spec
		s.Devices = r.strList()
		s.Pos = r.pos()
		n := r.count(len(r.b))
		s.Fields = make(map[string]Pos, n)
		for range n {
			k := r.str()
			s.Fields[k] = r.pos()
		}
		if s.Spec == nil {
			r.err = errEntry
		}
		e.res.service = s
	case 'i':
		n := r.count(len(r.b))
		for range n {
			d := &Device{}
			d.Name = r.str()
			d.Platform = r.str()
			d.Address = r.str()
			d.Port = int(r.int())
			d.Site = r.str()
			d.Role = r.str()
			d.Labels = r.strMap()
			d.Credentials.Username = r.str()
			d.Credentials.PasswordEnv = r.str()
			d.Credentials.PasswordFile = r.str()
			d.Credentials.KeyFile = r.str()
			d.Maintenance = r.bool()
			d.Pos = r.pos()
			if r.err != nil {
				break
			}
			e.res.devices = append(e.res.devices, d)
			e.res.deviceFields = append(e.res.deviceFields, r.str())
		}
		if e.res.devices == nil {
			// As devicesOf returns them: empty, never nil.
			e.res.devices, e.res.deviceFields = []*Device{}, []string{}
		}
	default:
		return e, errEntry
	}
	if r.err != nil || len(r.b) != 0 {
		return entry{}, errEntry
	}
	return e, nil
}

type decoder struct {
	b    string // what is left of the entry
	file string
	err  error
}

func (r *decoder) fail() { r.err, r.b = errEntry, "" }

func (r *decoder) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// uint reads a uvarint as binary.AppendUvarint writes it, refusing what
// binary.Uvarint refuses (too long, over 64 bits).
func (r *decoder) uint() uint64 {
	var x uint64
	var shift uint
	for i := 0; i < len(r.b) && i < binary.MaxVarintLen64; i++ {
		c := r.b[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				break
			}
			r.b = r.b[i+1:]
			return x | uint64(c)<<shift
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	r.fail()
	return 0
}

// int reads a varint as binary.AppendVarint writes it (zig-zag).
func (r *decoder) int() int64 {
	ux := r.uint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

// count reads a length of at most limit: a count of items, each of which
// takes at least a byte, can never exceed the bytes there were, which bounds
// what a damaged entry can make the decoder allocate.
func (r *decoder) count(limit int) int {
	x := r.uint()
	if x > uint64(limit) {
		r.fail()
		return 0
	}
	return int(x)
}

func (r *decoder) str() string {
	x := r.uint()
	if x > uint64(len(r.b)) {
		r.fail()
		return ""
	}
	n := int(x)
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}

func (r *decoder) bool() bool {
	switch r.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail()
	return false
}

func (r *decoder) pos() Pos {
	line := r.count(math.MaxInt32)
	col := r.count(math.MaxInt32)
	return Pos{File: r.file, Line: line, Col: col}
}

func (r *decoder) strMap() map[string]string {
	n := r.count(len(r.b) + 1)
	if n == 0 {
		return nil
	}
	m := make(map[string]string, n-1)
	for range n - 1 {
		k := r.str()
		m[k] = r.str()
	}
	return m
}

func (r *decoder) strList() []string {
	n := r.count(len(r.b) + 1)
	if n == 0 {
		return nil
	}
	l := make([]string, 0, n-1)
	for range n - 1 {
		l = append(l, r.str())
	}
	return l
}

func (r *decoder) value(depth int) any {
	if depth > maxValueDepth {
		r.fail()
		return nil
	}
	switch r.byte() {
	case tagNil:
		return nil
	case tagFalse:
		return false
	case tagTrue:
		return true
	case tagInt:
		return r.int()
	case tagFloat:
		if len(r.b) < 8 {
			r.fail()
			return nil
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64([]byte(r.b[:8])))
		r.b = r.b[8:]
		return f
	case tagString:
		return r.str()
	case tagList:
		n := r.count(len(r.b))
		l := make([]any, n)
		for i := range l {
			l[i] = r.value(depth + 1)
		}
		return l
	case tagMap:
		n := r.count(len(r.b))
		m := make(map[string]any, n)
		for range n {
			k := r.str()
			m[k] = r.value(depth + 1)
		}
		return m
	case tagNilList:
		return []any(nil)
	case tagNilMap:
		return map[string]any(nil)
	}
	r.fail()
	return nil
}

// The cross-document checks (crossCheck) are a function of the documents
// alone: their decoded content, the service types and the program. So when
// every file of a load came with a blob ID and without a diagnostic, the
// checks' verdict is remembered under a digest of the whole set (checkKey),
// and a later load of the same set, such as the base of a pull request that
// main's last CI run checked, looks it up instead of running them. Only a
// clean verdict is kept: a set with any diagnostic is checked every time,
// as a file with one is read every time. One changed byte in one file is
// another blob ID, so another key, and the checks really run.
//
// What else the checks read must be in the key: the types (typesDigest:
// everything of a type the checks look at) and the program (the cache's
// Version, cacheSalt, checkFormat). The one check that reads the machine,
// window (the time zone database), runs on every load.

// checkFormat changes whenever the cross-document checks change what they
// find; the cache's Version separates builds, this separates the checks
// within one (tests, benchmarks).
const checkFormat = 1

// checkPassed is the value of a clean verdict: anything else under a check
// key (a damaged or foreign value) is a miss, and the checks run.
var checkPassed = []byte("netrecon cross-check passed")

// checkKey returns the key of the cross-document checks' verdict on the
// documents of results, or false when the set cannot be named: a file
// without a blob ID (not a regular file, or not read), with a diagnostic, or
// that did not load.
//
// storable is false when a result came from Options.Previous, whose blob ID
// is the caller's word (ContentID, Unchanged) rather than what this load
// saw: a work tree edited while the planner read it would have the verdict
// on one set stored under another's key, for every later run to believe.
// Such a load only looks its verdict up; the set's own load (main's
// validate, for a pull request's base) stores it.
func (c *docCache) checkKey(jobs []job, results []result, types map[string]*ServiceType) (key string, named, storable bool) {
	docs := make([]string, len(results))
	storable = true
	for i, res := range results {
		if res.blob == "" || len(res.diags) > 0 || res.broken != nil || res.pending != nil {
			return "", false, false
		}
		storable = storable && !res.claimed
		role := "s"
		if jobs[i].inventory {
			role = "i"
		}
		docs[i] = role + "\x00" + jobs[i].file + "\x00" + res.blob
	}
	slices.Sort(docs)
	h := sha256.New()
	fmt.Fprintf(h, "netrecon cross-check %d\x00%d\x00", checkFormat, len(docs))
	for _, d := range docs {
		fmt.Fprintf(h, "%d\x00%s", len(d), d)
	}
	h.Write(typesDigest(types))
	b := append([]byte{'c'}, c.salt...)
	return string(h.Sum(b)), true, storable
}

// typesDigest hashes what the cross-document checks read of the service
// types: which kinds exist, built in or not, their folder and schema, the
// platforms they have templates for (deviceRefs), and where their specs
// hold addresses (addresses, brokenOf). Templates' text and the shape do
// not change what the checks find.
func typesDigest(types map[string]*ServiceType) []byte {
	h := sha256.New()
	for _, kind := range sortedTypeKinds(types) {
		t := types[kind]
		platforms := make([]string, 0, len(t.Template))
		for p := range t.Template {
			platforms = append(platforms, p)
		}
		slices.Sort(platforms)
		fmt.Fprintf(h, "%q %t %q %d:%s %q %#v\x00", kind, t.BuiltIn, t.Dir, len(t.Schema), t.Schema, platforms, t.Addresses)
	}
	return h.Sum(nil)
}

// checkedBefore reports whether the cache holds a clean verdict under key.
func (c *docCache) checkedBefore(key string) bool {
	v, ok := c.cache.Get(key)
	return ok && bytes.Equal(v, checkPassed)
}

// checked remembers a clean verdict under key.
func (c *docCache) checked(key string) {
	c.cache.Put(key, checkPassed)
}
