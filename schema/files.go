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
func (r *repoFS) read(name string) ([]byte, error) {
	real, err := r.resolve(name)
	if err != nil {
		return nil, err
	}
	// Stat before reading: a huge file is refused without being read.
	fi, err := fs.Stat(r.fsys, real)
	if err != nil {
		return nil, &fileError{summary: "cannot read file: " + errText(err)}
	}
	if !fi.Mode().IsRegular() {
		return nil, &fileError{summary: "not a regular file"}
	}
	if fi.Size() > r.maxSize {
		return nil, r.tooBig(fi.Size())
	}
	f, err := r.fsys.Open(real)
	if err != nil {
		return nil, &fileError{summary: "cannot read file: " + errText(err)}
	}
	defer f.Close()
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
func (r *repoFS) listYAML(dir string, deep bool) (names []string, exists bool, diags Diagnostics) {
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
			names = append(names, name)
		} else if d.Type()&fs.ModeSymlink != 0 && deep {
			// A linked folder is not walked; say so rather than skip it silently.
			if fi, err := fs.Stat(r.fsys, name); err == nil && fi.IsDir() {
				diags = diags.Append(Diagnostic{Severity: Warning, Pos: Pos{File: name},
					Summary: "symbolic link to a folder is not followed"})
			}
		}
		return nil
	})
	if err != nil {
		diags = diags.Append(fileDiag(dir, err))
	}
	slices.Sort(names)
	return names, true, diags
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
