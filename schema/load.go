package schema

import (
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/netrecon/netrecon/diag"
	"github.com/netrecon/netrecon/diskcache"
	"github.com/netrecon/netrecon/pool"
)

// DefaultMaxFileSize is the largest intent file Load reads unless told otherwise.
const DefaultMaxFileSize = 1 << 20

// Folders of the intent repo (docs/intent-format.md).
const (
	inventoryDir = "inventory"
	servicesDir  = "services"
)

// Options tune Load. The zero value is ready to use.
type Options struct {
	// MaxFileSize is the largest file Load reads, in bytes; 0 means
	// DefaultMaxFileSize. Sizes are checked before a file is read.
	MaxFileSize int64
	// Trusted, when set, vouches for files that were valid before (the
	// planner passes "unchanged since the base revision"). Inventory files and
	// services of built-in kinds it vouches for skip CUE unification, which is
	// most of Load's cost; the Intent is the same either way. Services of
	// user-defined kinds always go through CUE, which fills their defaults.
	// Cross-document checks always run on every file (or, with Cache, their
	// clean verdict on the same set is looked up). Trusted is called from
	// several goroutines at once.
	Trusted func(path string) bool
	// Workers bounds how many documents are validated at once; 0 means
	// runtime.GOMAXPROCS(0).
	Workers int
	// Inventory, when set, is called once the inventory files are loaded,
	// before any service is, with the service types and the devices, each
	// valid on its own (what only the whole repo can tell, such as a name
	// listed twice, is checked later); Load waits for it. A caller starts
	// there what needs only the devices, as a CLI run its sessions; the
	// intent may still turn out invalid. Not called when no device loaded.
	Inventory func(*Intent)
	// Previous and Unchanged let a second Load reuse the first one's work: a
	// file Unchanged vouches for (byte-for-byte the same as in the revision
	// Previous was loaded from) is neither read nor decoded; its devices or
	// service are taken from Previous. The planner loads head, then base
	// with Previous = head, so a pull request's unchanged files are decoded
	// once. Previous must have loaded without errors. Cross-document checks
	// still run on the whole result.
	Previous  *Intent
	Unchanged func(path string) bool
	// RepoDir, when set, is the repo's absolute folder on disk: credential
	// files (passwordFile, keyFile) inside it are refused, since a secret
	// must never be committed. fs.FS cannot tell where it lives.
	RepoDir string
	// Cache, when set, keeps each file's result across runs, keyed by the
	// file's path and content, the built-in schemas and, for a user-defined
	// kind, its schema (cache.go): a file a previous run saw is neither
	// parsed nor validated again. Only results without a diagnostic are
	// kept, and a result Trusted vouched for serves only loads that vouch
	// for the file too. The cross-document checks' verdict on the whole set
	// of files is kept too when they found nothing, keyed by every file's
	// path and content and by the types (cache.go, checkKey): a load of
	// exactly that set skips them; any other set is checked.
	// Load puts what it learned; the caller closes the cache.
	Cache *diskcache.Cache
	// ContentID, when set, gives a file's Git blob ID without reading it
	// (the planner has a commit's IDs from its tree), so that a cached file
	// is not even read. Without it, or for a file it does not know, the
	// file is read and hashed. Only used with Cache.
	ContentID func(path string) (blob string, ok bool)
	// Evaluator, when set, evaluates each user-defined service type (its
	// schema.cue and the instances of its kind) in place of this process:
	// the CLI and the daemon pass a Sandbox's, which bounds it in time and
	// memory. nil evaluates in-process, without bound. Built-in kinds are
	// always evaluated in-process.
	Evaluator Evaluator
}

