package schema

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"cuelang.org/go/cue"
	cueerrors "cuelang.org/go/cue/errors"

	"github.com/netrecon/netrecon/diag"
)

// typesDir is where a repo's own service types live.
const typesDir = "service-types"

// nameRe is the DNS-label rule the format gives names (and type folders).
var nameRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// platforms are the platforms a template may be written for.
func platforms() []string { return []string{PlatformIETF, PlatformJunos} }

// builtinTypes returns the ServiceType entries of the built-in kinds. Their
// templates are embedded by the render package, so Template is empty here.
func builtinTypes() map[string]*ServiceType {
	out := make(map[string]*ServiceType)
	for kind := range builtinFiles() {
		src, _ := BuiltinSchema(kind)
		out[kind] = &ServiceType{Kind: kind, BuiltIn: true, Schema: src, Template: map[string]Template{}, Addresses: builtinAddresses(kind)}
	}
	return out
}

// builtinAddresses says where the built-in kinds hold addresses, in the
// terms a user type's type.yaml uses (cue/*.cue has the fields).
func builtinAddresses(kind string) Addresses {
	switch kind {
	case KindAttachmentCircuit:
		return Addresses{VRF: "vrf", Links: []string{"ipv4", "ipv6"}}
	case KindStaticRouting:
		return Addresses{VRF: "vrf", Routes: []RouteFields{{Prefix: "routes[].prefix", NextHop: "routes[].nextHop"}}}
	case KindBGPCustomer:
		return Addresses{VRF: "vrf", Neighbors: []string{"neighbor"}}
	}
	return Addresses{}
}

// loadTypes reads service-types/<kind>/ folders. A type with any problem is
// left out (its instances then fail as "unknown kind" would be misleading, so
// they are reported against the broken type instead; see Load).
//
// With deferred set, schema.cue is only read: an Evaluator compiles it later.
func loadTypes(r *repoFS, v *validator, deferred bool) (types map[string]*ServiceType, broken map[string]bool, diags Diagnostics) {
	types = builtinTypes()
	for kind, t := range types {
		t.Shape = shapeOf(v.specs[kind])
	}
	broken = make(map[string]bool)
	if _, err := r.resolve(typesDir); err != nil {
		return types, broken, diags.Append(fileDiag(typesDir, err))
	}
	entries, err := fs.ReadDir(r.fsys, typesDir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return types, broken, nil
		}
		return types, broken, diags.Append(fileDiag(typesDir, err))
	}
	for _, e := range entries {
		dir := typesDir + "/" + e.Name()
		if !e.IsDir() {
			if e.Type()&fs.ModeSymlink != 0 {
				diags = diags.Append(Diagnostic{Severity: Error, Pos: Pos{File: dir},
					Summary: "a service type folder must not be a symbolic link"})
				broken[e.Name()] = true
			}
			continue // README.md and the like
		}
		kind := e.Name()
		t, ds := loadType(r, v, kind, dir, deferred)
		diags = append(diags, ds...)
		if ds.HasErrors() {
			// A folder named after a built-in kind leaves the built-in
			// in place; any other broken type fails its instances.
			if !isBuiltin(kind) {
				broken[kind] = true
			}
			continue
		}
		types[kind] = t
	}
	return types, broken, diags
}

func loadType(r *repoFS, v *validator, kind, dir string, deferred bool) (*ServiceType, Diagnostics) {
	var diags Diagnostics
	schemaFile := dir + "/schema.cue"
	if isBuiltin(kind) {
		return nil, diags.Errorf(Pos{File: dir}, "", "service type %q collides with the built-in type of that name; rename the folder", kind)
	}
	if kind == "Inventory" || !nameRe.MatchString(kind) || len(kind) > 63 {
		return nil, diags.Errorf(Pos{File: dir}, "", "service type folder %q is not a valid kind: use a lower-case DNS label", kind)
	}
	t := &ServiceType{Kind: kind, Dir: dir, Template: make(map[string]Template)}
	entries, err := fs.ReadDir(r.fsys, dir)
	if err != nil {
		return nil, diags.Append(fileDiag(dir, err))
	}
	hasSchema := false
	for _, e := range entries {
		name := dir + "/" + e.Name()
		switch {
		case e.Name() == "schema.cue":
			src, err := r.readFile(name)
			if err != nil {
				diags = diags.Append(fileDiag(name, err))
				continue
			}
			hasSchema = true
			t.Schema = string(src)
		case strings.HasSuffix(e.Name(), ".xml.tmpl"):
			platform := strings.TrimSuffix(e.Name(), ".xml.tmpl")
			if !slices.Contains(platforms(), platform) {
				detail := "name templates <platform>.xml.tmpl with platform one of " + strings.Join(platforms(), ", ")
				if s := diag.Suggest(platform, platforms()); s != "" {
					detail = fmt.Sprintf("did you mean %s.xml.tmpl? Templates are named <platform>.xml.tmpl, with platform one of %s", s, strings.Join(platforms(), ", "))
				}
				diags = diags.Append(Diagnostic{Severity: Error, Pos: Pos{File: name},
					Summary: fmt.Sprintf("template for unknown platform %q", platform), Detail: detail})
				continue
			}
			src, err := r.readFile(name)
			if err != nil {
				diags = diags.Append(fileDiag(name, err))
				continue
			}
			t.Template[platform] = Template{Name: name, Source: string(src)}
		case e.Name() == "type.yaml":
			diags = append(diags, loadTypeFile(r, v, name, t)...)
		}
	}
	if !hasSchema {
		if !diags.HasErrors() {
			diags = diags.Errorf(Pos{File: schemaFile}, "", "service type %q has no schema.cue", kind)
		}
		return nil, diags
	}
	if !deferred {
		ds, compiled := checkUserSchema(v, t)
		diags = append(diags, ds...)
		if !compiled {
			return nil, diags
		}
	}
	if len(t.Template) == 0 {
		diags = diags.Append(Diagnostic{Severity: Warning, Pos: Pos{File: dir},
			Summary: fmt.Sprintf("service type %q has no template", kind),
			Detail:  "add <platform>.xml.tmpl for each platform its instances run on"})
	}
	return t, diags
}

