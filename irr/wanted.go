package irr

import (
	"cmp"
	"slices"
	"strings"

	"github.com/netrecon/netrecon/schema"
)

// Target is one provider as-set in one database, with the members main's
// bgp-customers want in it.
type Target struct {
	Database string
	Object   string   // the provider as-set, e.g. AS-NETRECON-CUSTOMERS
	Members  []string // sorted, upper-case, without duplicates
}

// Wanted reads main's bgp-customer services (by field name: import,
// provider_as_set, irr_databases) and returns, per database and provider
// as-set, the members they want there, sorted by database then object.
func Wanted(in *schema.Intent) []Target {
	type key struct{ db, obj string }
	members := map[key]map[string]bool{}
	for _, s := range in.Services {
		if s.Kind != schema.KindBGPCustomer {
			continue
		}
		imp, _ := s.Spec["import"].(string)
		set, _ := s.Spec["provider_as_set"].(string)
		if imp == "" || set == "" {
			continue
		}
		dbs, _ := s.Spec["irr_databases"].([]any)
		for _, x := range dbs {
			db, _ := x.(string)
			if db == "" {
				continue
			}
			k := key{db, strings.ToUpper(set)}
			if members[k] == nil {
				members[k] = map[string]bool{}
			}
			members[k][strings.ToUpper(imp)] = true
		}
	}
	out := make([]Target, 0, len(members))
	for k, m := range members {
		out = append(out, Target{Database: k.db, Object: k.obj, Members: sortedSet(m)})
	}
	slices.SortFunc(out, func(a, b Target) int {
		return cmp.Or(cmp.Compare(a.Database, b.Database), cmp.Compare(a.Object, b.Object))
	})
	return out
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for s := range m {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// newMembers is the object's member list after netrecon's change: what the
// registry holds, less what netrecon put there before (prevOwn) and no longer
// wants, plus what it wants. Members someone else added stay: netrecon
// removes only what it added (DESIGN.md invariant 3, applied to registries).
func newMembers(current, prevOwn, wanted []string) []string {
	m := map[string]bool{}
	drop := map[string]bool{}
	for _, s := range prevOwn {
		drop[strings.ToUpper(s)] = true
	}
	for _, s := range wanted {
		delete(drop, strings.ToUpper(s))
	}
	for _, s := range current {
		if u := strings.ToUpper(s); !drop[u] {
			m[u] = true
		}
	}
	for _, s := range wanted {
		m[strings.ToUpper(s)] = true
	}
	return sortedSet(m)
}
