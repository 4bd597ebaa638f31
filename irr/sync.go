package irr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/netrecon/netrecon/irr/whois"
	"github.com/netrecon/netrecon/schema"
)

// GeneratedDir holds the prefix lists sync writes, one file per import
// (the render reads them: a bgp-customer's filter).
const GeneratedDir = "generated/irr"

// GeneratedFile is the repo-relative file of object's prefix list.
func GeneratedFile(object string) string {
	return GeneratedDir + "/" + strings.ToLower(object) + ".yaml"
}

// SyncOptions tune PlanSync. The zero value expands by whois with the
// settings' shrink limit.
type SyncOptions struct {
	// MaxShrink overrides the settings' sync.max_shrink when > 0.
	MaxShrink float64
	// Aggregate merges the prefixes (Expand's aggregate).
	Aggregate bool
	// Dial opens a Resolver on a database; nil opens a whois session with
	// the database's sources selected.
	Dial func(ctx context.Context, db *schema.IRRDatabase) (Resolver, io.Closer, error)
	// Needed returns the prefixes live sessions importing object need, which
	// a sync may never drop without a person; nil uses NeededByIntent.
	Needed func(object string) []netip.Prefix
	Whois  whois.Options
}

// Update is one generated file that changes.
type Update struct {
	Object  string
	File    string
	Sources []string
	Old     Prefixes // the file's prefixes before; zero when it did not exist
	Existed bool
	New     Prefixes
	Content []byte
	// Hold says why this change must wait for a person (never merged by
	// itself); empty when it may go through.
	Hold []string
}

// SyncPlan is what a sync would change in the intent repo.
type SyncPlan struct {
	Updates []Update // changed files only, by file name
}

// Held reports whether any update must wait for a person.
func (p SyncPlan) Held() bool {
	return slices.ContainsFunc(p.Updates, func(u Update) bool { return len(u.Hold) > 0 })
}

// PlanSync expands every bgp-customer's import in the databases its
// customers name, and compares with the generated files in repo (the intent
// repo's tree at the commit the sync starts from). A database that fails
// fails the sync: a partial answer must never become a shorter list.
func PlanSync(ctx context.Context, in *schema.Intent, repo fs.FS, opts SyncOptions) (SyncPlan, error) {
	imports := map[string][]string{} // object → databases, sorted
	for _, s := range in.Services {
		if s.Kind != schema.KindBGPCustomer {
			continue
		}
		imp, _ := s.Spec["import"].(string)
		if imp == "" {
			continue
		}
		obj := strings.ToUpper(imp)
		dbs, _ := s.Spec["irr_databases"].([]any)
		for _, x := range dbs {
			if d, _ := x.(string); d != "" && !slices.Contains(imports[obj], d) {
				imports[obj] = append(imports[obj], d)
			}
		}
	}
	maxShrink := opts.MaxShrink
	if maxShrink <= 0 && in.IRR != nil {
		maxShrink = in.IRR.MaxShrink
	}
	needed := opts.Needed
	if needed == nil {
		needed = func(object string) []netip.Prefix { return NeededByIntent(in, object) }
	}
	sessions := map[string]Resolver{}
	defer func() {
		for _, r := range sessions {
			if c, ok := r.(io.Closer); ok {
				c.Close()
			}
		}
	}()
	resolver := func(name string) (Resolver, error) {
		if r, ok := sessions[name]; ok {
			return r, nil
		}
		db := in.IRR.Database(name)
		if db == nil {
			return nil, fmt.Errorf("irr sync: database %s is not defined in %s", name, schema.IRRSettingsFile)
		}
		r, err := dial(ctx, db, opts)
		if err != nil {
			return nil, err
		}
		sessions[name] = r
		return r, nil
	}
	var plan SyncPlan
	objects := make([]string, 0, len(imports))
	for o := range imports {
		objects = append(objects, o)
	}
	slices.Sort(objects)
	for _, obj := range objects {
		dbs := imports[obj]
		slices.Sort(dbs)
		var got Prefixes
		for _, name := range dbs {
			r, err := resolver(name)
			if err != nil {
				return SyncPlan{}, err
			}
			p, err := Expand(ctx, r, obj, opts.Aggregate)
			if err != nil {
				return SyncPlan{}, fmt.Errorf("irr sync %s: %w", name, err)
			}
			got.V4, got.V6 = append(got.V4, p.V4...), append(got.V6, p.V6...)
		}
		got.V4, got.V6 = tidy(got.V4), tidy(got.V6)
		if opts.Aggregate {
			got.V4, got.V6 = Aggregate(got.V4), Aggregate(got.V6)
		}
		file := GeneratedFile(obj)
		u := Update{Object: obj, File: file, Sources: dbs, New: got, Content: render(obj, dbs, got)}
		old, err := fs.ReadFile(repo, file)
		switch {
		case err == nil:
			if bytes.Equal(old, u.Content) {
				continue
			}
			u.Existed = true
			if u.Old, err = parseGenerated(old); err != nil {
				// A damaged file says nothing of what the list was: a
				// person looks before the new one replaces it.
				u.Hold = append(u.Hold, fmt.Sprintf("%s does not read as a prefix list (%v)", file, err))
			}
		case !errors.Is(err, fs.ErrNotExist):
			return SyncPlan{}, fmt.Errorf("irr sync: %s: %w", file, err)
		}
		u.Hold = append(u.Hold, hold(u, maxShrink, needed(obj))...)
		plan.Updates = append(plan.Updates, u)
	}
	return plan, nil
}