// checkUserSchema compiles a user-defined type's schema.cue and checks that
// #Spec names the devices; compiled is false when it does not compile.
func checkUserSchema(v *validator, t *ServiceType) (diags Diagnostics, compiled bool) {
	schemaFile := t.Dir + "/schema.cue"
	spec, err := compileUserSpec(v.ctx, t)
	if err != nil {
		for _, e := range cueerrors.Errors(err) {
			format, args := e.Msg()
			p := Pos{File: schemaFile}
			if tp := e.Position(); tp.IsValid() {
				p = tokenPos(tp)
			}
			diags = diags.Errorf(p, "", "%s", fmt.Sprintf(format, args...))
		}
		if len(cueerrors.Errors(err)) == 0 {
			diags = diags.Errorf(Pos{File: schemaFile}, "", "%v", err)
		}
		return diags, false
	}
	t.Shape = shapeOf(spec)
	if !hasField(spec, "device") && !hasField(spec, "devices") {
		diags = diags.Append(Diagnostic{Severity: Error, Pos: Pos{File: schemaFile},
			Summary: "#Spec names no device",
			Detail:  "add `device!: string` or `devices!: [...string]` to #Spec: netrecon must know which devices a service configures"})
	}
	return diags, true
}

// hasField reports whether struct v declares a field (required, optional or
// regular) called name.
func hasField(v cue.Value, name string) bool {
	it, err := v.Fields(cue.Optional(true))
	if err != nil {
		return false
	}
	for it.Next() {
		if it.Selector().Unquoted() == name {
			return true
		}
	}
	return false
}

// loadTypeFile reads type.yaml into t, validating it with #TypeFile.
func loadTypeFile(r *repoFS, v *validator, name string, t *ServiceType) Diagnostics {
	data, err := r.readFile(name)
	if err != nil {
		return Diagnostics{fileDiag(name, err)}
	}
	doc, diags := parseDocument(name, data)
	if diags.HasErrors() {
		return diags
	}
	if _, ds := v.check(v.typeFile, doc, false); ds.HasErrors() {
		return ds
	}
	t.Description = str(doc.data["description"])
	if a, ok := doc.data["addresses"].(map[string]any); ok {
		t.Addresses = Addresses{VRF: str(a["vrf"]), Links: strList(a["links"]), Neighbors: strList(a["neighbors"])}
		routes, _ := a["routes"].([]any)
		for _, r := range routes {
			m, _ := r.(map[string]any)
			t.Addresses.Routes = append(t.Addresses.Routes, RouteFields{Prefix: str(m["prefix"]), NextHop: str(m["nextHop"])})
		}
	}
	steps, _ := doc.data["manual_steps"].([]any)
	seen := map[string]bool{}
	for i, x := range steps {
		m, _ := x.(map[string]any)
		field := fmt.Sprintf("manual_steps[%d]", i)
		st := ManualStep{ID: str(m["id"]), Title: str(m["title"]), Instructions: str(m["instructions"]), Pos: doc.lookup(field)}
		if seen[st.ID] {
			diags = diags.Errorf(doc.lookup(field+".id"), field+".id", "manual step %q is declared twice", st.ID)
		}
		seen[st.ID] = true
		data, _ := m["data"].(map[string]any)
		for _, name := range sortedKeys(data) {
			st.Data = append(st.Data, StepField{Name: name, Template: str(data[name]), Pos: doc.lookup(field + ".data." + name)})
		}
		t.ManualSteps = append(t.ManualSteps, st)
	}
	if diags.HasErrors() {
		return diags
	}
	lists, _ := doc.data["lists"].([]any)
	for _, l := range lists {
		m, _ := l.(map[string]any)
		p := path.Clean(str(m["path"]))
		keys, _ := m["keys"].([]any)
		if t.Lists == nil {
			t.Lists = make(map[string][]string)
		}
		for _, k := range keys {
			t.Lists[p] = append(t.Lists[p], str(k))
		}
	}
	return nil
}
