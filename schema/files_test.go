package schema

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/netrecon/netrecon/lab/labtest"
)

// baseRepo is a minimal valid repo: one device, no services.
func baseRepo() fstest.MapFS {
	return fstest.MapFS{
		"inventory/pe.yaml": {Data: []byte(`apiVersion: netrecon.io/v1
kind: Inventory
devices:
  - name: pe1
    platform: ietf
    address: 192.0.2.1
    credentials: {username: netrecon, passwordEnv: PE_PASSWORD}
`)},
	}
}

// wantError asserts an error diagnostic at file whose summary contains text.
func wantError(t *testing.T, diags Diagnostics, file, text string) {
	t.Helper()
	checkDiags(t, diags)
	for _, d := range diags {
		if d.Severity == Error && d.Pos.File == file && strings.Contains(d.Summary, text) {
			return
		}
	}
	t.Errorf("want an error at %s containing %q; got:\n%s", file, text, diagText(diags))
}

func TestLoadFileChecks(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		opts Options
		line int
		want string
	}{
		{"binary", []byte("apiVersion: netrecon.io/v1\nkind: \x00\x01\x02\n"), Options{}, 2, "binary file"},
		{"not-utf8", []byte("apiVersion: netrecon.io/v1\nkind: caf\xe9\n"), Options{}, 2, "not valid UTF-8"},
		{"huge", bytes.Repeat([]byte("# padding\n"), 200), Options{MaxFileSize: 1000}, 0, "file is too large: 2000 bytes, the limit is 1000"},
		{"default-limit", bytes.Repeat([]byte("#"), DefaultMaxFileSize+1), Options{}, 0, "file is too large"},
		{"not-a-mapping", []byte("- a\n- b\n"), Options{}, 1, "document must be a mapping"},
		{"scalar-document", []byte("hello\n"), Options{}, 1, "document must be a mapping"},
		{"missing-kind", []byte("apiVersion: netrecon.io/v1\nmetadata: {name: a, customer: b}\n"), Options{}, 1, `missing required field "kind"`},
		{"kind-not-string", []byte("apiVersion: netrecon.io/v1\nkind: [a]\n"), Options{}, 2, "kind must be a string"},
		{"inventory-in-services", []byte("apiVersion: netrecon.io/v1\nkind: Inventory\ndevices: []\n"), Options{}, 2, `unknown kind "Inventory"`},
		{"complex-key", []byte("? [a, b]\n: c\n"), Options{}, 1, "mapping keys must be plain strings"},
		{"merge-key", []byte("apiVersion: netrecon.io/v1\n<<: {kind: x}\n"), Options{}, 2, "merge key"},
		{"int-overflow", []byte("apiVersion: netrecon.io/v1\nkind: attachment-circuit\nspec: {vlan: 99999999999999999999}\n"), Options{}, 3, "must be an integer, not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := baseRepo()
			fsys["services/x.yaml"] = &fstest.MapFile{Data: tt.data}
			_, diags := Load(fsys, tt.opts)
			wantError(t, diags, "services/x.yaml", tt.want)
			for _, d := range diags {
				if d.Pos.File == "services/x.yaml" && d.Pos.Line != tt.line && strings.Contains(d.Summary, tt.want) {
					t.Errorf("line %d, want %d: %v", d.Pos.Line, tt.line, d)
				}
			}
		})
	}
}

// sizeFS reports a huge size for big.yaml and fails the test if it is read.
type sizeFS struct {
	fstest.MapFS
	t *testing.T
}

func (s sizeFS) Open(name string) (fs.File, error) {
	f, err := s.MapFS.Open(name)
	if err != nil || name != "services/big.yaml" {
		return f, err
	}
	return hugeFile{f, s.t}, nil
}

type hugeFile struct {
	fs.File
	t *testing.T
}

func (h hugeFile) Stat() (fs.FileInfo, error) {
	fi, err := h.File.Stat()
	return hugeInfo{fi}, err
}

func (h hugeFile) Read(p []byte) (int, error) {
	h.t.Error("a file larger than the limit was read")
	return h.File.Read(p)
}

type hugeInfo struct{ fs.FileInfo }

func (hugeInfo) Size() int64 { return 1 << 40 }

func TestLoadStatsBeforeReading(t *testing.T) {
	fsys := baseRepo()
	fsys["services/big.yaml"] = &fstest.MapFile{Data: []byte("apiVersion: netrecon.io/v1\n")}
	_, diags := Load(sizeFS{fsys, t}, Options{})
	wantError(t, diags, "services/big.yaml", "file is too large: 1099511627776 bytes")
}

func TestLoadOptionsCheckThemselves(t *testing.T) {
	_, diags := Load(baseRepo(), Options{MaxFileSize: -1})
	if !diags.HasErrors() || !strings.Contains(diags[0].Summary, "negative") {
		t.Errorf("negative MaxFileSize: %v", diags)
	}
}

