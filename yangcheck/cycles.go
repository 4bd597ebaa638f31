package yangcheck

import (
	"fmt"
	"slices"
	"strings"

	"github.com/openconfig/goyang/pkg/yang"
)

// dropCycles leaves out every module that defines an identity derived from
// itself, a typedef whose type is itself or a grouping that uses itself,
// directly or through others (RFC 7950 7.18.2, 7.3.1 and 7.12 forbid all
// three), and then what depends on it. goyang v1.6.3 checks none of them: it
// follows such a reference until the goroutine's stack overflows, a fatal
// error that no recover catches, so one module text from a device or a pull
// request would take validate or the daemon down.
func dropCycles(heads []*head, note func(string, ...any), s *Set) []*head {
	bad := refCycles(heads)
	if len(bad) == 0 {
		return heads
	}
	return dropBad(heads, bad, note, s)
}

// A refGraph holds the definitions (identities, typedefs, groupings) of a set
// of modules and what each one refers to. The edges are a superset of those
// goyang follows: a name is linked to every definition of that name it could
// resolve to (each enclosing scope, then the module's top level, which its
// submodules share), so no cycle goyang would follow is missed. Shadowing,
// the only way the superset could see a cycle goyang would not follow, is
// itself forbidden (RFC 7950 6.2.1).
type refGraph struct {
	defs  map[string]*refDef
	edges map[string][]string
}

type refDef struct {
	kind string // identity, typedef or grouping
	name string
	stmt *yang.Statement
	head *head
}

// refScope is one statement's typedefs and groupings, by name.
type refScope struct {
	id        string
	typedefs  map[string]string
	groupings map[string]string
}

// refCycles maps each head that defines a definition on a cycle to why.
func refCycles(heads []*head) map[*head]string {
	g := &refGraph{defs: map[string]*refDef{}, edges: map[string][]string{}}
	// The top level of a module is shared with its submodules: collect it
	// from all of them before resolving any name.
	tops := map[string]*refScope{}
	top := func(module string) *refScope {
		if tops[module] == nil {
			tops[module] = &refScope{id: "top", typedefs: map[string]string{}, groupings: map[string]string{}}
		}
		return tops[module]
	}
	for _, h := range heads {
		owner := ownerModule(h)
		t := top(owner)
		for _, sub := range h.stmt.SubStatements() {
			switch sub.Keyword {
			case "identity":
				g.define(refKey("identity", owner, "top", sub.Argument), "identity", sub, h)
			case "typedef":
				t.typedefs[sub.Argument] = g.define(refKey("typedef", owner, "top", sub.Argument), "typedef", sub, h)
			case "grouping":
				t.groupings[sub.Argument] = g.define(refKey("grouping", owner, "top", sub.Argument), "grouping", sub, h)
			}
		}
	}
	for _, h := range heads {
		w := &refWalker{g: g, h: h, owner: ownerModule(h), prefixes: prefixes(h), top: top}
		w.identities()
		w.walk(h.stmt, []*refScope{top(w.owner)}, "", "")
	}
	bad := map[*head]string{}
	for _, cycle := range g.cycles() {
		first := g.defs[cycle[0]]
		names := make([]string, 0, len(cycle)+1)
		for _, k := range cycle {
			names = append(names, g.defs[k].name)
		}
		names = append(names, first.name)
		why := fmt.Sprintf("%s: %s %q %s itself (%s)", first.stmt.Location(), first.kind, first.name, refVerb(first.kind), strings.Join(names, " → "))
		for _, k := range cycle {
			if h := g.defs[k].head; bad[h] == "" {
				bad[h] = why
			}
		}
	}
	return bad
}

func refVerb(kind string) string {
	switch kind {
	case "identity":
		return "is derived from"
	case "typedef":
		return "is typed by"
	}
	return "uses"
}

func refKey(kind, module, scope, name string) string {
	return kind + "|" + module + "|" + scope + "|" + name
}

func (g *refGraph) define(key, kind string, st *yang.Statement, h *head) string {
	if g.defs[key] == nil {
		g.defs[key] = &refDef{kind: kind, name: st.Argument, stmt: st, head: h}
	}
	return key
}

func (g *refGraph) link(from, to string) {
	if from != "" && g.defs[to] != nil {
		g.edges[from] = append(g.edges[from], to)
	}
}

// ownerModule is the module whose namespace h's definitions are in.
func ownerModule(h *head) string {
	if h.submodule {
		return h.belongsTo
	}
	return h.name
}

// prefixes maps each prefix h may use to the module it names.
func prefixes(h *head) map[string]string {
	p := map[string]string{}
	owner := ownerModule(h)
	for _, sub := range h.stmt.SubStatements() {
		switch sub.Keyword {
		case "prefix":
			p[sub.Argument] = owner
		case "belongs-to", "import":
			for _, d := range sub.SubStatements() {
				if d.Keyword == "prefix" {
					if sub.Keyword == "import" {
						p[d.Argument] = sub.Argument
					} else {
						p[d.Argument] = owner
					}
				}
			}
		}
	}
	return p
}