func (o Options) check() (Options, Diagnostics) {
	var diags Diagnostics
	if o.MaxFileSize < 0 {
		diags = diags.Errorf(Pos{}, "", "invalid option: max file size %d is negative", o.MaxFileSize)
	}
	if o.RepoDir != "" && !filepath.IsAbs(o.RepoDir) {
		diags = diags.Errorf(Pos{}, "", "invalid option: repo folder %q is not absolute", o.RepoDir)
	}
	if o.Workers < 0 {
		diags = diags.Errorf(Pos{}, "", "invalid option: %d workers is negative", o.Workers)
	}
	if o.MaxFileSize == 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	if o.Workers == 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o, diags
}

// Load reads and validates the intent repo in fsys: inventory/*.yaml,
// services/**/*.yaml and service-types/<kind>/. Positions in diagnostics are
// slash-separated paths relative to the root of fsys.
//
// Load reports every problem it finds, in every file, sorted by position. The
// returned Intent is never nil; it holds what could be loaded, and is the
// intent of the repo only when the diagnostics have no error.
//
// fsys should be os.OpenRoot(dir).FS() or os.DirFS(dir); symbolic links that
// lead out of fsys are refused either way.
func Load(fsys fs.FS, opts Options) (*Intent, Diagnostics) {
	intent := &Intent{Types: builtinTypes()}
	opts, diags := opts.check()
	if diags.HasErrors() {
		return intent, diags
	}
	r := &repoFS{fsys: fsys, maxSize: opts.MaxFileSize}
	first, err := newValidator(nil)
	if err != nil {
		return intent, diags.Errorf(Pos{}, "", "internal error: %v", err)
	}

	types, broken, ds := loadTypes(r, first, opts.Evaluator != nil)
	diags = append(diags, ds...)
	first.types = types
	intent.Types = types

	invFiles, invExists, ds := r.listYAML(inventoryDir, false)
	diags = append(diags, ds...)
	if len(invFiles) == 0 && !ds.HasErrors() {
		what := "no inventory folder"
		if invExists {
			what = "no .yaml file in inventory/"
		}
		diags = diags.Append(Diagnostic{Severity: Error, Pos: Pos{File: inventoryDir},
			Summary: "missing inventory: " + what,
			Detail:  "add inventory/<name>.yaml listing the devices netrecon may configure"})
	}
	svcFiles, _, ds := r.listYAML(servicesDir, true)
	diags = append(diags, ds...)

	jobs := make([]job, 0, len(invFiles)+len(svcFiles))
	for _, f := range invFiles {
		jobs = append(jobs, job{file: f.name, typ: f.typ, inventory: true})
	}
	for _, f := range svcFiles {
		jobs = append(jobs, job{file: f.name, typ: f.typ})
	}
	var c *docCache
	if opts.Cache != nil {
		c = newDocCache(opts, types)
	}
	prev := previousResults(opts)
	var results []result
	if opts.Inventory == nil {
		results = runJobs(jobs, opts, first, types, broken, r, prev, c)
	} else {
		// The inventory first, on its own: the services are most of the
		// work, and what Inventory starts goes on meanwhile.
		inv := len(invFiles)
		results = runJobs(jobs[:inv], opts, first, types, broken, r, prev, c)
		var devs []*Device
		for _, res := range results {
			devs = append(devs, res.devices...)
		}
		if len(devs) > 0 {
			opts.Inventory(&Intent{Types: types, Devices: devs})
		}
		results = append(results, runJobs(jobs[inv:], opts, first, types, broken, r, prev, c)...)
	}
	if opts.Evaluator != nil {
		diags = append(diags, evaluateUserTypes(results, types, opts)...)
		// A cached document of a type the evaluator now refuses (its
		// budget, say) fails as the type's other documents do.
		for i, res := range results {
			if s := res.service; res.reused && s != nil && types[s.Kind] == nil {
				results[i] = result{diags: brokenType(s.Kind, s.FieldPos("kind"))}
			}
		}
	}
	if c != nil {
		c.store(results, jobs)
	}

	deviceField := make(map[*Device]string)
	var brokenDocs []brokenDoc
	for _, res := range results {
		diags = append(diags, res.diags...)
		if res.broken != nil {
			brokenDocs = append(brokenDocs, *res.broken)
		}
		intent.Devices = append(intent.Devices, res.devices...)
		for i, d := range res.devices {
			deviceField[d] = res.deviceFields[i]
		}
		if res.service != nil {
			intent.Services = append(intent.Services, res.service)
		}
	}
	// The cross-document checks' verdict on exactly this set of documents
	// may be known from an earlier run (checkKey).
	checkKey, named, storable := "", false, false
	if c != nil && len(diags) == 0 {
		checkKey, named, storable = c.checkKey(jobs, results, types)
	}
	passed := named && c.checkedBefore(checkKey)
	ds, followOns := crossCheck(intent, deviceField, brokenDocs, passed)
	if storable && !passed && len(ds) == 0 && len(followOns) == 0 {
		c.checked(checkKey)
	}
	diags = append(diags, ds...)
	intent.PrefixLists, ds = loadPrefixLists(r)
	diags = append(diags, ds...)
	diags = append(diags, missingPrefixLists(intent)...)
	if opts.RepoDir != "" {
		diags = append(diags, secretsOutside(intent.Devices, deviceField, opts.RepoDir)...)
	}
	if opts.Previous != nil && opts.Unchanged != nil && opts.Unchanged(IRRSettingsFile) {
		intent.IRR = opts.Previous.IRR
	} else {
		intent.IRR, ds = LoadIRRSettings(fsys)
		diags = append(diags, ds...)
	}
	diags = append(diags, checkIRR(intent, intent.IRR, opts.RepoDir)...)
	diags.Sort()
	return intent, group(diags, followOns)
}