// writeRepo writes fsys into a new temp dir.
func writeRepo(t *testing.T, fsys fstest.MapFS) string {
	t.Helper()
	dir := t.TempDir()
	for name, f := range fsys {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		labtest.Missing(t, "cannot make symbolic links here: %v", err)
	}
}

// TestLoadSymlinks uses a real folder: both file systems the CLI may pass
// (os.DirFS follows links; os.Root refuses escapes itself) must refuse a link
// out of the repo with a diagnostic, and accept a link that stays inside.
func TestLoadSymlinks(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.yaml")
	if err := os.WriteFile(outside, []byte("apiVersion: netrecon.io/v1\nkind: Inventory\ndevices: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, link, target, file, want string
	}{
		{"etc-passwd", "services/passwd.yaml", "/etc/passwd", "services/passwd.yaml", "points outside the repository"},
		{"absolute", "inventory/secret.yaml", outside, "inventory/secret.yaml", "points outside the repository"},
		{"relative-escape", "services/up.yaml", "../../../../../../../../etc/passwd", "services/up.yaml", "points outside the repository"},
		{"folder-link", "services/acme", "/etc", "services/acme", "points outside the repository"},
		{"inventory-folder-link", "inventory", "/etc", "inventory", "points outside the repository"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			repo := baseRepo()
			if c.link == "inventory" {
				delete(repo, "inventory/pe.yaml")
			}
			dir := writeRepo(t, repo)
			symlink(t, c.target, filepath.Join(dir, filepath.FromSlash(c.link)))
			for fsName, fsys := range map[string]fs.FS{"DirFS": os.DirFS(dir), "Root": openRoot(t, dir)} {
				_, diags := Load(fsys, Options{})
				found := false
				for _, d := range diags {
					if strings.Contains(d.Summary, c.want) && (c.file == "" || d.Pos.File == c.file) {
						found = true
					}
					if strings.Contains(d.Summary, "root:") || strings.Contains(d.Summary, "devices") {
						t.Errorf("%s: the file behind the link was read: %v", fsName, d)
					}
				}
				if !found {
					t.Errorf("%s: want %q at %q; got:\n%s", fsName, c.want, c.file, diagText(diags))
				}
			}
		})
	}

	t.Run("loop", func(t *testing.T) {
		dir := writeRepo(t, baseRepo())
		symlink(t, "b.yaml", filepath.Join(dir, "services", "a.yaml"))
		symlink(t, "a.yaml", filepath.Join(dir, "services", "b.yaml"))
		for _, fsys := range []fs.FS{os.DirFS(dir), openRoot(t, dir)} {
			_, diags := Load(fsys, Options{})
			wantError(t, diags, "services/a.yaml", "too many levels of symbolic links")
		}
	})

	t.Run("inside", func(t *testing.T) {
		repo := baseRepo()
		repo["shared/ac.yaml"] = &fstest.MapFile{Data: []byte(`apiVersion: netrecon.io/v1
kind: attachment-circuit
metadata: {name: linked, customer: acme}
spec: {device: pe1, interface: ge-0/0/1, vlan: 10, ipv4: 192.0.2.129/30}
`)}
		dir := writeRepo(t, repo)
		symlink(t, "../shared/ac.yaml", filepath.Join(dir, "services", "ac.yaml"))
		for fsName, fsys := range map[string]fs.FS{"DirFS": os.DirFS(dir), "Root": openRoot(t, dir)} {
			in, diags := Load(fsys, Options{})
			if diags.HasErrors() || len(in.Services) != 1 {
				t.Errorf("%s: a link inside the repo: %d services,\n%s", fsName, len(in.Services), diagText(diags))
			}
		}
	})
}

func openRoot(t *testing.T, dir string) fs.FS {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root.FS()
}

func TestLoadFIFOIsNotOpened(t *testing.T) {
	dir := writeRepo(t, baseRepo())
	fifo := filepath.Join(dir, "services", "pipe.yaml")
	if err := os.MkdirAll(filepath.Dir(fifo), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := mkfifo(fifo); err != nil {
		labtest.Missing(t, "no FIFOs here: %v", err)
	}
	_, diags := Load(os.DirFS(dir), Options{})
	wantError(t, diags, "services/pipe.yaml", "not a regular file")
}

func TestLoadFolderLinkInside(t *testing.T) {
	dir := writeRepo(t, baseRepo())
	if err := os.MkdirAll(filepath.Join(dir, "elsewhere"), 0o755); err != nil {
		t.Fatal(err)
	}
	symlink(t, "../elsewhere", filepath.Join(dir, "services", "linked"))
	_, diags := Load(openRoot(t, dir), Options{})
	if diags.HasErrors() || len(diags) != 1 || !strings.Contains(diags[0].Summary, "not followed") {
		t.Errorf("want one warning about the folder link; got:\n%s", diagText(diags))
	}
}
