package schema

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// maxLinkHops bounds how many symbolic links one name may go through, as the
// kernel's ELOOP limit does.
const maxLinkHops = 40

// repoFS reads files of the intent repo with the limits the format promises:
// no link out of the repo, no file larger than maxSize, checked before reading.
type repoFS struct {
	fsys    fs.FS
	maxSize int64
}

// fileError is a problem reading one file; the loader turns it into a
// Diagnostic at the file.
type fileError struct {
	summary, detail string
}

func (e *fileError) Error() string { return e.summary }

// resolve follows symbolic links from name, refusing any that leaves the
// repo. It returns the repo-relative name of the final target. File systems
// that cannot report links (fstest.MapFS without links, os.Root.FS refusing
// escapes itself) simply return name.
func (r *repoFS) resolve(name string) (string, error) {
	rl, ok := r.fsys.(fs.ReadLinkFS)
	if !ok {
		return name, nil
	}
	cur := name
	for hop := 0; ; hop++ {
		// A link may also hide in a folder on the way (services/x -> /etc):
		// check every component, not only the last one.
		linkAt, err := firstLink(rl, cur)
		if err != nil {
			return "", err
		}
		if linkAt == "" {
			return cur, nil
		}
		if hop >= maxLinkHops {
			return "", &fileError{summary: "too many levels of symbolic links"}
		}
		target, err := rl.ReadLink(linkAt)
		if err != nil {
			return "", &fileError{summary: "cannot read symbolic link: " + errText(err)}
		}
		if path.IsAbs(target) || strings.HasPrefix(target, "\\") || (len(target) > 1 && target[1] == ':') {
			return "", &fileError{
				summary: fmt.Sprintf("symbolic link %s points outside the repository (to %s)", linkAt, target),
				detail:  "intent must live in the repository; copy the file in instead of linking to it",
			}
		}
		joined := path.Join(path.Dir(linkAt), target)
		if !fs.ValidPath(joined) {
			return "", &fileError{
				summary: fmt.Sprintf("symbolic link %s points outside the repository (to %s)", linkAt, target),
				detail:  "intent must live in the repository; copy the file in instead of linking to it",
			}
		}
		cur = path.Join(joined, strings.TrimPrefix(cur, linkAt))
	}
}

// firstLink returns the shortest prefix of name that is a symbolic link, or "".
func firstLink(rl fs.ReadLinkFS, name string) (string, error) {
	parts := strings.Split(name, "/")
	for i := range parts {
		prefix := strings.Join(parts[:i+1], "/")
		fi, err := rl.Lstat(prefix)
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil // reported by whoever opens it
		}
		if err != nil {
			return "", &fileError{summary: "cannot read file: " + errText(err)}
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return prefix, nil
		}
	}
	return "", nil
}

// read returns the content of name, after checking its links and its size.
// typ is name's type as its folder listed it (fs.DirEntry.Type); only a
// link needs resolving, which saves several stats per file on os.Root.
func (r *repoFS) read(name string, typ fs.FileMode) ([]byte, error) {
	real := name
	if typ&fs.ModeSymlink != 0 {
		var err error
		if real, err = r.resolve(name); err != nil {
			return nil, err
		}
		fi, err := fs.Stat(r.fsys, real)
		if err != nil {
			return nil, &fileError{summary: "cannot read file: " + errText(err)}
		}
		typ = fi.Mode().Type()
	}
	// Never open a FIFO or a device: opening one may block forever.
	if !typ.IsRegular() {
		return nil, &fileError{summary: "not a regular file"}
	}
	f, err := r.fsys.Open(real)
	if err != nil {
		return nil, &fileError{summary: "cannot read file: " + errText(err)}
	}
	defer f.Close()
	// Stat before reading: a huge file is refused without being read.
	fi, err := f.Stat()
	if err != nil {
		return nil, &fileError{summary: "cannot read file: " + errText(err)}
	}
	if !fi.Mode().IsRegular() {
		return nil, &fileError{summary: "not a regular file"}
	}
	if fi.Size() > r.maxSize {
		return nil, r.tooBig(fi.Size())
	}
	// The file may grow between Stat and Read; never read past the limit.
	data, err := io.ReadAll(io.LimitReader(f, r.maxSize+1))
	if err != nil {
		return nil, &fileError{summary: "cannot read file: " + errText(err)}
	}
	if int64(len(data)) > r.maxSize {
		return nil, r.tooBig(int64(len(data)))
	}
	return data, nil
}

// readFile reads a file whose type is not known from a listing.
func (r *repoFS) readFile(name string) ([]byte, error) {
	typ := fs.ModeSymlink // resolve, then stat: the safe way
	return r.read(name, typ)
}

func (r *repoFS) tooBig(size int64) error {
	return &fileError{
		summary: fmt.Sprintf("file is too large: %d bytes, the limit is %d", size, r.maxSize),
		detail:  "split it into several files, or raise --max-file-size",
	}
}

// listYAML returns the .yaml/.yml files under dir (recursively when deep), as
// sorted repo-relative names. A missing dir gives no names and exists=false.
// Links are not followed into folders; linked files are returned and checked
// when read.
func (r *repoFS) listYAML(dir string, deep bool) (names []listed, exists bool, diags Diagnostics) {
	if _, err := r.resolve(dir); err != nil {
		return nil, true, diags.Append(fileDiag(dir, err))
	}
	if _, err := fs.Stat(r.fsys, dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, nil
		}
		return nil, true, diags.Append(fileDiag(dir, err))
	}
	err := fs.WalkDir(r.fsys, dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			diags = diags.Append(fileDiag(name, err))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if name != dir && !deep {
				return fs.SkipDir
			}
			return nil
		}
		if isYAMLName(name) {
			names = append(names, listed{name: name, typ: d.Type()})
		} else if d.Type()&fs.ModeSymlink != 0 && deep {
			// A linked folder is not walked; say so rather than skip it
			// silently, and refuse it outright when it leaves the repo.
			if _, err := r.resolve(name); err != nil {
				diags = diags.Append(fileDiag(name, err))
			} else if fi, err := fs.Stat(r.fsys, name); err == nil && fi.IsDir() {
				diags = diags.Append(Diagnostic{Severity: Warning, Pos: Pos{File: name},
					Summary: "symbolic link to a folder is not followed"})
			}
		}
		return nil
	})
	if err != nil {
		diags = diags.Append(fileDiag(dir, err))
	}
	slices.SortFunc(names, func(a, b listed) int { return strings.Compare(a.name, b.name) })
	return names, true, diags
}

// listed is a file found in a folder, with its type from the listing.
type listed struct {
	name string
	typ  fs.FileMode
}

func isYAMLName(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

// fileDiag turns a read error into a Diagnostic at the file.
func fileDiag(name string, err error) Diagnostic {
	d := Diagnostic{Severity: Error, Pos: Pos{File: name}, Summary: errText(err)}
	var fe *fileError
	if errors.As(err, &fe) {
		d.Summary, d.Detail = fe.summary, fe.detail
	}
	return d
}

// errText is an error's message without the file name a PathError repeats
// (the Diagnostic carries the name already).
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}