// job is one file to load.
type job struct {
	file      string
	typ       fs.FileMode // as listed
	inventory bool
}

// result is what one file gave.
type result struct {
	devices      []*Device
	deviceFields []string // field path of each device in its file
	service      *Service
	diags        Diagnostics
	// pending is a document of a user-defined kind that Options.Evaluator
	// is still to evaluate, with its bytes.
	pending *document
	raw     []byte
	// broken describes a file that gave no service or no devices, for
	// the checks that would miss them (followon.go).
	broken *brokenDoc
	// note, set when Options.Cache is, says how to store this result once
	// final; reused marks a result taken from the cache or Previous.
	note   *cacheNote
	reused bool
	// blob is the Git blob ID of the content this result is of, when
	// Options.Cache is set and the file's content is known; "" otherwise.
	// claimed marks one the caller named (ContentID) for a result of
	// Previous, which this load did not see: see checkKey.
	blob    string
	claimed bool
}

// runJobs validates files on a bounded pool of workers, each with its own
// validator. Results keep the order of jobs, so Load's output does not depend
// on scheduling.
func runJobs(jobs []job, opts Options, first *validator, types map[string]*ServiceType, broken map[string]bool, r *repoFS, prev map[string]result, c *docCache) []result {
	results := make([]result, len(jobs))
	loaders := make([]*loader, min(opts.Workers, len(jobs)))
	pool.Pool{Limit: len(loaders)}.Run(context.Background(), len(jobs), func(_ context.Context, w, i int) {
		if loaders[w] == nil {
			v := first
			if w > 0 {
				var err error
				if v, err = newValidator(types); err != nil {
					// The built-in schemas compiled once already, so this
					// is a bug; the file gets it as its diagnostic.
					panic(err)
				}
			}
			loaders[w] = &loader{v: v, r: r, types: types, broken: broken, trusted: opts.Trusted, prev: prev, unchanged: opts.Unchanged, deferUser: opts.Evaluator != nil, cache: c}
			if opts.Previous != nil {
				loaders[w].prevTypes = opts.Previous.Types
			}
		}
		results[i] = loaders[w].load(jobs[i])
	}, func(i int, err error) {
		// A panic is a bug, never expected: one bad file must not stop the
		// whole load.
		results[i] = result{diags: Diagnostics{{Severity: Error, Pos: Pos{File: jobs[i].file},
			Summary: fmt.Sprintf("internal error while validating this file: %v", err.(*pool.PanicError).Value)}}}
	})
	return results
}

