package irrsim

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/netrecon/netrecon/rpsl"
)

// store is one database's objects, with the changes that are accepted but not
// yet visible (the ShowAfter fault).
type store struct {
	mu   sync.Mutex
	objs map[string]*rpsl.Object
	// byOrigin indexes route and route6 objects by origin, for !g and !6,
	// which bgpq4 sends once per AS number of a set.
	byOrigin map[uint32]map[string]bool
	pending  []pendingChange
	now      func() time.Time
}

type pendingChange struct {
	at     time.Time
	obj    *rpsl.Object
	delete bool
}

func newStore(now func() time.Time) *store {
	return &store{objs: map[string]*rpsl.Object{}, byOrigin: map[uint32]map[string]bool{}, now: now}
}

// storeKey identifies an object: its class and its primary key, which for a
// route is prefix and origin (RFC 2622 §4.2); keys are case-insensitive.
func storeKey(o *rpsl.Object) string {
	return o.Class() + " " + strings.ToUpper(o.RouteKey())
}

// settle makes visible the changes whose time has come. Callers hold mu.
func (s *store) settle() {
	now := s.now()
	kept := s.pending[:0]
	for _, p := range s.pending {
		if now.Before(p.at) {
			kept = append(kept, p)
			continue
		}
		s.applyLocked(p.obj, p.delete)
	}
	s.pending = kept
}

func (s *store) applyLocked(o *rpsl.Object, del bool) {
	key := storeKey(o)
	if old, ok := s.objs[key]; ok {
		if n, ok := routeOrigin(old); ok {
			delete(s.byOrigin[n], key)
		}
	}
	if del {
		delete(s.objs, key)
		return
	}
	s.objs[key] = o.Clone()
	if n, ok := routeOrigin(o); ok {
		if s.byOrigin[n] == nil {
			s.byOrigin[n] = map[string]bool{}
		}
		s.byOrigin[n][key] = true
	}
}

// routeOrigin is the origin of a route or route6 object.
func routeOrigin(o *rpsl.Object) (uint32, bool) {
	if o.Class() != "route" && o.Class() != "route6" {
		return 0, false
	}
	origin, _ := o.Get("origin")
	n, err := rpsl.ParseASN(origin)
	return n, err == nil
}

// change records a create, modify or delete, visible after delay.
func (s *store) change(o *rpsl.Object, del bool, delay time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	if delay <= 0 {
		s.applyLocked(o, del)
		return
	}
	s.pending = append(s.pending, pendingChange{at: s.now().Add(delay), obj: o.Clone(), delete: del})
}

// get returns the visible object of class with the primary key.
func (s *store) get(class, key string) (*rpsl.Object, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	o, ok := s.objs[strings.ToLower(class)+" "+strings.ToUpper(key)]
	if !ok {
		return nil, false
	}
	return o.Clone(), true
}

// sorted returns the visible objects that keep says, in class then key order.
func (s *store) sorted(keep func(*rpsl.Object) bool) []*rpsl.Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	var out []*rpsl.Object
	for _, o := range s.objs {
		if keep(o) {
			out = append(out, o.Clone())
		}
	}
	slices.SortFunc(out, func(a, b *rpsl.Object) int { return cmp.Compare(storeKey(a), storeKey(b)) })
	return out
}

// lookup finds objects by a RIPE-style search key: any class whose primary key
// equals it, and routes whose prefix does.
func (s *store) lookup(key string, classes []string) []*rpsl.Object {
	return s.sorted(func(o *rpsl.Object) bool {
		if len(classes) > 0 && !slices.Contains(classes, o.Class()) {
			return false
		}
		return strings.EqualFold(o.Key(), key) || strings.EqualFold(o.RouteKey(), key)
	})
}

// inverse finds objects whose attribute attr lists value (RIPE -i, IRRd !o).
func (s *store) inverse(attr, value string) []*rpsl.Object {
	return s.sorted(func(o *rpsl.Object) bool {
		return slices.ContainsFunc(o.List(attr), func(v string) bool { return strings.EqualFold(v, value) })
	})
}

// prefixes returns the distinct prefixes of the route (class "route") or
// route6 objects originated by asn, in address order.
func (s *store) prefixes(class string, asns map[uint32]bool) []string {
	s.mu.Lock()
	s.settle()
	var objs []*rpsl.Object
	for n := range asns {
		for key := range s.byOrigin[n] {
			if o := s.objs[key]; o.Class() == class {
				objs = append(objs, o)
			}
		}
	}
	s.mu.Unlock()
	var ps []netip.Prefix
	for _, o := range objs {
		if p, err := netip.ParsePrefix(o.Key()); err == nil {
			ps = append(ps, p.Masked())
		}
	}
	slices.SortFunc(ps, func(a, b netip.Prefix) int {
		return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
	})
	ps = slices.Compact(ps)
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// setMembers returns a set's members as IRRd's !i answers them: direct members
// (and members by reference, RFC 2622 §5.1) as written; or, recursively, every
// AS number (as-set) or prefix (route-set) reached, each once, cycles safe.
// found is false when the set does not exist.
func (s *store) setMembers(name string, recursive bool) (members []string, found bool) {
	class := "as-set"
	if strings.HasPrefix(strings.ToUpper(setTail(name)), "RS-") {
		class = "route-set"
	}
	top, ok := s.get(class, name)
	if !ok {
		return nil, false
	}
	if !recursive {
		return s.directMembers(top), true
	}
	seen := map[string]bool{}
	asns := map[uint32]bool{}
	var routes []string
	var walk func(o *rpsl.Object)
	walk = func(o *rpsl.Object) {
		if seen[storeKey(o)] {
			return
		}
		seen[storeKey(o)] = true
		for _, m := range s.directMembers(o) {
			if n, err := rpsl.ParseASN(m); err == nil {
				asns[n] = true
				continue
			}
			if _, err := netip.ParsePrefix(strings.SplitN(m, "^", 2)[0]); err == nil {
				routes = append(routes, m)
				continue
			}
			for _, c := range []string{"as-set", "route-set"} {
				if child, ok := s.get(c, m); ok {
					walk(child)
				}
			}
		}
	}
	walk(top)
	if class == "route-set" {
		routes = append(routes, s.prefixes("route", asns)...)
		routes = append(routes, s.prefixes("route6", asns)...)
		slices.Sort(routes)
		return slices.Compact(routes), true
	}
	nums := make([]uint32, 0, len(asns))
	for n := range asns {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	out := make([]string, len(nums))
	for i, n := range nums {
		out[i] = rpsl.FormatASN(n)
	}
	return out, true
}

// directMembers lists a set's members attribute (mp-members too) and the
// objects that join it by reference: those whose member-of names the set and
// whose mnt-by is one the set's mbrs-by-ref allows (or ANY).
func (s *store) directMembers(set *rpsl.Object) []string {
	members := append(set.List("members"), set.List("mp-members")...)
	byRef := set.List("mbrs-by-ref")
	if len(byRef) == 0 {
		return members
	}
	for _, o := range s.inverse("member-of", set.Key()) {
		if slices.ContainsFunc(o.List("mnt-by"), func(m string) bool {
			return slices.ContainsFunc(byRef, func(r string) bool {
				return strings.EqualFold(r, "ANY") || strings.EqualFold(r, m)
			})
		}) {
			members = append(members, o.Key())
		}
	}
	return members
}

// setTail is the last component of a hierarchical set name.
func setTail(name string) string {
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		return name[i+1:]
	}
	return name
}
