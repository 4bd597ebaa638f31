package yangcheck

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/netrecon/netrecon/pool"
)

// ErrNoSchema is what a Source's GetSchema wraps when the device has no such
// schema: Fetch goes on with the device's other modules. Any other error
// ends the device's fetch.
var ErrNoSchema = errors.New("no such schema")

// SchemaInfo is one schema as a device lists it in /netconf-state/schemas
// (RFC 6022 2.1.3).
type SchemaInfo struct {
	Identifier string
	Version    string
	Format     string // "yang", "yin", ...
	Namespace  string
	NETCONF    bool // <get-schema> serves it (location NETCONF)
}

// Source is one device as Fetch reads it. cmd/netrecon adapts
// drivers/netconf's Session to it.
type Source interface {
	// Capabilities are the URIs of the device's hello.
	Capabilities() []string
	Schemas(ctx context.Context) ([]SchemaInfo, error)
	// GetSchema returns the YANG text of a schema; version "" leaves the
	// choice to the device.
	GetSchema(ctx context.Context, identifier, version string) (string, error)
}

// Opener opens a Source to a device of the inventory; done ends the session.
type Opener func(ctx context.Context, device string) (src Source, done func(), err error)

// FetchOptions say what Fetch reads.
type FetchOptions struct {
	Platform    string
	Devices     []string // the platform's devices to read
	Open        Opener
	Concurrency int // devices read at once; 0 means 4
	// Have are module texts already in the repo, by name@revision (an
	// earlier fetch's Platform.Files, keyed without ".yang"). A module
	// there is not read again: a revision names one text (RFC 7950 7.1.9),
	// refetching costs the devices requests, and yuma123 netconfd 2.13
	// crashes on the second <get-schema> of ietf-netconf it serves.
	Have map[string]string
}

// FetchResult is what Fetch found.
type FetchResult struct {
	// Platform is the platform's modules, for Write; nil when no device
	// could be read.
	Platform *Platform
	// Failed are the devices that could not be read, with why. They are not
	// in the index: validate checks them against what every fetched device
	// has, and says so.
	Failed map[string]error
	// Disagreements say where the platform's devices differ: a module on
	// some devices only, in different revisions, or with other features or
	// deviations. The index records each device's own modules, and validate
	// checks each device against them; a platform's devices usually should
	// not differ, so a person should know.
	Disagreements []string
	// Warnings are modules a device advertised but would not hand out, and
	// the like: what the index lacks.
	Warnings []string
}

// Fetch reads the modules of the platform's devices: each device's hello
// (its module capabilities, RFC 6020 5.6.4) and its schema list (RFC 6022),
// then every YANG schema it serves with <get-schema>, and the submodules and
// imports those name even when the list leaves them out (yuma123 netconfd
// lists no submodule, yet serves them). A module already read from another
// device is not read again. A device that fails is reported in Failed and
// the others are still read.
func Fetch(ctx context.Context, o FetchOptions) *FetchResult {
	f := &fetcher{opts: o, texts: map[string]*fetched{}, devices: map[string]*deviceModules{}}
	res := &FetchResult{Failed: map[string]error{}}
	limit := o.Concurrency
	if limit <= 0 {
		limit = 4
	}
	var mu sync.Mutex
	pool.Pool{Limit: limit}.Run(ctx, len(o.Devices), func(ctx context.Context, _, i int) {
		name := o.Devices[i]
		dm, warns, err := f.device(ctx, name)
		mu.Lock()
		defer mu.Unlock()
		res.Warnings = append(res.Warnings, warns...)
		if err != nil {
			res.Failed[name] = err
			return
		}
		f.devices[name] = dm
	}, func(i int, err error) {
		mu.Lock()
		defer mu.Unlock()
		res.Failed[o.Devices[i]] = fmt.Errorf("%s: internal error: %v", o.Devices[i], err.(*pool.PanicError).Value)
	})
	slices.Sort(res.Warnings)
	if len(f.devices) == 0 {
		return res
	}
	p, warns := f.platform()
	res.Platform = p
	res.Warnings = append(res.Warnings, warns...)
	res.Disagreements = disagreements(p.Index)
	return res
}

// fetched is one module text and what its header says.
type fetched struct {
	head *head
	err  error
	done chan struct{} // closed once head or err is set
}

type deviceModules struct {
	hello  map[string]capModule // by module name
	listed map[string]SchemaInfo
	// needs are the module keys (name@revision) the device has: what it
	// lists, what its hello names, and what those include and import.
	needs map[string]bool
}