// loader validates single files with one validator.
type loader struct {
	v       *validator
	r       *repoFS
	types   map[string]*ServiceType
	broken  map[string]bool
	trusted func(string) bool
	// prev holds the results of a previous Load by file, prevTypes its
	// service types; unchanged says which files may take them.
	prev      map[string]result
	prevTypes map[string]*ServiceType
	unchanged func(string) bool
	// deferUser leaves documents of user-defined kinds to Options.Evaluator.
	deferUser bool
	cache     *docCache // nil without Options.Cache
}

// previousResults indexes Options.Previous by file, as results of its files.
func previousResults(opts Options) map[string]result {
	if opts.Previous == nil || opts.Unchanged == nil {
		return nil
	}
	prev := make(map[string]result)
	byFile := make(map[string][]*Device)
	for _, d := range opts.Previous.Devices {
		byFile[d.Pos.File] = append(byFile[d.Pos.File], d)
	}
	for file, devs := range byFile {
		// Intent.Devices is sorted by name; a file lists them in its own
		// order, which the field paths (devices[i]) follow.
		slices.SortFunc(devs, func(a, b *Device) int {
			return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
		})
		res := result{devices: devs}
		for i := range devs {
			res.deviceFields = append(res.deviceFields, "devices["+strconv.Itoa(i)+"]")
		}
		prev[file] = res
	}
	for _, svc := range opts.Previous.Services {
		prev[svc.Pos.File] = result{service: svc}
	}
	return prev
}

// load validates one file.
func (l *loader) load(j job) result {
	if l.prev != nil && l.unchanged(j.file) {
		if res, ok := l.prev[j.file]; ok && l.sameType(res) {
			res.reused = true
			if l.cache != nil && j.typ.IsRegular() {
				// Unchanged vouches that the content is the one Previous
				// was loaded from, and ContentID names it.
				res.blob, _ = l.cache.contentID(j.file)
				res.claimed = true
			}
			return res
		}
	}
	unread := &brokenDoc{cause: cause{file: j.file}, inventory: j.inventory, links: true}
	trusted := l.trusted != nil && l.trusted(j.file)
	// A file listed as regular has no link to resolve: its path and
	// content are all its result depends on.
	cacheable := l.cache != nil && j.typ.IsRegular()
	known := ""
	if cacheable {
		if id, ok := l.cache.contentID(j.file); ok {
			if res, ok := l.cache.lookup(l, j, id, trusted); ok {
				res.blob = id
				return res
			}
			known = id
		}
	}
	data, err := l.r.read(j.file, j.typ)
	if err != nil {
		return result{diags: Diagnostics{fileDiag(j.file, err)}, broken: unread}
	}
	var note *cacheNote
	if cacheable {
		// Stored under the ID of what was read, never of what the
		// caller said: the file may have changed since.
		note = &cacheNote{blob: blobID(data), size: len(data), validated: !trusted}
		if note.blob != known {
			if res, ok := l.cache.lookup(l, j, note.blob, trusted); ok {
				res.blob = note.blob
				return res
			}
		}
	}
	doc, diags := parseDocument(j.file, data)
	if diags.HasErrors() {
		return result{diags: diags, broken: unread}
	}
	var res result
	if j.inventory {
		res = l.inventory(doc, trusted)
	} else {
		res = l.service(doc, trusted)
	}
	switch {
	case res.pending != nil:
		res.raw = data
	case res.service == nil && !j.inventory:
		b := brokenDocOf(doc, l.types)
		res.broken = &b
	}
	if note != nil && (res.pending != nil || (res.service != nil && !isBuiltin(res.service.Kind))) {
		note.validated = true // user-defined kinds always go through CUE
	}
	res.note = note
	if note != nil {
		res.blob = note.blob
	}
	if note != nil && res.pending == nil {
		// Final already: stored here, on the worker, rather than by Load
		// after every file.
		l.cache.put(j, res)
		res.note = nil
	}
	return res
}

