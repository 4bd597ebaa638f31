package render

import (
	"bytes"
	"errors"
	"slices"
	"strings"

	"github.com/netrecon/netrecon/configtree"
)

// The renderer's uses of configtree go through these functions.

func parseTree(name string, data []byte, keys configtree.Keys) (*configtree.Tree, error) {
	return configtree.Parse(bytes.NewReader(data), name, keys)
}

func setOwner(t *configtree.Tree, owner string) { t.SetOwner(owner) }

// asSyntaxError finds the syntax error of the rendered output in err.
func asSyntaxError(err error) (*configtree.SyntaxError, bool) {
	var se *configtree.SyntaxError
	return se, errors.As(err, &se)
}

// asConflictError finds a merge conflict in err.
func asConflictError(err error) (*configtree.ConflictError, bool) {
	var ce *configtree.ConflictError
	return ce, errors.As(err, &ce)
}

// TEMPORARY: configtree.Merge is being written in parallel; until it lands,
// mergeTree stands in for it with the minimum the renderer needs.
func mergeTree(dst, src *configtree.Tree) error {
	return mergeNode(dst.Root, src.Root, "")
}

func mergeNode(dst, src *configtree.Node, path string) error {
	for _, sc := range src.Children {
		p := path + "/" + sc.PathStep()
		i := slices.IndexFunc(dst.Children, func(dc *configtree.Node) bool { return dc.PathStep() == sc.PathStep() })
		if i < 0 {
			dst.Children = append(dst.Children, sc)
			continue
		}
		dc := dst.Children[i]
		if dc.Leaf && sc.Leaf && (dc.Value != sc.Value || dc.ValueSpace != sc.ValueSpace) {
			return &configtree.ConflictError{Path: configtree.Path(p), Owner: strings.Join(sc.Owners, ","), Other: strings.Join(dc.Owners, ","), Value: sc.Value, OtherValue: dc.Value}
		}
		for _, o := range sc.Owners {
			if !slices.Contains(dc.Owners, o) {
				dc.Owners = append(dc.Owners, o)
			}
		}
		slices.Sort(dc.Owners)
		if err := mergeNode(dc, sc, p); err != nil {
			return err
		}
	}
	return nil
}
