package yangcheck

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/openconfig/goyang/pkg/yang"
)

// Module is the text of one YANG module or submodule.
type Module struct {
	Name     string
	Revision string // "" when the module has none
	Text     string
	File     string // where the text was read, for messages
}

// Features says which features of which modules a device advertises, by
// module name. A module missing from the map has all its features enabled
// (the device did not say); an empty list enables none.
type Features map[string][]string

// Set is a device's modules, compiled for Check: the schema tree keyed by
// namespace and name, built once and then only read, so one Set serves any
// number of trees and goroutines.
type Set struct {
	top     map[qname]*Node
	modules map[string]*moduleInfo // by namespace
	byName  map[string]*moduleInfo
	// failed are the modules given to Compile that did not load, by
	// namespace when it is known, with the reason.
	failed map[string]string
	notes  []string
}

type moduleInfo struct {
	name, revision, namespace, prefix string
}

// qname is an element's identity in XML: its namespace and local name.
type qname struct{ space, name string }

// Notes says what Compile could not take in: modules that did not load and
// why, patterns that could not be translated (and so are not checked).
// Sorted.
func (s *Set) Notes() []string { return slices.Clone(s.notes) }

// Modules lists the modules the Set holds, as name@revision, sorted.
func (s *Set) Modules() []string {
	var out []string
	for _, m := range s.byName {
		out = append(out, fullName(m.name, m.revision))
	}
	slices.Sort(out)
	return out
}

func fullName(name, revision string) string {
	if revision == "" {
		return name
	}
	return name + "@" + revision
}

// Compile parses mods with goyang and builds their schema tree. It never
// fails as a whole: a module that does not parse, that imports or includes a
// module not among mods, or that goyang cannot process is left out and named
// in Notes, and the others are compiled without it. goyang is given only the
// texts in mods: a module whose imports are all present never makes it look
// for files.
func Compile(mods []Module, features Features) *Set {
	s := &Set{top: map[qname]*Node{}, modules: map[string]*moduleInfo{}, byName: map[string]*moduleInfo{}, failed: map[string]string{}}
	notes := map[string]bool{}
	note := func(format string, args ...any) { notes[fmt.Sprintf(format, args...)] = true }

	heads := scanModules(mods, note, s)
	keep := dropCycles(closure(heads, note, s), note, s)
	ms, entries := processAll(keep, note, s)
	if ms != nil {
		c := &compiler{set: s, features: features, inverted: invertedPatterns(keep), note: note}
		for _, e := range entries {
			c.module(e)
		}
	}
	s.notes = slices.Sorted(maps.Keys(notes))
	return s
}

// head is what scanModules reads from a module's statements before goyang
// builds anything: enough to know whether its dependencies are there.
type head struct {
	mod       Module
	text      string // what goyang reads: mod.Text, or its rewrite (liftUsesAugments)
	submodule bool
	name      string
	namespace string
	prefix    string
	belongsTo string
	revision  string
	imports   []string
	includes  []string
	// depRevisions are the revision-dates imports and includes name.
	depRevisions map[string]string
	stmt         *yang.Statement // the module's statement, as parsed
}

// scanModules parses each text's statements (goyang's parser only: no
// import is resolved yet) and reads its header.
func scanModules(mods []Module, note func(string, ...any), s *Set) []*head {
	var out []*head
	seen := map[string]bool{}
	for _, m := range mods {
		h, err := scan(m)
		if err != nil {
			note("%s: not loaded: %v", m.File, err)
			continue
		}
		text, lifted := liftUsesAugments(m.Text, h.stmt)
		h.text = text
		for _, l := range lifted {
			note("%s", l)
		}
		key := h.name + "@" + h.revision
		if seen[key] {
			note("%s: not loaded: %s is given twice", m.File, fullName(h.name, h.revision))
			continue
		}
		seen[key] = true
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b *head) int {
		return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.revision, b.revision))
	})
	return out
}