// sameType reports whether a previous result may stand: a document of a
// user-defined kind is only the same document under the same schema (a
// pull request that changes a type's schema.cue changes what its
// unchanged instances mean).
func (l *loader) sameType(prev result) bool {
	s := prev.service
	if s == nil || isBuiltin(s.Kind) {
		return true
	}
	old, now := l.prevTypes[s.Kind], l.types[s.Kind]
	return old != nil && now != nil && !l.broken[s.Kind] && old.Dir == now.Dir && old.Schema == now.Schema
}

func (l *loader) inventory(doc *document, trusted bool) result {
	var res result
	if !trusted {
		_, res.diags = l.v.check(l.v.inventory, doc, false)
	}
	// Devices of an inventory file with errors are kept: services naming them
	// would otherwise get a misleading "no such device" each.
	res.devices, res.deviceFields = devicesOf(doc)
	return res
}

func (l *loader) service(doc *document, trusted bool) result {
	var res result
	kindV, ok := doc.data["kind"]
	kind, isStr := kindV.(string)
	switch {
	case !ok:
		res.diags = res.diags.Errorf(doc.pos, "kind", "missing required field %q", "kind")
		return res
	case !isStr:
		res.diags = res.diags.Errorf(doc.lookup("kind"), "kind", "kind must be a string")
		return res
	}
	t, known := l.types[kind]
	switch {
	case l.broken[kind]:
		res.diags = brokenType(kind, doc.lookup("kind"))
		return res
	case !known:
		kinds := sortedTypeKinds(l.types)
		d := Diagnostic{Severity: Error, Pos: doc.lookup("kind"), Field: "kind",
			Summary: fmt.Sprintf("unknown kind %q", kind),
			Detail:  "known kinds are " + quotedList(kinds)}
		if hint := diag.DidYouMean(kind, kinds); hint != "" {
			d.Detail = hint + " Known kinds are " + quotedList(kinds)
		}
		if kind == "Inventory" {
			d.Detail = "Inventory documents belong in inventory/"
		}
		res.diags = res.diags.Append(d)
		return res
	}
	if t.BuiltIn {
		if !trusted {
			_, res.diags = l.v.check(l.v.kinds[kind], doc, false)
			if res.diags.HasErrors() {
				return res
			}
		}
		res.service = serviceOf(doc, builtinSpec(kind, doc))
		return res
	}
	if l.deferUser {
		res.pending = doc
		return res
	}
	spec, diags := l.userSpec(doc, kind)
	if diags.HasErrors() {
		res.diags = diags
		return res
	}
	res.service = serviceOf(doc, spec)
	return res
}

// userSpec unifies a document of a user-defined kind with its schema and
// returns its spec, the schema's defaults filled.
func (l *loader) userSpec(doc *document, kind string) (map[string]any, Diagnostics) {
	schema, ok := l.v.service(kind)
	if !ok {
		// loadTypes compiled this type already; only a bug gets here.
		return nil, Diagnostics{}.Errorf(doc.lookup("kind"), "kind", "internal error: service type %q does not compile", kind)
	}
	u, diags := l.v.check(schema, doc, true)
	if diags.HasErrors() {
		return nil, diags
	}
	spec, err := plain(u.LookupPath(cueSpecPath()))
	m, isMap := spec.(map[string]any)
	if err != nil || !isMap {
		return nil, Diagnostics{}.Errorf(doc.lookup("spec"), "spec", "cannot read spec: %v", err)
	}
	return m, diags
}

