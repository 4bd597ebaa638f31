package yangcheck

import (
	"os"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/configtree"
)

// FuzzCompile feeds module text, as a device or a pull request could
// supply it, to the loader and the check: whatever it is, no panic, and a
// tree is checked against what loaded.
func FuzzCompile(f *testing.F) {
	for _, p := range []string{"testdata/modules/nr-test@2026-01-01.yang", "testdata/modules/nr-types@2026-01-01.yang"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add(modA)
	f.Add(`module x { namespace "urn:x"; prefix x; container c { uses g { augment "a/b" { leaf l { type string; } } } } grouping g { container a { choice b; } } }`)
	f.Add(`submodule s { belongs-to x { prefix x; } }`)
	f.Add(`module x { namespace "urn:x"; prefix x; leaf l { type string { pattern '[a-z-[b]]'; } } }`)
	types, err := os.ReadFile("testdata/modules/nr-types@2026-01-01.yang")
	if err != nil {
		f.Fatal(err)
	}
	tree, err := configtree.Parse(strings.NewReader(`<top xmlns="urn:example:nr-test"><name>a</name><users><user><id>1</id></user></users></top><c xmlns="urn:x"><l>v</l></c>`), "fuzz", configtree.Keys{"/top/users/user": {"id"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s := Compile([]Module{{Name: "", Text: text, File: "fuzz.yang"}, {Name: "nr-types", Text: string(types), File: "nr-types.yang"}}, nil)
		s.Check(tree)
		_ = s.Notes()
		_, _ = compilePattern(text)
		_, _ = ParseIndex([]byte(text))
	})
}