func scan(m Module) (h *head, err error) {
	defer func() {
		// goyang is third-party code fed device-supplied text: whatever it
		// does with it must not take validate down.
		if r := recover(); r != nil {
			h, err = nil, fmt.Errorf("the YANG parser failed: %v", r)
		}
	}()
	ss, err := yang.Parse(m.Text, m.File)
	if err != nil {
		return nil, oneLine(err)
	}
	if len(ss) != 1 {
		return nil, fmt.Errorf("want one module or submodule, found %d statements", len(ss))
	}
	st := ss[0]
	if deep := tooDeep(st); deep != nil {
		return nil, fmt.Errorf("%s: statements nested more than %d deep", deep.Location(), maxDepth)
	}
	h = &head{mod: m, name: st.Argument, stmt: st}
	switch st.Keyword {
	case "module":
	case "submodule":
		h.submodule = true
	default:
		return nil, fmt.Errorf("want a module or submodule, found %q", st.Keyword)
	}
	if h.name == "" {
		return nil, fmt.Errorf("the %s has no name", st.Keyword)
	}
	for _, sub := range st.SubStatements() {
		switch sub.Keyword {
		case "namespace":
			h.namespace = sub.Argument
		case "prefix":
			h.prefix = sub.Argument
		case "belongs-to":
			h.belongsTo = sub.Argument
		case "revision":
			if sub.Argument > h.revision {
				h.revision = sub.Argument
			}
		case "import", "include":
			if sub.Keyword == "import" {
				h.imports = append(h.imports, sub.Argument)
			} else {
				h.includes = append(h.includes, sub.Argument)
			}
			for _, d := range sub.SubStatements() {
				if d.Keyword == "revision-date" {
					if h.depRevisions == nil {
						h.depRevisions = map[string]string{}
					}
					h.depRevisions[sub.Argument] = d.Argument
				}
			}
		}
	}
	if m.Name != "" && m.Name != h.name {
		return nil, fmt.Errorf("the file holds %s %q, not %q", st.Keyword, h.name, m.Name)
	}
	if m.Revision != "" && m.Revision != h.revision {
		return nil, fmt.Errorf("the file's newest revision is %q, not %q", h.revision, m.Revision)
	}
	return h, nil
}

// maxDepth bounds how deep a module's statements may nest. Published
// modules stay far below it (tens of levels); compiling a module grows much
// faster than its depth (8,000 nested containers: seconds), so a module text
// from a device or a pull request must not be allowed any depth.
const maxDepth = 256

// tooDeep is the first statement nested deeper than maxDepth in st, or nil.
// Iterative: the depth is what is in question.
func tooDeep(st *yang.Statement) *yang.Statement {
	type item struct {
		st    *yang.Statement
		depth int
	}
	stack := []item{{st, 0}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.depth > maxDepth {
			return it.st
		}
		for _, sub := range it.st.SubStatements() {
			stack = append(stack, item{sub, it.depth + 1})
		}
	}
	return nil
}

// closure drops, until none is left to drop, every module whose imports or
// includes are not among the others: goyang would otherwise look for them
// as files on disk.
func closure(heads []*head, note func(string, ...any), s *Set) []*head {
	for {
		modules, submodules := map[string]bool{}, map[string]bool{}
		for _, h := range heads {
			if h.submodule {
				submodules[h.name] = true
			} else {
				modules[h.name] = true
			}
		}
		var keep []*head
		for _, h := range heads {
			var why string
			for _, i := range h.imports {
				if !modules[i] {
					why = fmt.Sprintf("it imports %s, which is not among the modules", i)
					break
				}
			}
			for _, i := range h.includes {
				if why == "" && !submodules[i] {
					why = fmt.Sprintf("it includes %s, which is not among the modules", i)
				}
			}
			if why == "" && h.submodule && !modules[h.belongsTo] {
				why = fmt.Sprintf("it belongs to %s, which is not among the modules", h.belongsTo)
			}
			if why != "" {
				drop(h, why, note, s)
				continue
			}
			keep = append(keep, h)
		}
		if len(keep) == len(heads) {
			return keep
		}
		heads = keep
	}
}

func drop(h *head, why string, note func(string, ...any), s *Set) {
	note("%s: %s not loaded: %s", h.mod.File, fullName(h.name, h.revision), why)
	if h.namespace != "" {
		s.failed[h.namespace] = fmt.Sprintf("module %s is in the repo but did not load: %s", h.name, why)
	}
}