// evaluateUserTypes has Options.Evaluator evaluate every user-defined type
// with the pending documents of its kind, a bounded number at a time, and
// fills in their results. A type whose evaluation fails is taken out of
// types, and each of its documents says so.
func evaluateUserTypes(results []result, types map[string]*ServiceType, opts Options) Diagnostics {
	var kinds []string
	pending := make(map[string][]int) // kind → indexes into results
	for _, k := range sortedTypeKinds(types) {
		if !types[k].BuiltIn {
			kinds = append(kinds, k)
		}
	}
	for i, res := range results {
		if res.pending != nil {
			k := str(res.pending.data["kind"])
			pending[k] = append(pending[k], i)
		}
	}
	out := make([]TypeResult, len(kinds))
	pool.Pool{Limit: opts.Workers}.Run(context.Background(), len(kinds), func(_ context.Context, _, i int) {
		t := types[kinds[i]]
		req := TypeRequest{Kind: kinds[i], Dir: t.Dir, Schema: t.Schema}
		for _, j := range pending[kinds[i]] {
			req.Docs = append(req.Docs, DocSource{File: results[j].pending.file, Data: results[j].raw})
		}
		out[i] = opts.Evaluator(req)
	}, func(i int, err error) {
		out[i] = TypeResult{Diags: Diagnostics{{Severity: Error, Pos: Pos{File: typesDir + "/" + kinds[i]},
			Summary: fmt.Sprintf("internal error while evaluating this service type: %v", err.(*pool.PanicError).Value)}}}
	})
	var diags Diagnostics
	for i, k := range kinds {
		tr := out[i]
		diags = append(diags, tr.Diags...)
		broken := tr.Diags.HasErrors() || len(tr.Docs) != len(pending[k])
		if broken {
			delete(types, k)
		} else {
			types[k].Shape = tr.Shape
		}
		for n, j := range pending[k] {
			res := &results[j]
			doc := res.pending
			res.pending, res.raw = nil, nil
			switch {
			case broken:
				res.diags = append(res.diags, brokenType(k, doc.lookup("kind"))...)
				b := brokenDocOf(doc, types)
				res.broken = &b
			case tr.Docs[n].Diags.HasErrors():
				res.diags = append(res.diags, tr.Docs[n].Diags...)
				b := brokenDocOf(doc, types)
				res.broken = &b
			default:
				res.diags = append(res.diags, tr.Docs[n].Diags...)
				res.service = serviceOf(doc, tr.Docs[n].Spec)
			}
		}
	}
	return diags
}

// brokenType is the diagnostic of a document whose service type is invalid.
func brokenType(kind string, at Pos) Diagnostics {
	return Diagnostics{{Severity: Error, Pos: at, Field: "kind",
		Summary: fmt.Sprintf("service type %q is invalid", kind),
		Detail:  "fix the errors reported in " + typesDir + "/" + kind}}
}

// secretsOutside refuses credential files inside the repo folder.
func secretsOutside(devices []*Device, field map[*Device]string, repoDir string) Diagnostics {
	var diags Diagnostics
	repo := filepath.Clean(repoDir)
	for _, d := range devices {
		for name, p := range map[string]string{"passwordFile": d.Credentials.PasswordFile, "keyFile": d.Credentials.KeyFile} {
			if p == "" {
				continue
			}
			if rel, err := filepath.Rel(repo, filepath.Clean(p)); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				diags = diags.Append(Diagnostic{Severity: Error, Pos: d.Pos, Field: joinField(field[d], "credentials."+name),
					Summary: fmt.Sprintf("%s %s of device %q lies inside the repository", name, p, d.Name),
					Detail:  "secrets never live in the intent repo; keep the file elsewhere on the host"})
			}
		}
	}
	return diags
}

func sortedTypeKinds(types map[string]*ServiceType) []string {
	ks := make([]string, 0, len(types))
	for k := range types {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func quotedList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
