package schema

import (
	"fmt"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"
)

// PrefixListsDir holds the prefix lists `netrecon irr sync` generates from
// the IRR, one file per as-set or AS: <object name lower-cased>.yaml.
const PrefixListsDir = "generated/irr"

// PrefixList is a generated file of PrefixListsDir: what an IRR object
// expands to, as of the sync that wrote it. The render builds a customer's
// import filter from it; Git holds its history.
type PrefixList struct {
	Object  string   `json:"object"`  // the as-set or AS, as the registry names it
	Sources []string `json:"sources"` // the databases it was expanded from
	IPv4    []string `json:"ipv4"`    // masked prefixes
	IPv6    []string `json:"ipv6"`
	Pos     Pos      `json:"-"` // the file
}

// PrefixListFile is the repo-relative file of object's prefix list.
func PrefixListFile(object string) string {
	return PrefixListsDir + "/" + strings.ToLower(object) + ".yaml"
}

// PrefixList returns the generated prefix list of an IRR object (RPSL names
// are case-insensitive), or nil when there is none yet.
func (in *Intent) PrefixList(object string) *PrefixList {
	return in.PrefixLists[strings.ToUpper(object)]
}

// loadPrefixLists reads PrefixListsDir. A file that does not read as a
// prefix list is an error at its place: the filter of a customer must never
// be guessed from a damaged file.
func loadPrefixLists(r *repoFS) (map[string]*PrefixList, Diagnostics) {
	files, _, diags := r.listYAML(PrefixListsDir, false)
	out := make(map[string]*PrefixList, len(files))
	for _, f := range files {
		data, err := r.read(f.name, f.typ)
		if err != nil {
			diags = diags.Append(fileDiag(f.name, err))
			continue
		}
		pl, ds := parsePrefixList(f.name, data)
		diags = append(diags, ds...)
		if pl != nil {
			out[strings.ToUpper(pl.Object)] = pl
		}
	}
	return out, diags
}

// parsePrefixList reads one generated file; nil when it has errors.
func parsePrefixList(file string, data []byte) (*PrefixList, Diagnostics) {
	doc, diags := parseDocument(file, data)
	if diags.HasErrors() {
		return nil, diags
	}
	errorf := func(field, detail, format string, args ...any) {
		diags = diags.Append(Diagnostic{Severity: Error, Pos: doc.lookup(field), Field: field,
			Summary: fmt.Sprintf(format, args...), Detail: detail})
	}
	const regenerate = "this file is generated: run `netrecon irr sync` to write it again"
	for _, k := range sortedKeys(doc.data) {
		if !slices.Contains([]string{"object", "sources", "ipv4", "ipv6"}, k) {
			errorf(k, regenerate, "unknown field %q in a generated prefix list", k)
		}
	}
	pl := &PrefixList{Pos: doc.pos}
	pl.Pos.File = file
	obj, ok := doc.data["object"].(string)
	want := strings.TrimSuffix(strings.TrimSuffix(path.Base(file), ".yaml"), ".yml")
	switch {
	case !ok || obj == "":
		errorf("object", regenerate, "a generated prefix list needs object: the as-set or AS it expands")
	case strings.ToLower(obj) != want:
		errorf("object", "the file of "+obj+" is "+PrefixListFile(obj), "object %s does not match the file name %s", obj, path.Base(file))
	}
	pl.Object = obj
	srcs, _ := doc.data["sources"].([]any)
	for i, s := range srcs {
		str, ok := s.(string)
		if !ok || str == "" {
			errorf("sources["+strconv.Itoa(i)+"]", regenerate, "a source is a database name such as RADB")
			continue
		}
		pl.Sources = append(pl.Sources, str)
	}
	read := func(key string, v6 bool) []string {
		raw, present := doc.data[key]
		list, ok := raw.([]any)
		if present && raw != nil && !ok {
			errorf(key, regenerate, "%s must be a list of prefixes", key)
		}
		out := make([]string, 0, len(list))
		for i, x := range list {
			field := key + "[" + strconv.Itoa(i) + "]"
			s, _ := x.(string)
			p, err := netip.ParsePrefix(s)
			switch {
			case err != nil:
				errorf(field, regenerate, "invalid prefix %q in %s", s, key)
			case p.Addr().Is6() != v6 || p.Addr().Is4In6():
				errorf(field, regenerate, "%s is not an %s prefix", s, map[bool]string{false: "IPv4", true: "IPv6"}[v6])
			case p.Masked() != p:
				errorf(field, "did you mean "+p.Masked().String()+"? "+regenerate, "prefix %s has host bits set", s)
			default:
				out = append(out, p.String())
			}
		}
		return out
	}
	pl.IPv4, pl.IPv6 = read("ipv4", false), read("ipv6", true)
	if diags.HasErrors() {
		return nil, diags
	}
	return pl, diags
}

// missingPrefixLists warns of each bgp-customer whose import has no
// generated prefix list yet: it renders a deny-all filter, so the session
// comes up and accepts nothing until `netrecon irr sync` has run.
func missingPrefixLists(in *Intent) Diagnostics {
	var diags Diagnostics
	for _, s := range in.Services {
		if s.Kind != KindBGPCustomer {
			continue
		}
		imp := str(s.Spec["import"])
		if imp == "" || in.PrefixList(imp) != nil {
			continue
		}
		diags = diags.Append(Diagnostic{Severity: Warning, Pos: s.FieldPos("spec.import"), Field: "spec.import",
			Summary: fmt.Sprintf("no prefix list for %s yet (%s): the session will accept no route", imp, PrefixListFile(imp)),
			Detail:  "run `netrecon irr sync` to expand it from the IRR; until then the import filter denies everything"})
	}
	return diags
}
