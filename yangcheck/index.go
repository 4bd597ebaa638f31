package yangcheck

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/netrecon/netrecon/diag"
)

// Dir is the intent repo's folder of fetched modules: Dir/<platform>/.
const Dir = "schemas"

// IndexFile is the name of a platform's index in its folder.
const IndexFile = "index.yaml"

// MaxFileSize bounds a module file or an index read from the repo: the
// largest published modules are a few hundred KiB, and a pull request must
// not make validate read a file of any size.
const MaxFileSize = 4 << 20

// Index says which modules the devices of one platform advertise, as Fetch
// found them. It is written as index.yaml beside the module files.
type Index struct {
	Platform string `yaml:"platform"`
	// Devices are the devices the modules were fetched from, sorted.
	Devices []string      `yaml:"devices"`
	Modules []IndexModule `yaml:"modules"`
}

// IndexModule is one module (or submodule) as some devices advertise it.
// A module the devices advertise with different features or deviations has
// one entry per variant, each with its Devices.
type IndexModule struct {
	Name      string `yaml:"name"`
	Revision  string `yaml:"revision,omitempty"`
	Namespace string `yaml:"namespace,omitempty"`
	File      string `yaml:"file"`
	Submodule bool   `yaml:"submodule,omitempty"`
	// Advertised: the module is in the devices' hello (RFC 6020 5.6.4), so
	// Features and Deviations are what they said. A module only listed in
	// /netconf-state/schemas, or a submodule, is not.
	Advertised bool     `yaml:"advertised,omitempty"`
	Features   []string `yaml:"features,omitempty"`
	Deviations []string `yaml:"deviations,omitempty"`
	// Devices are the devices that have this entry, when not all of the
	// index's devices do.
	Devices []string `yaml:"devices,omitempty"`
}

func (m IndexModule) key() string { return fullName(m.Name, m.Revision) }

// has reports whether device has the entry (dev "": every device does).
func (m IndexModule) has(dev string) bool {
	return len(m.Devices) == 0 || dev != "" && slices.Contains(m.Devices, dev)
}

// Platform is one platform's fetched modules: the index and the module
// texts by file name.
type Platform struct {
	Index Index
	Files map[string]string
}

// Known reports whether the platform's modules were fetched from dev.
func (p *Platform) Known(dev string) bool { return slices.Contains(p.Index.Devices, dev) }

// ModulesFor returns the modules of device dev and their features. For a
// device that was not fetched (dev "" or not Known), the modules every
// fetched device has.
func (p *Platform) ModulesFor(dev string) ([]Module, Features) {
	if !p.Known(dev) {
		dev = ""
	}
	var mods []Module
	features := Features{}
	for _, m := range p.Index.Modules {
		if !m.has(dev) {
			continue
		}
		mods = append(mods, Module{Name: m.Name, Revision: m.Revision, Text: p.Files[m.File], File: path.Join(Dir, p.Index.Platform, m.File)})
		if m.Advertised && !m.Submodule {
			features[m.Name] = slices.Clone(m.Features)
		}
	}
	return mods, features
}

// key names a device's module set, so that devices with the same modules
// share one compiled Set.
func (p *Platform) key(dev string) string {
	if !p.Known(dev) {
		dev = ""
	}
	var b strings.Builder
	for _, m := range p.Index.Modules {
		if m.has(dev) {
			fmt.Fprintf(&b, "%s;%s;%v|", m.key(), m.File, m.Features)
		}
	}
	return b.String()
}

// Repo is the modules of an intent repo, by platform.
type Repo map[string]*Platform

// validName is what a platform folder or a module file name may be: no
// separators, nothing hidden.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]*$`)

// ReadRepo reads Dir/<platform>/index.yaml and the files it names from the
// intent repo. A repo without Dir has no modules (every platform is
// unchecked). A platform folder that does not read is a Diagnostic at its
// file, and the platform is left out, which makes its devices unchecked.
func ReadRepo(fsys fs.FS) (Repo, diag.Diagnostics) {
	repo := Repo{}
	var diags diag.Diagnostics
	entries, err := fs.ReadDir(fsys, Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return repo, nil
	}
	if err != nil {
		return repo, diags.Errorf(diag.Pos{File: Dir}, "", "cannot read the YANG modules: %v", err)
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p, ds := readPlatform(fsys, e.Name())
		diags = append(diags, ds...)
		if p != nil {
			repo[e.Name()] = p
		}
	}
	return repo, diags
}