// processAll runs goyang over heads; a module goyang reports an error for
// is dropped and the rest processed again, so one bad module costs only
// itself (and what depends on it).
func processAll(heads []*head, note func(string, ...any), s *Set) (ms *yang.Modules, entries []*yang.Entry) {
	for attempt := 0; attempt <= len(heads); attempt++ {
		var bad map[*head]string
		ms, entries, bad = process(heads)
		if len(bad) == 0 {
			for _, h := range heads {
				if !h.submodule {
					s.byName[h.name] = &moduleInfo{name: h.name, revision: h.revision, namespace: h.namespace, prefix: h.prefix}
					s.modules[h.namespace] = s.byName[h.name]
				}
			}
			return ms, entries
		}
		heads = dropBad(heads, bad, note, s)
	}
	note("the modules could not be processed")
	return nil, nil
}

// dropBad leaves out the heads bad names (with why), then what depends on
// them.
func dropBad(heads []*head, bad map[*head]string, note func(string, ...any), s *Set) []*head {
	var keep []*head
	for _, h := range heads {
		if why, ok := bad[h]; ok {
			drop(h, why, note, s)
			continue
		}
		keep = append(keep, h)
	}
	return closure(keep, note, s)
}

// process is one goyang run. bad maps each module an error names (by its
// file) to that error; an error naming no module given fails them all.
func process(heads []*head) (ms *yang.Modules, entries []*yang.Entry, bad map[*head]string) {
	byFile := map[string]*head{}
	for _, h := range heads {
		byFile[h.mod.File] = h
	}
	blame := func(err error) {
		if bad == nil {
			bad = map[*head]string{}
		}
		msg := oneLine(err).Error()
		found := false
		for f, h := range byFile {
			if strings.Contains(msg, f+":") || strings.HasPrefix(msg, f) {
				if _, ok := bad[h]; !ok {
					bad[h] = msg
				}
				found = true
			}
		}
		if !found {
			for _, h := range heads {
				if _, ok := bad[h]; !ok {
					bad[h] = msg
				}
			}
		}
	}
	defer func() {
		if r := recover(); r != nil {
			ms, entries = nil, nil
			blame(fmt.Errorf("the YANG compiler failed: %v", r))
		}
	}()
	ms = yang.NewModules()
	for _, h := range heads {
		// goyang's parse errors do not always name the file ("augment:
		// already set"); here the module is known.
		if err := ms.Parse(h.text, h.mod.File); err != nil {
			if bad == nil {
				bad = map[*head]string{}
			}
			bad[h] = oneLine(err).Error()
		}
	}
	if bad != nil {
		return nil, nil, bad
	}
	for _, err := range ms.Process() {
		blame(err)
	}
	if bad != nil {
		return nil, nil, bad
	}
	for _, h := range heads {
		if h.submodule {
			continue
		}
		m := ms.Modules[h.name+"@"+h.revision]
		if h.revision == "" {
			m = ms.Modules[h.name]
		}
		if m == nil {
			blame(fmt.Errorf("%s: module %s is missing after processing", h.mod.File, h.name))
			continue
		}
		entries = append(entries, yang.ToEntry(m))
	}
	return ms, entries, bad
}

// oneLine keeps the first line of goyang's (sometimes multi-line) errors.
func oneLine(err error) error {
	msg := strings.TrimSpace(err.Error())
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return fmt.Errorf("%s", msg)
}

// invertedPatterns collects the patterns declared with modifier
// invert-match (RFC 7950 9.4.6): goyang's resolved types keep only the
// pattern strings, not the modifier.
func invertedPatterns(heads []*head) map[string]bool {
	out := map[string]bool{}
	for _, h := range heads {
		var walk func(st *yang.Statement)
		walk = func(st *yang.Statement) {
			for _, sub := range st.SubStatements() {
				if sub.Keyword == "pattern" {
					for _, m := range sub.SubStatements() {
						if m.Keyword == "modifier" && m.Argument == "invert-match" {
							out[sub.Argument] = true
						}
					}
				}
				walk(sub)
			}
		}
		walk(h.stmt)
	}
	return out
}
