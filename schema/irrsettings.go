package schema

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
)

// KindIRRSettings is the kind of the IRR settings document, and
// IRRSettingsFile where the intent repo keeps it.
const (
	KindIRRSettings = "irr-settings"
	IRRSettingsFile = "irr/settings.yaml"
)

// Default sync policy when irr/settings.yaml says nothing.
const (
	DefaultIRRMaxShrink = 0.2
	DefaultIRRCommit    = "pull-request"
)

// IRRSettings are the IRR databases netrecon registers customers in and reads
// prefixes from (docs/irr.md).
type IRRSettings struct {
	Databases []*IRRDatabase // in the file's order
	// MaxShrink is the largest share (0..1) of an object's prefixes a sync
	// may drop and still be merged without a person.
	MaxShrink float64
	// Commit is how a sync's commit reaches main: "pull-request", "branch"
	// or "direct".
	Commit string
	Pos    Pos
}

// Database returns the database called name, or nil.
func (s *IRRSettings) Database(name string) *IRRDatabase {
	if s == nil {
		return nil
	}
	for _, d := range s.Databases {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// IRRDatabase is one registry: where to ask it (whois) and how to change it
// (submission, as the maintainer, with auth).
type IRRDatabase struct {
	Name       string
	Whois      string // host:port
	Submission IRRSubmission
	Maintainer string
	Auth       IRRAuth
	// Sources are the source names whois queries restrict to; by default
	// the database's name.
	Sources []string
	Pos     Pos
}

// IRRSubmission is exactly one transport.
type IRRSubmission struct {
	Email *IRREmail
	HTTP  *IRRHTTP
}

// IRREmail submits by mail: To is the registry's robot address (auto-dbm@),
// From the address its replies come back to.
type IRREmail struct{ To, From string }

// IRRHTTP submits through IRRd's HTTP submission API.
type IRRHTTP struct{ URL string }

// IRRAuth is exactly one of a password and a PGP key, both references.
type IRRAuth struct {
	Password SecretRef // "" when PGP is set
	PGP      *IRRPGP
}

// IRRPGP signs submissions with the key KeyID of the key ring Key refers to.
type IRRPGP struct {
	Key   SecretRef
	KeyID string
}

// SecretRef names a secret without holding it: "env:NAME" (an environment
// variable of the process that resolves it) or "file:/absolute/path" (a file
// only its owner may read, as schema.CheckFileMode requires). Printing a
// SecretRef prints the reference, which is safe anywhere.
type SecretRef string

// Resolve reads the secret: env:NAME from the environment, file:/PATH from a
// file only its owner may access (CheckFileMode), without the final newline
// an editor adds (a password with it would be another password). An empty
// secret is an error. The error names the reference, never a value. This is
// the one resolver: device session keys (reconcile/secretref) and IRR
// passwords and keys (irr) both come here.
func (r SecretRef) Resolve() ([]byte, error) {
	switch kind, where, _ := strings.Cut(string(r), ":"); kind {
	case "env":
		v, ok := os.LookupEnv(where)
		if !ok || v == "" {
			return nil, fmt.Errorf("secret %s: environment variable %s is not set", r, where)
		}
		return []byte(v), nil
	case "file":
		if err := CheckFileMode(where); err != nil {
			return nil, fmt.Errorf("secret %s: %w", r, err)
		}
		b, err := os.ReadFile(where)
		if err != nil {
			return nil, fmt.Errorf("secret %s: %w", r, err)
		}
		b = bytes.TrimRight(b, "\r\n")
		if len(b) == 0 {
			return nil, fmt.Errorf("secret %s: the file is empty", r)
		}
		return b, nil
	}
	return nil, fmt.Errorf("secret %s: a reference is env:NAME or file:/PATH", r)
}

// LoadIRRSettings reads irr/settings.yaml from fsys. A repo without the file
// gives nil settings and no diagnostic: it uses no IRR.
func LoadIRRSettings(fsys fs.FS) (*IRRSettings, Diagnostics) {
	r := &repoFS{fsys: fsys, maxSize: DefaultMaxFileSize}
	// List the folder rather than stat the file: a file system without
	// StatFS would open it, and Load promises not to open documents it can
	// take from elsewhere.
	dir, base := path.Split(IRRSettingsFile)
	entries, err := fs.ReadDir(fsys, strings.TrimSuffix(dir, "/"))
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !slices.ContainsFunc(entries, func(e fs.DirEntry) bool { return e.Name() == base })) {
		return nil, nil
	}
	data, err := r.readFile(IRRSettingsFile)
	if err != nil {
		d := Diagnostic{Severity: Error, Pos: Pos{File: IRRSettingsFile}, Summary: err.Error()}
		var fe *fileError
		if errors.As(err, &fe) {
			d.Summary, d.Detail = fe.summary, fe.detail
		}
		return nil, Diagnostics{d}
	}
	return parseIRRSettings(IRRSettingsFile, data)
}

func parseIRRSettings(file string, data []byte) (*IRRSettings, Diagnostics) {
	doc, diags := parseDocument(file, data)
	if diags.HasErrors() {
		return nil, diags
	}
	src, err := builtinCUE.ReadFile("cue/irr_settings.cue")
	if err != nil {
		return nil, diags.Errorf(Pos{File: file}, "", "internal error: %v", err)
	}
	v := &validator{ctx: cuecontext.New()}
	schema := v.ctx.CompileBytes(src, cue.Filename("builtin/irr_settings.cue")).LookupPath(cue.MakePath(cue.Def("IRRSettings")))
	if err := schema.Err(); err != nil {
		return nil, diags.Errorf(Pos{File: file}, "", "internal error: built-in schema irr_settings.cue: %v", err)
	}
	if _, ds := v.check(schema, doc, false); ds.HasErrors() {
		return nil, ds
	}
	s := irrSettingsOf(doc)
	seen := make(map[string]*IRRDatabase)
	for i, d := range s.Databases {
		if first := seen[d.Name]; first != nil {
			diags = diags.Append(Diagnostic{Severity: Error, Pos: doc.lookup("databases[" + strconv.Itoa(i) + "].name"),
				Field: "databases[" + strconv.Itoa(i) + "].name", Summary: fmt.Sprintf("database %q is defined twice", d.Name),
				Detail: "each database is named once; its first definition is at " + first.Pos.String()})
			continue
		}
		seen[d.Name] = d
	}
	return s, diags
}

// irrSettingsOf builds the model from a validated document.
func irrSettingsOf(doc *document) *IRRSettings {
	s := &IRRSettings{MaxShrink: DefaultIRRMaxShrink, Commit: DefaultIRRCommit, Pos: doc.pos}
	if m, ok := doc.data["sync"].(map[string]any); ok {
		switch x := m["max_shrink"].(type) {
		case float64:
			s.MaxShrink = x
		case int64:
			s.MaxShrink = float64(x)
		}
		if c := str(m["commit"]); c != "" {
			s.Commit = c
		}
	}
	list, _ := doc.data["databases"].([]any)
	for i, x := range list {
		m, _ := x.(map[string]any)
		d := &IRRDatabase{
			Name:       str(m["name"]),
			Whois:      str(m["whois"]),
			Maintainer: str(m["maintainer"]),
			Sources:    strList(m["sources"]),
			Pos:        doc.lookup("databases[" + strconv.Itoa(i) + "]"),
		}
		if len(d.Sources) == 0 {
			d.Sources = []string{d.Name}
		}
		sub, _ := m["submission"].(map[string]any)
		if e, ok := sub["email"].(map[string]any); ok {
			d.Submission.Email = &IRREmail{To: str(e["to"]), From: str(e["from"])}
		}
		if h, ok := sub["http"].(map[string]any); ok {
			d.Submission.HTTP = &IRRHTTP{URL: str(h["url"])}
		}
		auth, _ := m["auth"].(map[string]any)
		if p, ok := auth["password"].(map[string]any); ok {
			d.Auth.Password = SecretRef(str(p["secret"]))
		}
		if p, ok := auth["pgp"].(map[string]any); ok {
			k, _ := p["key"].(map[string]any)
			d.Auth.PGP = &IRRPGP{Key: SecretRef(str(k["secret"])), KeyID: str(p["key_id"])}
		}
		s.Databases = append(s.Databases, d)
	}
	return s
}

// checkIRR checks what services say about the IRR against the settings: every
// database a bgp-customer names must be defined in irr/settings.yaml. With
// repoDir, a secret file inside the repo is refused, as device credentials are.
func checkIRR(in *Intent, settings *IRRSettings, repoDir string) Diagnostics {
	var diags Diagnostics
	if settings != nil && repoDir != "" {
		for _, db := range settings.Databases {
			refs := []SecretRef{db.Auth.Password}
			if db.Auth.PGP != nil {
				refs = append(refs, db.Auth.PGP.Key)
			}
			for _, r := range refs {
				p, ok := strings.CutPrefix(string(r), "file:")
				if !ok {
					continue
				}
				if rel, err := filepath.Rel(repoDir, filepath.Clean(p)); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
					diags = diags.Append(Diagnostic{Severity: Error, Pos: db.Pos, Field: "auth",
						Summary: fmt.Sprintf("database %s: secret %s lies inside the intent repo", db.Name, r),
						Detail:  "secrets never live in the intent repo; keep the file elsewhere on the host"})
				}
			}
		}
	}
	for _, s := range in.Services {
		if s.Kind != KindBGPCustomer {
			continue
		}
		for i, name := range strList(s.Spec["irr_databases"]) {
			if settings.Database(name) != nil {
				continue
			}
			field := "spec.irr_databases[" + strconv.Itoa(i) + "]"
			d := Diagnostic{Severity: Error, Pos: s.FieldPos(field), Field: field,
				Summary: fmt.Sprintf("IRR database %q is not defined", name)}
			if settings == nil {
				d.Detail = "define it in " + IRRSettingsFile + " (kind: " + KindIRRSettings + ")"
			} else {
				names := make([]string, 0, len(settings.Databases))
				for _, db := range settings.Databases {
					names = append(names, db.Name)
				}
				slices.Sort(names)
				d.Detail = fmt.Sprintf("%s defines %s", IRRSettingsFile, strings.Join(names, ", "))
			}
			diags = diags.Append(d)
		}
	}
	return diags
}

// RoutedPrefixes returns the prefixes s routes towards a next hop, read at
// its type's address fields (Addresses.Routes): what the intent sends to the
// customer's router.
func (in *Intent) RoutedPrefixes(s *Service) []netip.Prefix {
	t := in.Types[s.Kind]
	if t == nil {
		return nil
	}
	var out []netip.Prefix
	for _, r := range t.Addresses.Routes {
		for _, v := range compilePath(r.Prefix).values(s.Spec, nil, nil) {
			if p, err := netip.ParsePrefix(v.text); err == nil {
				out = append(out, p.Masked())
			}
		}
	}
	return out
}