func readPlatform(fsys fs.FS, platform string) (*Platform, diag.Diagnostics) {
	var diags diag.Diagnostics
	idxPath := path.Join(Dir, platform, IndexFile)
	b, err := readCapped(fsys, idxPath)
	if err != nil {
		return nil, diags.Errorf(diag.Pos{File: idxPath}, "", "cannot read the platform's module index: %v (run `netrecon schemas fetch`)", errText(err))
	}
	idx, err := ParseIndex(b)
	if err != nil {
		d := diag.Diagnostic{Severity: diag.Error, Pos: diag.Pos{File: idxPath}, Summary: err.Error(), Detail: "the file is written by `netrecon schemas fetch`: fetch again rather than edit it"}
		var ie *IndexError
		if errors.As(err, &ie) {
			d.Pos.Line, d.Summary = ie.Line, ie.Msg
		}
		return nil, append(diags, d)
	}
	if idx.Platform != platform {
		return nil, diags.Errorf(diag.Pos{File: idxPath}, "platform", "the index is for platform %q but lies in the folder of %q", idx.Platform, platform)
	}
	p := &Platform{Index: *idx, Files: map[string]string{}}
	for _, m := range idx.Modules {
		if _, ok := p.Files[m.File]; ok {
			continue
		}
		fp := path.Join(Dir, platform, m.File)
		text, err := readCapped(fsys, fp)
		if err != nil {
			return nil, diags.Errorf(diag.Pos{File: idxPath}, "modules", "module %s: cannot read %s: %v", m.key(), fp, errText(err))
		}
		p.Files[m.File] = string(text)
	}
	return p, diags
}

// readCapped reads a file of at most MaxFileSize bytes.
func readCapped(fsys fs.FS, name string) ([]byte, error) {
	st, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	if st.Size() > MaxFileSize {
		return nil, fmt.Errorf("%d bytes, more than the %d a module file may have", st.Size(), MaxFileSize)
	}
	return fs.ReadFile(fsys, name)
}

// IndexError is an index.yaml that does not read, with its line.
type IndexError struct {
	Line int
	Msg  string
}

func (e *IndexError) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// yamlLine finds "line N:" in a YAML library error.
var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)

// ParseIndex reads an index.yaml and checks it: names that are safe file
// names, a file per module, no entry twice.
func ParseIndex(b []byte) (*Index, error) {
	var idx Index
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&idx); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			var line int
			fmt.Sscan(m[1], &line)
			return nil, &IndexError{Line: line, Msg: m[2]}
		}
		return nil, &IndexError{Msg: msg}
	}
	if !validName.MatchString(idx.Platform) {
		return nil, &IndexError{Msg: fmt.Sprintf("platform %q is not a valid name", idx.Platform)}
	}
	seen := map[string]bool{}
	for i, m := range idx.Modules {
		switch {
		case m.Name == "":
			return nil, &IndexError{Msg: fmt.Sprintf("modules[%d] has no name", i)}
		case !validName.MatchString(m.File) || !strings.HasSuffix(m.File, ".yang"):
			return nil, &IndexError{Msg: fmt.Sprintf("module %s: file %q is not a .yang file of the folder", m.key(), m.File)}
		}
		k := fmt.Sprintf("%s %v %v %v", m.key(), m.Features, m.Deviations, m.Devices)
		if seen[k] {
			return nil, &IndexError{Msg: fmt.Sprintf("module %s is listed twice", m.key())}
		}
		seen[k] = true
		for _, d := range m.Devices {
			if !slices.Contains(idx.Devices, d) {
				return nil, &IndexError{Msg: fmt.Sprintf("module %s names device %q, which is not among the index's devices", m.key(), d)}
			}
		}
	}
	return &idx, nil
}

// Marshal writes the index as YAML, in a stable order, so that fetching
// twice from unchanged devices changes no byte of the repo.
func (idx Index) Marshal() ([]byte, error) {
	idx.Devices = slices.Sorted(slices.Values(idx.Devices))
	mods := slices.Clone(idx.Modules)
	for i := range mods {
		mods[i].Features = slices.Sorted(slices.Values(mods[i].Features))
		mods[i].Deviations = slices.Sorted(slices.Values(mods[i].Deviations))
		mods[i].Devices = slices.Sorted(slices.Values(mods[i].Devices))
	}
	slices.SortFunc(mods, func(a, b IndexModule) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Revision, b.Revision),
			cmp.Compare(strings.Join(a.Devices, ","), strings.Join(b.Devices, ",")),
			cmp.Compare(strings.Join(a.Features, ","), strings.Join(b.Features, ",")))
	})
	idx.Modules = mods
	var b bytes.Buffer
	b.WriteString("# The YANG modules the devices of this platform advertise, fetched from them\n")
	b.WriteString("# by `netrecon schemas fetch`; validate checks rendered configuration against\n")
	b.WriteString("# them. Fetch again instead of editing.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(idx); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Write puts the platform into the intent repo at root: its folder
// Dir/<platform> is made to hold exactly the index and the module files
// (module files of an earlier fetch that are no longer advertised are
// removed; other files are left alone).
func (p *Platform) Write(root string) error {
	if !validName.MatchString(p.Index.Platform) {
		return fmt.Errorf("platform %q is not a valid folder name", p.Index.Platform)
	}
	dir := filepath.Join(root, Dir, p.Index.Platform)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, err := filepath.Glob(filepath.Join(dir, "*.yang"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if _, ok := p.Files[filepath.Base(f)]; !ok {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.Files)) {
		if !validName.MatchString(name) {
			return fmt.Errorf("module file %q is not a valid file name", name)
		}
		if err := writeFile(filepath.Join(dir, name), []byte(p.Files[name])); err != nil {
			return err
		}
	}
	b, err := p.Index.Marshal()
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, IndexFile), b)
}

// writeFile replaces a file through a temporary one, so that a reader never
// sees half of it.
func writeFile(name string, b []byte) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// errText drops the fs.PathError wrapping, whose path the message has
// already.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
