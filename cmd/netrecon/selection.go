package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/netrecon/netrecon/schema"
)

// selection is what `validate PATH...` validates: one intent repo, and the
// files or folders of it to report on (nil: all of it).
type selection struct {
	root  string
	paths []string // slash-separated, relative to root
}

// selectPaths finds the intent repo of every path by walking up from it
// (schema.FindRepo): a file is validated within its repo, as the cross-
// document checks need every other file. A folder in no intent repo is
// taken as a repo's root, so that its problems are reported as they are.
func selectPaths(paths []string) (selection, error) {
	var sel selection
	whole := false
	for _, p := range paths {
		root, rel, ok, err := schema.FindRepo(p)
		switch {
		case err != nil:
			return sel, fmt.Errorf("open intent repo: %w", err)
		case !ok && isDir(p):
			if root, err = filepath.Abs(p); err != nil {
				return sel, err
			}
			rel = "."
		case !ok:
			return sel, fmt.Errorf("%s is in no intent repo: no folder from it up to the Git repository's top holds inventory/, services/ or service-types/", p)
		case !schema.IsIntentPath(rel):
			return sel, fmt.Errorf("%s is neither an intent file nor a folder of them: validate reads inventory/, services/ and service-types/ of %s", p, root)
		}
		if sel.root != "" && sel.root != root {
			return sel, fmt.Errorf("%s and %s are in two intent repos; validate each repo on its own", sel.root, root)
		}
		sel.root = root
		if rel == "." {
			whole = true
		}
		sel.paths = append(sel.paths, rel)
	}
	if whole {
		sel.paths = nil
	}
	return sel, nil
}

// split returns the diagnostics of the selection, and the repo's others.
func (s selection) split(ds schema.Diagnostics) (shown, others schema.Diagnostics) {
	if s.paths == nil {
		return ds, nil
	}
	return ds.About(s.paths)
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
