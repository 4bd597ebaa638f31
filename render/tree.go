package render

import (
	"bytes"
	"errors"

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

// conflicts returns every merge conflict in err: Merge reports all of them
// at once, joined.
func conflicts(err error) []*configtree.ConflictError {
	var out []*configtree.ConflictError
	var walk func(error)
	walk = func(err error) {
		if ce, ok := err.(*configtree.ConflictError); ok {
			out = append(out, ce)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// mergeTree merges a fragment into a device's tree; on a conflict dst is
// left unchanged.
func mergeTree(dst, src *configtree.Tree) error { return configtree.Merge(dst, src) }
