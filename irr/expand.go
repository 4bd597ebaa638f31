package irr

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/netrecon/netrecon/irr/whois"
)

// Resolver is what expansion needs of a registry: *whois.Session has it.
type Resolver interface {
	// Members returns an as-set's members, resolved by the server where it
	// can (IRRd's !i<set>,1).
	Members(ctx context.Context, set string) ([]string, error)
	// Routes returns the prefixes of the route (or route6) objects whose
	// origin is asn.
	Routes(ctx context.Context, asn string, v6 bool) ([]string, error)
}

// Prefixes are an object's expansion: sorted, canonical, without duplicates.
type Prefixes struct {
	V4, V6 []netip.Prefix
}

// Len is the number of prefixes of both families.
func (p Prefixes) Len() int { return len(p.V4) + len(p.V6) }

// maxSetDepth bounds the recursion through sets a server did not resolve
// itself; RPSL allows cycles, which the visited set stops, and this stops a
// registry that makes up new names forever.
const maxSetDepth = 32

// Expand turns an import (an as-set name or "AS<n>") into the prefixes of
// the route and route6 objects its ASes originate, as bgpq4 does: set
// members recursively to AS numbers, then each AS's routes. With aggregate,
// prefixes covered by another are dropped and sibling pairs merged (use it
// only where the prefix list matches more-specifics too).
func Expand(ctx context.Context, r Resolver, object string, aggregate bool) (Prefixes, error) {
	asns, err := origins(ctx, r, object)
	if err != nil {
		return Prefixes{}, err
	}
	var out Prefixes
	for _, asn := range asns {
		for _, v6 := range []bool{false, true} {
			list, err := r.Routes(ctx, asn, v6)
			if err != nil {
				return Prefixes{}, fmt.Errorf("expand %s: routes of %s: %w", object, asn, err)
			}
			for _, s := range list {
				p, err := netip.ParsePrefix(s)
				if err != nil || p.Addr().Is6() != v6 || p.Addr().Is4In6() {
					return Prefixes{}, fmt.Errorf("expand %s: routes of %s: %q is not an IPv%s prefix", object, asn, s, map[bool]string{false: "4", true: "6"}[v6])
				}
				if v6 {
					out.V6 = append(out.V6, p.Masked())
				} else {
					out.V4 = append(out.V4, p.Masked())
				}
			}
		}
	}
	out.V4, out.V6 = tidy(out.V4), tidy(out.V6)
	if aggregate {
		out.V4, out.V6 = Aggregate(out.V4), Aggregate(out.V6)
	}
	return out, nil
}

// origins resolves object to its AS numbers, sorted by number.
func origins(ctx context.Context, r Resolver, object string) ([]string, error) {
	if IsASN(object) {
		return []string{strings.ToUpper(object)}, nil
	}
	seen := map[string]bool{}
	asns := map[string]bool{}
	var walk func(set string, depth int) error
	walk = func(set string, depth int) error {
		key := strings.ToUpper(set)
		if seen[key] {
			return nil
		}
		seen[key] = true
		if depth > maxSetDepth {
			return fmt.Errorf("expand %s: sets nest deeper than %d at %s", object, maxSetDepth, set)
		}
		members, err := r.Members(ctx, set)
		if errors.Is(err, whois.ErrNotFound) {
			// A set the registry does not have (or has empty) has no
			// members, as bgpq4 reads it; a list that empties because of it
			// is held by sync's safety rules, never written silently.
			return nil
		}
		if err != nil {
			return fmt.Errorf("expand %s: members of %s: %w", object, set, err)
		}
		for _, m := range members {
			switch {
			case IsASN(m):
				asns[strings.ToUpper(m)] = true
			case m == "":
			default:
				// A server that did not resolve the set for us.
				if err := walk(m, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(object, 0); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(asns))
	for a := range asns {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b string) int {
		x, _ := strconv.ParseUint(a[2:], 10, 32)
		y, _ := strconv.ParseUint(b[2:], 10, 32)
		return cmp.Compare(x, y)
	})
	return out, nil
}

// IsASN reports whether s is an AS number in asplain ("AS64500"), 1 to
// 4294967295.
func IsASN(s string) bool {
	if len(s) < 3 || !strings.EqualFold(s[:2], "AS") {
		return false
	}
	n, err := strconv.ParseUint(s[2:], 10, 32)
	return err == nil && n > 0 && s[2] != '0' && s[2] != '+'
}

// tidy sorts prefixes and drops duplicates.
func tidy(ps []netip.Prefix) []netip.Prefix {
	slices.SortFunc(ps, comparePrefix)
	return slices.Compact(ps)
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// Aggregate returns the fewest prefixes that cover exactly the addresses of
// ps: covered prefixes dropped, sibling pairs merged into their parent, until
// nothing changes. ps must be sorted and of one family.
func Aggregate(ps []netip.Prefix) []netip.Prefix {
	out := slices.Clone(ps)
	for {
		changed := false
		var next []netip.Prefix
		for _, p := range out {
			if n := len(next); n > 0 {
				last := next[n-1]
				if last.Bits() <= p.Bits() && last.Contains(p.Addr()) {
					changed = true
					continue // covered
				}
				if last.Bits() == p.Bits() && last.Bits() > 0 {
					parent, _ := last.Addr().Prefix(last.Bits() - 1)
					if pp, _ := p.Addr().Prefix(p.Bits() - 1); pp == parent {
						next[n-1] = parent
						changed = true
						continue
					}
				}
			}
			next = append(next, p)
		}
		out = next
		if !changed {
			return tidy(out)
		}
	}
}
