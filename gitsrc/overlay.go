package gitsrc

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// FSWith returns the revision's tree as FS does, with files added on top:
// what the tree would be after a commit that adds them. An order is validated
// on it before anything is written anywhere. Paths are slash-separated and
// relative to the intent folder; a path the revision already holds (as a
// file or a folder) is refused, since a proposal adds services and never
// edits someone else's.
func (rv *Revision) FSWith(files map[string][]byte) (fs.FS, error) {
	t, err := rv.listing()
	if err != nil {
		return nil, err
	}
	o := &overlayFS{treeFS: t, files: map[string][]byte{}, dirs: map[string][]fs.DirEntry{}}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if !fs.ValidPath(name) || name == "." {
			return nil, fmt.Errorf("revision %s: add %q: not a slash-separated relative path", short(rv.Commit), name)
		}
		if _, ok := t.files[name]; ok {
			return nil, fmt.Errorf("revision %s: add %s: %w", short(rv.Commit), name, fs.ErrExist)
		}
		if _, ok := t.dirs[name]; ok {
			return nil, fmt.Errorf("revision %s: add %s: a folder of that name exists", short(rv.Commit), name)
		}
		o.files[name] = files[name]
		// Each folder on the way gets the entry of the one below it.
		child, entry := name, fs.DirEntry(memFile{name: path.Base(name), size: int64(len(files[name]))})
		for {
			dir := path.Dir(child)
			if f, ok := t.files[dir]; ok {
				return nil, fmt.Errorf("revision %s: add %s: %s is a file (%v)", short(rv.Commit), name, dir, f.Type())
			}
			es, seen := o.dirs[dir]
			if !seen {
				es = slices.Clone(t.dirs[dir])
			}
			known := slices.ContainsFunc(es, func(e fs.DirEntry) bool { return e.Name() == entry.Name() })
			if !known {
				es = append(es, entry)
				slices.SortFunc(es, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
			}
			o.dirs[dir] = es
			_, existed := t.dirs[dir]
			if dir == "." || existed || seen {
				break
			}
			child, entry = dir, memFile{name: path.Base(dir), dir: true}
		}
	}
	return o, nil
}

// overlayFS is a treeFS with files added in memory.
type overlayFS struct {
	*treeFS
	files map[string][]byte
	dirs  map[string][]fs.DirEntry // every folder whose listing changed
}

func (o *overlayFS) Open(name string) (fs.File, error) {
	if b, ok := o.files[name]; ok {
		return &memOpenFile{info: memFile{name: path.Base(name), size: int64(len(b))}, Reader: bytes.NewReader(b)}, nil
	}
	if es, ok := o.dirs[name]; ok {
		return &treeDir{info: treeFile{name: path.Base(name), mode: filemode.Dir}, entries: es}, nil
	}
	return o.treeFS.Open(name)
}

func (o *overlayFS) Stat(name string) (fs.FileInfo, error) {
	if b, ok := o.files[name]; ok {
		return memFile{name: path.Base(name), size: int64(len(b))}, nil
	}
	if _, ok := o.dirs[name]; ok {
		return memFile{name: path.Base(name), dir: true}, nil
	}
	return o.treeFS.Stat(name)
}

func (o *overlayFS) Lstat(name string) (fs.FileInfo, error) { return o.Stat(name) }

func (o *overlayFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if es, ok := o.dirs[name]; ok {
		return slices.Clone(es), nil
	}
	return o.treeFS.ReadDir(name)
}

// memFile is an added file, or a folder only added files are in.
type memFile struct {
	name string
	size int64
	dir  bool
}

func (f memFile) Name() string { return f.name }
func (f memFile) IsDir() bool  { return f.dir }
func (f memFile) Type() fs.FileMode {
	if f.dir {
		return fs.ModeDir
	}
	return 0
}
func (f memFile) Info() (fs.FileInfo, error) { return f, nil }
func (f memFile) Size() int64                { return f.size }
func (f memFile) Mode() fs.FileMode {
	if f.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
func (f memFile) ModTime() time.Time { return time.Time{} }
func (f memFile) Sys() any           { return nil }

type memOpenFile struct {
	info memFile
	*bytes.Reader
}

func (f *memOpenFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memOpenFile) Close() error               { return nil }
