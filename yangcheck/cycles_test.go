package yangcheck

import (
	"fmt"
	"strings"
	"testing"
)

// TestCompileRefusesCycles: each of these made goyang recurse until the
// stack overflowed (a fatal error: the test binary died, as FuzzCompile's
// worker did in CI). Now the module is left out with a note naming the
// cycle, and the others still load.
func TestCompileRefusesCycles(t *testing.T) {
	const hdr = `module x { namespace "urn:x"; prefix x; `
	for _, c := range []struct {
		name string
		mods []string
		want string // in the notes
	}{
		{"identity based on itself", []string{hdr + `identity a { base a; } }`}, `x.yang:1:41: identity "a" is derived from itself (a → a)`},
		{"identities based on each other", []string{hdr + `identity a { base b; } identity b { base a; } }`}, `identity "a" is derived from itself (a → b → a)`},
		{"an identity given twice, once based on itself", []string{hdr + `identity a; identity a { base x:a; } }`}, `identity "a" is derived from itself`},
		{"typedefs typed by each other", []string{hdr + `typedef a { type b; } typedef b { type a; } leaf l { type a; } }`}, `typedef "a" is typed by itself (a → b → a)`},
		{"a typedef in a union of itself", []string{hdr + `typedef a { type union { type a; type string; } } }`}, `typedef "a" is typed by itself`},
		{"a typedef inside a container", []string{hdr + `container c { typedef t { type t; } leaf l { type t; } } }`}, `typedef "t" is typed by itself`},
		{"a grouping that uses itself", []string{hdr + `grouping g { container c { uses g; } } uses g; }`}, `grouping "g" uses itself (g → g)`},
		{"an unused grouping that uses itself", []string{hdr + `grouping g { uses g; } }`}, `grouping "g" uses itself`},
		{"groupings that use each other", []string{hdr + `grouping g { uses h; } grouping h { uses g; } }`}, `grouping "g" uses itself (g → h → g)`},
		{"identities across modules", []string{
			`module x { namespace "urn:x"; prefix x; import y { prefix y; } identity i { base y:j; } }`,
			`module y { namespace "urn:y"; prefix y; import x { prefix x; } identity j { base x:i; } }`,
		}, `identity "i" is derived from itself (i → j → i)`},
		{"a module and its submodule", []string{
			`module x { namespace "urn:x"; prefix x; include s; identity i { base j; } }`,
			`submodule s { belongs-to x { prefix x; } identity j { base x:i; } }`,
		}, `identity "i" is derived from itself (i → j → i)`},
		{"groupings across modules", []string{
			`module x { namespace "urn:x"; prefix x; import y { prefix y; } grouping g { uses y:h; } }`,
			`module y { namespace "urn:y"; prefix y; import x { prefix x; } grouping h { uses x:g; } }`,
		}, `grouping "g" uses itself (g → h → g)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			mods := []Module{{Text: `module ok { namespace "urn:ok"; prefix ok; leaf l { type string; } }`, File: "ok.yang"}}
			for i, m := range c.mods {
				mods = append(mods, Module{Text: m, File: fmt.Sprintf("%c.yang", 'x'+i)})
			}
			s := Compile(mods, nil)
			notes := strings.Join(s.Notes(), "\n")
			if !strings.Contains(notes, c.want) {
				t.Errorf("notes %q, want %q", notes, c.want)
			}
			if got := s.Modules(); len(got) != 1 || got[0] != "ok" {
				t.Errorf("modules %q, want only ok", got)
			}
		})
	}
}

// TestCompileKeepsWhatIsNoCycle: names reused in sibling scopes, a typedef
// of a typedef, a grouping using another, the same name as an identity, a
// typedef and a grouping, and a long chain are not cycles.
func TestCompileKeepsWhatIsNoCycle(t *testing.T) {
	var chain strings.Builder
	chain.WriteString(`module c { namespace "urn:c"; prefix c; typedef t0 { type string; } `)
	for i := 1; i < 2000; i++ {
		fmt.Fprintf(&chain, "typedef t%d { type t%d; } ", i, i-1)
	}
	chain.WriteString(`leaf l { type t1999; } }`)
	for _, text := range []string{
		`module x { namespace "urn:x"; prefix x; typedef t { type string; } container c { typedef u { type t; } leaf l { type u; } } container d { typedef u { type int8; } leaf l { type u; } } }`,
		`module x { namespace "urn:x"; prefix x; identity a; identity b { base a; } identity c { base x:b; base a; } typedef a { type string; } grouping a { leaf a { type a; } } container top { uses a; } }`,
		`module x { namespace "urn:x"; prefix x; grouping g { uses h; container c { uses h; } } grouping h { leaf z { type string; } } container top { uses g { augment "c" { uses g; } } } }`,
		chain.String(),
	} {
		s := Compile([]Module{{Text: text, File: "m.yang"}}, nil)
		if n := s.Notes(); len(n) > 0 || len(s.Modules()) != 1 {
			t.Errorf("%.80s…: notes %q, modules %q", text, n, s.Modules())
		}
	}
}

// TestCompileRefusesDeepNesting: compiling grows much faster than the
// nesting (8,000 nested containers took seconds); past maxDepth the module is
// left out at once, with the place it goes too deep.
func TestCompileRefusesDeepNesting(t *testing.T) {
	nest := func(n int) string {
		return `module x { namespace "urn:x"; prefix x; ` + strings.Repeat("container a { ", n) + strings.Repeat("}", n) + ` }`
	}
	s := Compile([]Module{{Text: nest(20000), File: "x.yang"}}, nil)
	if n := strings.Join(s.Notes(), "\n"); !strings.Contains(n, "x.yang: not loaded: x.yang:1:") || !strings.Contains(n, "statements nested more than 256 deep") {
		t.Errorf("notes %q", n)
	}
	if s := Compile([]Module{{Text: nest(maxDepth - 1), File: "x.yang"}}, nil); len(s.Notes()) > 0 || len(s.Modules()) != 1 {
		t.Errorf("%d nested containers: notes %q", maxDepth-1, s.Notes())
	}
}
