package schema

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

func irrFS(t *testing.T, name string) fstest.MapFS {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "irr", name))
	if err != nil {
		t.Fatal(err)
	}
	return fstest.MapFS{IRRSettingsFile: {Data: b}}
}

func TestLoadIRRSettingsValid(t *testing.T) {
	s, diags := LoadIRRSettings(irrFS(t, "valid.yaml"))
	if len(diags) > 0 {
		t.Fatalf("diagnostics: %v", diags)
	}
	if len(s.Databases) != 2 || s.MaxShrink != 0.1 || s.Commit != "direct" {
		t.Fatalf("settings = %+v", s)
	}
	jp, radb := s.Database("JPIRR"), s.Database("RADB")
	if jp.Submission.Email == nil || jp.Submission.Email.To != "auto-dbm@nic.ad.jp" || jp.Auth.Password != "env:JPIRR_PASSWORD" {
		t.Errorf("JPIRR = %+v", jp)
	}
	if strings.Join(jp.Sources, ",") != "JPIRR" {
		t.Errorf("JPIRR sources default to its name, got %v", jp.Sources)
	}
	if radb.Submission.HTTP == nil || radb.Auth.PGP == nil || radb.Auth.PGP.KeyID != "0xDEADBEEF01234567" || radb.Auth.PGP.Key != "file:/etc/netrecon/radb.asc" {
		t.Errorf("RADB = %+v", radb)
	}
	if strings.Join(radb.Sources, ",") != "RADB,NTTCOM" {
		t.Errorf("RADB sources = %v", radb.Sources)
	}
	if jp.Pos.Line != 4 {
		t.Errorf("JPIRR's position = %v, want line 4", jp.Pos)
	}
}

func TestLoadIRRSettingsAbsent(t *testing.T) {
	s, diags := LoadIRRSettings(fstest.MapFS{})
	if s != nil || len(diags) > 0 {
		t.Fatalf("no file: got %v, %v", s, diags)
	}
}

// Every problem is reported at once, each at its line.
func TestLoadIRRSettingsErrors(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string // "line:field"
	}{
		{"bad.yaml", []string{"4:databases[0].name", "5:databases[0].whois", "10:databases[0].auth", "11:databases[1].submission"}},
		{"duplicate.yaml", []string{"9:databases[1].name"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, diags := LoadIRRSettings(irrFS(t, tc.file))
			if !diags.HasErrors() {
				t.Fatal("no error")
			}
			var got []string
			for _, d := range diags {
				got = append(got, strings.Join([]string{strconv.Itoa(d.Pos.Line), d.Field}, ":"))
				if d.Pos.File != IRRSettingsFile {
					t.Errorf("%v: file %q", d, d.Pos.File)
				}
			}
			for _, w := range tc.want {
				found := false
				for _, g := range got {
					if strings.HasPrefix(g, w) {
						found = true
					}
				}
				if !found {
					t.Errorf("want a diagnostic at %s; got %v\n%v", w, got, diags)
				}
			}
		})
	}
}

// A bgp-customer naming a database irr/settings.yaml does not define is an
// error at the list entry.
func TestCheckIRRReferences(t *testing.T) {
	s, diags := LoadIRRSettings(irrFS(t, "valid.yaml"))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	svc := &Service{Kind: KindBGPCustomer, Name: "acme-bgp", Pos: Pos{File: "services/acme/bgp.yaml", Line: 1, Col: 1},
		Spec:   map[string]any{"irr_databases": []any{"JPIRR", "NTTCOM"}},
		Fields: map[string]Pos{"spec.irr_databases[1]": {File: "services/acme/bgp.yaml", Line: 12, Col: 9}}}
	in := &Intent{Services: []*Service{svc, {Kind: KindStaticRouting, Spec: map[string]any{"irr_databases": []any{"NOPE"}}}}}
	got := checkIRR(in, s, "")
	if len(got) != 1 || got[0].Pos.Line != 12 || got[0].Field != "spec.irr_databases[1]" || !strings.Contains(got[0].Summary, `"NTTCOM"`) || !strings.Contains(got[0].Detail, "JPIRR, RADB") {
		t.Fatalf("got %v", got)
	}
	if got := checkIRR(in, nil, ""); len(got) != 2 || !strings.Contains(got[0].Detail, IRRSettingsFile) {
		t.Fatalf("without settings: %v", got)
	}
	inside := &IRRSettings{Databases: []*IRRDatabase{{Name: "RADB", Auth: IRRAuth{Password: "file:/repo/secrets/radb"}}}}
	if got := checkIRR(&Intent{}, inside, "/repo"); len(got) != 1 || !strings.Contains(got[0].Summary, "inside the intent repo") {
		t.Fatalf("secret inside the repo: %v", got)
	}
}

// Load reads irr/settings.yaml with the rest of the repo and reports its
// problems with the others.
func TestLoadReadsIRRSettings(t *testing.T) {
	fsys := fstest.MapFS{}
	root := filepath.Join("testdata", "valid")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		fsys[filepath.ToSlash(rel)] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	in, diags := Load(fsys, Options{})
	if diags.HasErrors() || in.IRR != nil {
		t.Fatalf("without settings: %v, %v", in.IRR, diags)
	}
	fsys[IRRSettingsFile] = irrFS(t, "valid.yaml")[IRRSettingsFile]
	if in, diags = Load(fsys, Options{}); diags.HasErrors() || in.IRR.Database("RADB") == nil {
		t.Fatalf("with settings: %v", diags)
	}
	fsys[IRRSettingsFile] = irrFS(t, "bad.yaml")[IRRSettingsFile]
	if _, diags = Load(fsys, Options{}); !diags.HasErrors() || diags[0].Pos.File != IRRSettingsFile {
		t.Fatalf("bad settings: %v", diags)
	}
}

func FuzzIRRSettings(f *testing.F) {
	for _, n := range []string{"valid.yaml", "bad.yaml", "duplicate.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "irr", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, diags := parseIRRSettings(IRRSettingsFile, b)
		if s == nil && !diags.HasErrors() {
			t.Fatal("no settings and no error")
		}
	})
}
