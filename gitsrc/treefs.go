package gitsrc

import (
	"crypto/sha1"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// FS returns the revision's tree as a read-only file system. Symbolic links are
// listed with fs.ModeSymlink and refuse to open: a link in a commit may point
// anywhere on the machine that checks it, so the loader never follows one.
func (rv *Revision) FS() (fs.FS, error) {
	t, err := rv.listing()
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Blobs maps every file of the revision to its blob hash.
func (rv *Revision) Blobs() (map[string]string, error) {
	t, err := rv.listing()
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(t.files))
	for name, f := range t.files {
		out[name] = f.hash.String()
	}
	return out, nil
}

// listing walks the revision's tree once; FS and Blobs share the result,
// which nothing modifies afterwards.
func (rv *Revision) listing() (*treeFS, error) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if rv.fs != nil {
		return rv.fs, nil
	}
	t := &treeFS{git: rv, files: map[string]treeFile{}, dirs: map[string][]fs.DirEntry{".": nil}}
	if err := rv.walk(t, ".", rv.tree); err != nil {
		return nil, fmt.Errorf("revision %s: walk tree: %w", short(rv.Commit), err)
	}
	for _, es := range t.dirs {
		sort.Slice(es, func(i, j int) bool { return es[i].Name() < es[j].Name() })
	}
	rv.fs = t
	return t, nil
}

// walk adds the entries of tree, the folder dir, to t.
func (rv *Revision) walk(t *treeFS, dir string, tree *object.Tree) error {
	for _, e := range tree.Entries {
		name := path.Join(dir, e.Name)
		f := treeFile{name: e.Name, hash: e.Hash, mode: e.Mode}
		t.dirs[dir] = append(t.dirs[dir], f)
		if e.Mode != filemode.Dir {
			t.files[name] = f
			continue
		}
		if _, ok := t.dirs[name]; !ok {
			t.dirs[name] = nil
		}
		sub, err := rv.trees.get(rv.git, e.Hash)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := rv.walk(t, name, sub); err != nil {
			return err
		}
	}
	return nil
}

// treeMemo keeps a repository's decoded trees by hash, so that the two
// revisions of a plan read and decode each folder they share once: a
// one-file pull request differs from its base in a handful of trees out of
// thousands. A nil treeMemo decodes every time.
type treeMemo struct {
	mu    sync.Mutex
	trees map[plumbing.Hash]*object.Tree
	// store, when set, reads the trees with the pack files kept open:
	// go-git otherwise opens the pack again for every object, which is
	// half the cost of a walk. Its open files are not safe for concurrent
	// use, which mu provides; blobs, read by many loaders at once, go
	// through the repository's own storage.
	store *filesystem.Storage
}

