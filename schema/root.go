package schema

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// FindRepo returns the root folder of the intent repo that path (a file or
// a folder, on disk) belongs to, and path relative to it, slash-separated
// ("." for the root itself), so that a file is validated within its repo.
// The root is the nearest folder, path's own included, that holds
// inventory/, services/ or service-types/; the search stops at a Git
// repository's top (a folder with .git), since an intent repo may be a
// folder of a larger Git repo but never spans two. ok is false when no
// folder up to there looks like an intent repo.
func FindRepo(path string) (root, rel string, ok bool, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", "", false, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", "", false, err
	}
	dir := abs
	if !fi.IsDir() {
		dir = filepath.Dir(abs)
	}
	for {
		if isRepoRoot(dir) {
			r, err := filepath.Rel(dir, abs)
			if err != nil {
				return "", "", false, err
			}
			return dir, filepath.ToSlash(r), true, nil
		}
		parent := filepath.Dir(dir)
		if exists(filepath.Join(dir, ".git")) || parent == dir {
			return "", "", false, nil
		}
		dir = parent
	}
}

// isRepoRoot reports whether dir holds one of the intent repo's folders.
func isRepoRoot(dir string) bool {
	for _, name := range []string{inventoryDir, servicesDir, typesDir} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && fi.IsDir() {
			return true
		}
	}
	return false
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return !errors.Is(err, fs.ErrNotExist)
}

// IsIntentPath reports whether rel (slash-separated, relative to the repo's
// root) is, or holds, something Load reads: the root, or a path in
// inventory/, services/ or service-types/.
func IsIntentPath(rel string) bool {
	if rel == "." {
		return true
	}
	top, _, _ := strings.Cut(rel, "/")
	return top == inventoryDir || top == servicesDir || top == typesDir
}