type refWalker struct {
	g        *refGraph
	h        *head
	owner    string
	prefixes map[string]string
	top      func(module string) *refScope
	scopes   int
}

// resolve splits a possibly prefixed name into the module it is in and the
// name; local is true when it may also name a definition of an enclosing
// scope (no prefix, or the module's own).
func (w *refWalker) resolve(ref string) (module, name string, local bool) {
	prefix, name, found := strings.Cut(ref, ":")
	if !found {
		return w.owner, prefix, true
	}
	module, ok := w.prefixes[prefix]
	if !ok {
		// An unknown prefix: goyang reports it; nothing to follow.
		return "", name, false
	}
	return module, name, module == w.owner
}

func (w *refWalker) identities() {
	for _, sub := range w.h.stmt.SubStatements() {
		if sub.Keyword != "identity" {
			continue
		}
		from := refKey("identity", w.owner, "top", sub.Argument)
		for _, b := range sub.SubStatements() {
			if b.Keyword != "base" {
				continue
			}
			if module, name, _ := w.resolve(b.Argument); module != "" {
				w.g.link(from, refKey("identity", module, "top", name))
			}
		}
	}
}

// walk visits st's substatements with scopes, the innermost last. typedef
// and grouping are the innermost definition of each kind st is inside ("" at
// none): a type reference links only from a typedef, a uses only from a
// grouping, the only references goyang expands recursively.
func (w *refWalker) walk(st *yang.Statement, scopes []*refScope, typedef, grouping string) {
	subs := st.SubStatements()
	if st != w.h.stmt {
		var sc *refScope
		for _, sub := range subs {
			if sub.Keyword != "typedef" && sub.Keyword != "grouping" {
				continue
			}
			if sc == nil {
				w.scopes++
				sc = &refScope{id: fmt.Sprintf("%s#%d", w.h.mod.File, w.scopes), typedefs: map[string]string{}, groupings: map[string]string{}}
				scopes = append(slices.Clip(scopes), sc)
			}
			key := w.g.define(refKey(sub.Keyword, w.owner, sc.id, sub.Argument), sub.Keyword, sub, w.h)
			if sub.Keyword == "typedef" {
				sc.typedefs[sub.Argument] = key
			} else {
				sc.groupings[sub.Argument] = key
			}
		}
	}
	for _, sub := range subs {
		td, gr := typedef, grouping
		switch sub.Keyword {
		case "typedef":
			td = w.lookup(scopes, sub.Argument, true, false)[0]
		case "grouping":
			gr = w.lookup(scopes, sub.Argument, false, false)[0]
		case "type":
			if typedef != "" {
				for _, to := range w.targets(scopes, "typedef", sub.Argument) {
					w.g.link(typedef, to)
				}
			}
		case "uses":
			if grouping != "" {
				for _, to := range w.targets(scopes, "grouping", sub.Argument) {
					w.g.link(grouping, to)
				}
			}
		}
		w.walk(sub, scopes, td, gr)
	}
}

// lookup is the keys of the definitions named name in scopes, innermost
// first; with all false, only the innermost.
func (w *refWalker) lookup(scopes []*refScope, name string, typedefs, all bool) []string {
	var out []string
	for i := len(scopes) - 1; i >= 0; i-- {
		m := scopes[i].groupings
		if typedefs {
			m = scopes[i].typedefs
		}
		if k, ok := m[name]; ok {
			out = append(out, k)
			if !all {
				break
			}
		}
	}
	if len(out) == 0 {
		out = append(out, "")
	}
	return out
}

// targets is every definition of kind that ref could name.
func (w *refWalker) targets(scopes []*refScope, kind, ref string) []string {
	module, name, local := w.resolve(ref)
	if module == "" {
		return nil
	}
	if local {
		return w.lookup(scopes, name, kind == "typedef", true)
	}
	return []string{refKey(kind, module, "top", name)}
}

// cycles is one cycle through each strongly connected part of g that has
// one, as definition keys in reference order; deterministic, and iterative so
// that a long chain of definitions cannot exhaust the stack either.
func (g *refGraph) cycles() [][]string {
	keys := make([]string, 0, len(g.defs))
	for k := range g.defs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	const (
		white = iota
		grey
		black
	)
	colour := map[string]int{}
	var out [][]string
	type frame struct {
		key  string
		next int
	}
	for _, start := range keys {
		if colour[start] != white {
			continue
		}
		stack := []frame{{key: start}}
		colour[start] = grey
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			edges := g.edges[f.key]
			if f.next == len(edges) {
				colour[f.key] = black
				stack = stack[:len(stack)-1]
				continue
			}
			to := edges[f.next]
			f.next++
			switch colour[to] {
			case white:
				colour[to] = grey
				stack = append(stack, frame{key: to})
			case grey:
				var cycle []string
				for i := len(stack) - 1; i >= 0; i-- {
					cycle = append(cycle, stack[i].key)
					if stack[i].key == to {
						break
					}
				}
				slices.Reverse(cycle)
				out = append(out, cycle)
			}
		}
	}
	return out
}