func (m *treeMemo) get(g *git.Repository, h plumbing.Hash) (*object.Tree, error) {
	if m == nil {
		return g.TreeObject(h)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.trees[h]; ok {
		return t, nil
	}
	var t *object.Tree
	var err error
	if m.store != nil {
		t, err = object.GetTree(m.store, h)
	} else {
		t, err = g.TreeObject(h)
	}
	if err != nil {
		return nil, err
	}
	if m.trees == nil {
		m.trees = make(map[plumbing.Hash]*object.Tree)
	}
	m.trees[h] = t
	return t, nil
}

// WorkTreeBlobs maps the intent files of a folder to the blob hash Git would
// give them, so a work tree compares with a commit without being committed.
func WorkTreeBlobs(dir string) (map[string]string, error) {
	out := map[string]string{}
	for _, top := range intentFolders() {
		root := filepath.Join(dir, top)
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) && p == root {
					return filepath.SkipDir
				}
				return err
			}
			if d.IsDir() {
				return nil
			}
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			if d.Type()&fs.ModeSymlink != 0 {
				// Changed content behind a link cannot be known without following
				// it; report the link itself as changed so the loader sees it.
				out[filepath.ToSlash(rel)] = "symlink"
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[filepath.ToSlash(rel)] = blobHash(b)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// blobHash is Git's object ID of a blob with this content.
func blobHash(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// Changed lists the intent paths whose content differs between two maps of
// blob hashes (from Blobs or WorkTreeBlobs), sorted. Nothing changed is an
// empty, non-nil list: nil means "unknown" to the planner.
func Changed(base, head map[string]string) []string {
	out := []string{}
	for p, h := range head {
		if base[p] != h && isIntentPath(p) {
			out = append(out, p)
		}
	}
	for p := range base {
		if _, ok := head[p]; !ok && isIntentPath(p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

type treeFS struct {
	git   *Revision
	files map[string]treeFile
	dirs  map[string][]fs.DirEntry
}

type treeFile struct {
	name string
	hash plumbing.Hash
	mode filemode.FileMode
	size int64
}

func (f treeFile) Name() string { return f.name }
func (f treeFile) IsDir() bool  { return f.mode == filemode.Dir }
func (f treeFile) Type() fs.FileMode {
	switch f.mode {
	case filemode.Dir:
		return fs.ModeDir
	case filemode.Symlink:
		return fs.ModeSymlink
	}
	return 0
}
func (f treeFile) Info() (fs.FileInfo, error) { return f, nil }
func (f treeFile) Size() int64                { return f.size }
func (f treeFile) Mode() fs.FileMode {
	if f.IsDir() {
		return fs.ModeDir | 0o555
	}
	return f.Type() | 0o444
}
func (f treeFile) ModTime() time.Time { return time.Time{} }

// Sys returns the blob hash, so a loader can cache by content without reading.
func (f treeFile) Sys() any { return f.hash }

func (t *treeFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if es, ok := t.dirs[name]; ok {
		return &treeDir{info: treeFile{name: path.Base(name), mode: filemode.Dir}, entries: es}, nil
	}
	f, ok := t.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if f.mode == filemode.Symlink {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("is a symbolic link; links are not followed in an intent repo")}
	}
	if f.mode == filemode.Submodule {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("is a submodule")}
	}
	blob, err := t.git.git.BlobObject(f.hash)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	f.size = blob.Size
	return &treeOpenFile{info: f, blob: blob}, nil
}

func (t *treeFS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	if _, ok := t.dirs[name]; ok {
		return treeFile{name: path.Base(name), mode: filemode.Dir}, nil
	}
	f, ok := t.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	if f.mode != filemode.Symlink {
		// The size comes from the object header, without inflating the blob,
		// so a size cap is enforced before the content is read.
		sz, err := t.git.git.Storer.EncodedObject(plumbing.AnyObject, f.hash)
		if err == nil {
			f.size = sz.Size()
		}
	}
	return f, nil
}

// Lstat is Stat: the tree records links as links.
func (t *treeFS) Lstat(name string) (fs.FileInfo, error) { return t.Stat(name) }

// ReadLink returns a link's target as recorded in the commit.
func (t *treeFS) ReadLink(name string) (string, error) {
	f, ok := t.files[name]
	if !ok || f.mode != filemode.Symlink {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	blob, err := t.git.git.BlobObject(f.hash)
	if err != nil {
		return "", err
	}
	rd, err := blob.Reader()
	if err != nil {
		return "", err
	}
	defer rd.Close()
	b, err := io.ReadAll(io.LimitReader(rd, 4096))
	return string(b), err
}

func (t *treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	es, ok := t.dirs[name]
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	return slices.Clone(es), nil
}

type treeDir struct {
	info    treeFile
	entries []fs.DirEntry
	off     int
}

func (d *treeDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *treeDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: fs.ErrInvalid}
}
func (d *treeDir) Close() error { return nil }
func (d *treeDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return slices.Clone(rest), nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.off += n
	return slices.Clone(rest[:n]), nil
}

type treeOpenFile struct {
	info treeFile
	blob *object.Blob
	rd   io.ReadCloser
}

func (f *treeOpenFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *treeOpenFile) Read(p []byte) (int, error) {
	if f.rd == nil {
		rd, err := f.blob.Reader()
		if err != nil {
			return 0, err
		}
		f.rd = rd
	}
	return f.rd.Read(p)
}
func (f *treeOpenFile) Close() error {
	if f.rd != nil {
		return f.rd.Close()
	}
	return nil
}

func (m *treeMemo) close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.store == nil {
		return nil
	}
	return m.store.Close()
}