// capModule is a module capability of a hello (RFC 6020 5.6.4).
type capModule struct {
	name, revision, namespace string
	features, deviations      []string
}

// parseModuleCaps reads the module capabilities among a hello's URIs:
// namespace?module=NAME&revision=DATE&features=...&deviations=...
func parseModuleCaps(caps []string) map[string]capModule {
	out := map[string]capModule{}
	for _, c := range caps {
		ns, query, ok := strings.Cut(c, "?")
		if !ok {
			continue
		}
		q, err := url.ParseQuery(query)
		if err != nil || q.Get("module") == "" {
			continue
		}
		m := capModule{name: q.Get("module"), revision: q.Get("revision"), namespace: ns}
		if v := q.Get("features"); v != "" {
			m.features = strings.Split(v, ",")
		}
		if v := q.Get("deviations"); v != "" {
			m.deviations = strings.Split(v, ",")
		}
		out[m.name] = m
	}
	return out
}

type fetcher struct {
	opts    FetchOptions
	mu      sync.Mutex
	texts   map[string]*fetched // by name@revision as asked
	devices map[string]*deviceModules
}

// device reads one device.
func (f *fetcher) device(ctx context.Context, name string) (*deviceModules, []string, error) {
	src, done, err := f.opts.Open(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	defer done()
	dm := &deviceModules{hello: parseModuleCaps(src.Capabilities()), listed: map[string]SchemaInfo{}, needs: map[string]bool{}}
	list, err := src.Schemas(ctx)
	if err != nil {
		return nil, nil, err
	}
	var queue [][2]string
	for _, sc := range list {
		if sc.Format != "" && sc.Format != "yang" {
			continue
		}
		dm.listed[sc.Identifier] = sc
		if sc.NETCONF {
			queue = append(queue, [2]string{sc.Identifier, sc.Version})
		}
	}
	for _, m := range dm.hello {
		if _, ok := dm.listed[m.name]; !ok {
			queue = append(queue, [2]string{m.name, m.revision})
		}
	}
	var warns []string
	for len(queue) > 0 {
		id, ver := queue[0][0], queue[0][1]
		queue = queue[1:]
		key := fullName(id, ver)
		if dm.needs[key] {
			continue
		}
		dm.needs[key] = true
		h, err := f.text(ctx, src, id, ver)
		var bad *badTextError
		switch {
		case errors.Is(err, ErrNoSchema) || errors.As(err, &bad):
			warns = append(warns, fmt.Sprintf("%s: module %s left out of the index: %v", name, key, err))
			continue
		case err != nil:
			return nil, warns, err
		}
		if h.revision != ver {
			dm.needs[fullName(id, h.revision)] = true
		}
		for _, dep := range append(slices.Clone(h.includes), h.imports...) {
			if _, ok := dm.listed[dep]; ok {
				continue // fetched anyway, in its listed version
			}
			if m, ok := dm.hello[dep]; ok {
				queue = append(queue, [2]string{dep, m.revision})
				continue
			}
			queue = append(queue, [2]string{dep, h.depRevision(dep)})
		}
	}
	return dm, warns, nil
}

// text returns the header of id@ver, reading it from src unless another
// device's worker read it, or is reading it.
func (f *fetcher) text(ctx context.Context, src Source, id, ver string) (*head, error) {
	key := fullName(id, ver)
	f.mu.Lock()
	t, ok := f.texts[key]
	if !ok {
		t = &fetched{done: make(chan struct{})}
		f.texts[key] = t
	}
	f.mu.Unlock()
	if ok {
		select {
		case <-t.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		var bad *badTextError
		if t.err == nil || errors.Is(t.err, ErrNoSchema) || errors.As(t.err, &bad) {
			return t.head, t.err
		}
		// The other device failed for itself (its session died): try on
		// this one.
		return f.read(ctx, src, id, ver, &fetched{done: make(chan struct{})})
	}
	return f.read(ctx, src, id, ver, t)
}

func (f *fetcher) read(ctx context.Context, src Source, id, ver string, t *fetched) (*head, error) {
	defer close(t.done)
	text, ok := "", false
	if ver != "" {
		text, ok = f.opts.Have[fullName(id, ver)]
	}
	if !ok {
		var err error
		if text, err = src.GetSchema(ctx, id, ver); err != nil {
			t.err = err
			return nil, err
		}
	}
	h, err := scan(Module{Name: id, Revision: ver, Text: text, File: fullName(id, ver) + ".yang"})
	if err != nil {
		t.err = &badTextError{key: fullName(id, ver), err: err}
		return nil, t.err
	}
	t.head = h
	return h, nil
}

// depRevision is the revision-date an import or include of h names, "" for
// none.
func (h *head) depRevision(dep string) string { return h.depRevisions[dep] }

// platform builds the index from what the devices have.
func (f *fetcher) platform() (*Platform, []string) {
	var warns []string
	p := &Platform{Index: Index{Platform: f.opts.Platform}, Files: map[string]string{}}
	names := make([]string, 0, len(f.devices))
	for n := range f.devices {
		names = append(names, n)
	}
	slices.Sort(names)
	p.Index.Devices = names

	// The texts by the module's real name@revision (a device asked without
	// a revision gets the one the text declares).
	texts := map[string]*head{}
	for _, t := range f.texts {
		if t.head != nil {
			texts[fullName(t.head.name, t.head.revision)] = t.head
		}
	}
	type variant struct {
		m       IndexModule
		devices []string
	}
	variants := map[string]*variant{}
	for _, dev := range names {
		dm := f.devices[dev]
		for key := range dm.needs {
			h := texts[key]
			if h == nil {
				continue // not served: warned about when reading
			}
			m := IndexModule{Name: h.name, Revision: h.revision, Namespace: h.namespace, Submodule: h.submodule}
			if c, ok := dm.hello[h.name]; ok && c.revision == h.revision {
				m.Advertised, m.Features, m.Deviations = true, slices.Sorted(slices.Values(c.features)), slices.Sorted(slices.Values(c.deviations))
			}
			m.File = fullName(h.name, h.revision) + ".yang"
			if !validName.MatchString(m.File) {
				warns = append(warns, fmt.Sprintf("%s: module name %q cannot be a file name: left out", dev, h.name))
				continue
			}
			vk := fmt.Sprintf("%s|%v|%v|%v", m.key(), m.Advertised, m.Features, m.Deviations)
			v := variants[vk]
			if v == nil {
				v = &variant{m: m}
				variants[vk] = v
			}
			if !slices.Contains(v.devices, dev) {
				v.devices = append(v.devices, dev)
			}
			p.Files[m.File] = h.mod.Text
		}
	}
	for _, v := range variants {
		m := v.m
		if len(v.devices) < len(names) {
			m.Devices = slices.Sorted(slices.Values(v.devices))
		}
		p.Index.Modules = append(p.Index.Modules, m)
	}
	slices.SortFunc(p.Index.Modules, func(a, b IndexModule) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Revision, b.Revision), cmp.Compare(strings.Join(a.Devices, ","), strings.Join(b.Devices, ",")))
	})
	slices.Sort(warns)
	return p, warns
}

