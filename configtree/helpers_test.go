package configtree

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// testKeys are the lists of the test configurations.
var testKeys = Keys{
	"/interfaces/interface":              {"name"},
	"/interfaces/interface/ipv4/address": {"ip"},
	"/interfaces/interface/ipv6/address": {"ip"},
	"/routing/route":                     {"type", "name"},
	"/vlans/vlan":                        {"id"},
	"/system/dns/server":                 {LeafListKey},
	// Identity-typed leaves (YANG identityref): only these read "p:q" as an
	// identity.
	"/interfaces/interface/type": {IdentityLeaf},
	"/i/type":                    {IdentityLeaf},
	"/i/a":                       {IdentityLeaf},
}

func mustParse(t testing.TB, src string) *Tree {
	t.Helper()
	tr, err := Parse(strings.NewReader(src), t.Name(), testKeys)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return tr
}

// owned parses src and makes owner the owner of every node.
func owned(t testing.TB, owner, src string) *Tree {
	t.Helper()
	tr := mustParse(t, src)
	tr.SetOwner(owner)
	return tr
}

func xmlString(t testing.TB, tr *Tree, opts WriteOptions) string {
	t.Helper()
	var b strings.Builder
	if err := tr.WriteXML(&b, opts); err != nil {
		t.Fatalf("WriteXML: %v", err)
	}
	return b.String()
}

// golden compares got with testdata/<name>, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, d)
	}
}
