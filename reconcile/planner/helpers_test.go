package planner

import (
	"context"
	"testing"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/gitsrc"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
)

// renderRevisions renders every device of two revisions in full, without the
// planner's shortcuts, as the reference the plan is checked against.
func renderRevisions(t *testing.T, dir string, revs ...string) (map[string]*configtree.Tree, map[string]*configtree.Tree) {
	t.Helper()
	repo, err := gitsrc.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]*configtree.Tree
	for _, rev := range revs {
		rv, err := repo.Resolve(rev)
		if err != nil {
			t.Fatal(err)
		}
		fsys, err := rv.FS()
		if err != nil {
			t.Fatal(err)
		}
		in, diags := schema.Load(fsys, schema.Options{})
		if diags.HasErrors() {
			t.Fatalf("%s: %v", rev, diags.Err())
		}
		r, diags := render.New(in)
		if diags.HasErrors() {
			t.Fatal(diags.Err())
		}
		trees, diags := r.Devices(context.Background(), nil)
		if diags.HasErrors() {
			t.Fatal(diags.Err())
		}
		out = append(out, trees)
	}
	return out[0], out[1]
}