// disagreements describes where the index's devices differ, one line per
// module name, sorted.
func disagreements(idx Index) []string {
	byName := map[string][]IndexModule{}
	for _, m := range idx.Modules {
		byName[m.Name] = append(byName[m.Name], m)
	}
	var out []string
	for name, ms := range byName {
		if len(ms) == 1 && len(ms[0].Devices) == 0 {
			continue
		}
		var parts []string
		covered := map[string]bool{}
		for _, m := range ms {
			devs := m.Devices
			if len(devs) == 0 {
				devs = idx.Devices
			}
			for _, d := range devs {
				covered[d] = true
			}
			what := m.key()
			if len(m.Features) > 0 {
				what += " with features " + strings.Join(m.Features, ",")
			}
			if len(m.Deviations) > 0 {
				what += " with deviations " + strings.Join(m.Deviations, ",")
			}
			parts = append(parts, fmt.Sprintf("%s on %s", what, strings.Join(devs, ", ")))
		}
		var missing []string
		for _, d := range idx.Devices {
			if !covered[d] {
				missing = append(missing, d)
			}
		}
		if len(missing) > 0 {
			parts = append(parts, "absent on "+strings.Join(missing, ", "))
		}
		slices.Sort(parts)
		out = append(out, fmt.Sprintf("%s: %s", name, strings.Join(parts, "; ")))
	}
	slices.Sort(out)
	return out
}

// badTextError is a schema text that does not read as a YANG module.
type badTextError struct {
	key string
	err error
}

func (e *badTextError) Error() string {
	return fmt.Sprintf("get-schema %s: the text is not a YANG module: %v", e.key, e.err)
}