func dial(ctx context.Context, db *schema.IRRDatabase, opts SyncOptions) (Resolver, error) {
	if opts.Dial != nil {
		r, c, err := opts.Dial(ctx, db)
		if err != nil {
			return nil, err
		}
		return closingResolver{r, c}, nil
	}
	s, err := whois.Dial(ctx, db.Whois, opts.Whois)
	if err != nil {
		return nil, err
	}
	if err := s.Sources(ctx, db.Sources...); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

type closingResolver struct {
	Resolver
	io.Closer
}

// hold applies the safety rules to one update (docs/irr.md): a list that
// empties, shrinks by more than maxShrink of its prefixes, or loses a
// prefix a live session needs waits for a person.
func hold(u Update, maxShrink float64, needed []netip.Prefix) []string {
	if !u.Existed {
		return nil
	}
	var why []string
	oldN, newN := u.Old.Len(), u.New.Len()
	if oldN > 0 && newN == 0 {
		why = append(why, fmt.Sprintf("%s shrinks from %d prefixes to none", u.Object, oldN))
	}
	lost := append(missing(u.Old.V4, u.New.V4), missing(u.Old.V6, u.New.V6)...)
	if oldN > 0 && newN > 0 && float64(len(lost)) > maxShrink*float64(oldN) {
		why = append(why, fmt.Sprintf("%s loses %d of its %d prefixes (%.0f%%, more than the %.0f%% sync.max_shrink allows)",
			u.Object, len(lost), oldN, 100*float64(len(lost))/float64(oldN), 100*maxShrink))
	}
	for _, p := range needed {
		if slices.Contains(lost, p) || (!covered(p, u.New) && covered(p, u.Old)) {
			why = append(why, fmt.Sprintf("%s no longer covers %s, which a live session of its customers needs", u.Object, p))
		}
	}
	return why
}

func missing(old, now []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range old {
		if !slices.Contains(now, p) {
			out = append(out, p)
		}
	}
	return out
}

func covered(p netip.Prefix, in Prefixes) bool {
	for _, q := range append(slices.Clone(in.V4), in.V6...) {
		if q.Bits() <= p.Bits() && q.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// NeededByIntent is what netrecon can say a live session needs without
// reading the session itself: the prefixes the intent routes to the
// customers that import object (their services' route prefixes, by their
// types' address fields: internet-access prefixes, static routes). A
// customer whose own routed space drops out of its IRR list would see its
// announcements of it filtered.
func NeededByIntent(in *schema.Intent, object string) []netip.Prefix {
	customers := map[string]bool{}
	for _, s := range in.Services {
		if imp, _ := s.Spec["import"].(string); s.Kind == schema.KindBGPCustomer && strings.EqualFold(imp, object) {
			customers[s.Customer] = true
		}
	}
	var out []netip.Prefix
	for _, s := range in.Services {
		if !customers[s.Customer] {
			continue
		}
		for _, p := range in.RoutedPrefixes(s) {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	slices.SortFunc(out, comparePrefix)
	return out
}

// render writes a generated file: deterministic, one prefix a line, so that
// the day-over-day change is a readable Git diff.
func render(obj string, sources []string, p Prefixes) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Generated by `netrecon irr sync` from %s. Do not edit.\n", strings.Join(sources, ", "))
	fmt.Fprintf(&b, "object: %s\n", obj)
	fmt.Fprintf(&b, "sources: [%s]\n", strings.Join(sources, ", "))
	list := func(key string, ps []netip.Prefix) {
		if len(ps) == 0 {
			fmt.Fprintf(&b, "%s: []\n", key)
			return
		}
		fmt.Fprintf(&b, "%s:\n", key)
		for _, q := range ps {
			fmt.Fprintf(&b, "  - %q\n", q.String())
		}
	}
	list("ipv4", p.V4)
	list("ipv6", p.V6)
	return b.Bytes()
}

// parseGenerated reads the prefixes of a generated file.
func parseGenerated(b []byte) (Prefixes, error) {
	var f struct {
		IPv4 []string `yaml:"ipv4"`
		IPv6 []string `yaml:"ipv6"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		return Prefixes{}, err
	}
	var out Prefixes
	for _, s := range f.IPv4 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return Prefixes{}, err
		}
		out.V4 = append(out.V4, p.Masked())
	}
	for _, s := range f.IPv6 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return Prefixes{}, err
		}
		out.V6 = append(out.V6, p.Masked())
	}
	out.V4, out.V6 = tidy(out.V4), tidy(out.V6)
	return out, nil
}
