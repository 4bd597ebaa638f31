package schema

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// The address plan: every address the services declare (Addresses), by
// routing context. A context is a VRF, or the global table, across all
// devices: a VRF of one name on two PEs is one VPN, whose routes (the links'
// subnets among them) every PE of it imports, and the global table is one
// table too. So links, routes and next hops clash within a context whichever
// devices they are on, and never across contexts: two customers in their own
// VRFs may use the same addresses.

// link is a PE's address on a customer link, on one device.
type link struct {
	ctx    string
	device string
	addr   netip.Prefix // the PE's address with the link's length
	subnet netip.Prefix // masked
	svc    *Service
	field  string
}

// route is a prefix a service routes towards a next hop, on one device.
type route struct {
	ctx      string
	device   string
	prefix   netip.Prefix // masked
	nextHop  netip.Addr   // invalid when the next hop is missing or bad
	svc      *Service
	field    string // the prefix's
	hopField string
}

// neighbor is a customer router's address the PE points at: a route's next
// hop or a declared neighbour.
type neighbor struct {
	ctx    string
	device string
	addr   netip.Addr
	svc    *Service
	field  string
	what   string // "next hop" or "neighbour address", for messages
}

// addressPlan collects the addresses of every service.
type addressPlan struct {
	links     []link
	routes    []route
	neighbors []neighbor
}

// maxLists is how many lists a field path may go through and still pair a
// route's next hop with its prefix element by element.
const maxLists = 4

// fieldPath is a compiled field path of Addresses ("routes[].prefix"): the
// keys from the spec down, each marked when it holds a list.
type fieldPath []pathStep

type pathStep struct {
	key  string
	each bool // the key holds a list: take each element
}

func compilePath(p string) fieldPath {
	if p == "" {
		return nil
	}
	parts := strings.Split(p, ".")
	fp := make(fieldPath, len(parts))
	for i, part := range parts {
		fp[i].key, fp[i].each = strings.CutSuffix(part, "[]")
	}
	return fp
}

// compiledAddresses are a type's Addresses, compiled once per check.
type compiledAddresses struct {
	vrf       fieldPath
	links     []fieldPath
	neighbors []fieldPath
	routes    []compiledRoute
}

type compiledRoute struct {
	prefix, nextHop fieldPath
	// shared is how many of nextHop's lists are also prefix's (the leading
	// steps both take alike): in those it takes the prefix's element.
	shared int
}

func compileAddresses(a Addresses) *compiledAddresses {
	ca := &compiledAddresses{vrf: compilePath(a.VRF)}
	for _, l := range a.Links {
		ca.links = append(ca.links, compilePath(l))
	}
	for _, n := range a.Neighbors {
		ca.neighbors = append(ca.neighbors, compilePath(n))
	}
	for _, r := range a.Routes {
		cr := compiledRoute{prefix: compilePath(r.Prefix), nextHop: compilePath(r.NextHop)}
		for i := 0; i < len(cr.prefix) && i < len(cr.nextHop) && cr.prefix[i] == cr.nextHop[i]; i++ {
			if cr.prefix[i].each {
				cr.shared++
			}
		}
		ca.routes = append(ca.routes, cr)
	}
	return ca
}

// fieldValue is a string at a field path, with its place.
type fieldValue struct {
	text  string
	field string // the document's field path: "spec.routes[2].prefix"
	// idx are the elements taken from the lists on the way, so that a
	// route's next hop is looked up in its prefix's element.
	idx [maxLists]int
	n   int
}

// values appends to out the strings at fp in spec, taking in the first
// lists the elements bound gives. Values of another type are skipped: CUE
// has reported them, or the type allows them and they are not addresses.
func (fp fieldPath) values(spec map[string]any, bound []int, out []fieldValue) []fieldValue {
	if len(fp) == 0 {
		return out
	}
	return fp.walk(spec, 0, append(make([]byte, 0, 64), "spec"...), [maxLists]int{}, 0, bound, out)
}

func (fp fieldPath) walk(x any, step int, field []byte, idx [maxLists]int, n int, bound []int, out []fieldValue) []fieldValue {
	if step == len(fp) {
		if s, ok := x.(string); ok {
			out = append(out, fieldValue{text: s, field: string(field), idx: idx, n: min(n, maxLists)})
		}
		return out
	}
	st := fp[step]
	m, _ := x.(map[string]any)
	v, ok := m[st.key]
	if !ok {
		return out
	}
	field = append(append(field, '.'), st.key...)
	if !st.each {
		return fp.walk(v, step+1, field, idx, n, bound, out)
	}
	l, _ := v.([]any)
	from, to := 0, len(l)
	if n < len(bound) {
		from, to = bound[n], min(bound[n]+1, len(l))
	}
	for i := from; i < to; i++ {
		f := append(strconv.AppendInt(append(field, '['), int64(i), 10), ']')
		if n < maxLists {
			idx[n] = i
		}
		out = fp.walk(l[i], step+1, f, idx, n+1, bound, out)
	}
	return out
}

// compiled returns t's compiled Addresses.
func (c *checker) compiled(t *ServiceType) *compiledAddresses {
	if c.compiledAddrs == nil {
		c.compiledAddrs = make(map[*ServiceType]*compiledAddresses)
	}
	ca := c.compiledAddrs[t]
	if ca == nil {
		ca = compileAddresses(t.Addresses)
		c.compiledAddrs[t] = ca
	}
	return ca
}

// addresses reads a service's addresses into the plan, reporting those that
// do not parse or cannot be a PE's.
func (c *checker) addresses(s *Service, t *ServiceType) {
	if t.Addresses.IsZero() {
		return
	}
	a := c.compiled(t)
	ctx := globalVRF
	c.vals = a.vrf.values(s.Spec, nil, c.vals[:0])
	if len(c.vals) > 0 && c.vals[0].text != "" {
		ctx = c.vals[0].text
	}
	for _, path := range a.links {
		c.vals = path.values(s.Spec, nil, c.vals[:0])
		for _, v := range c.vals {
			p, err := netip.ParsePrefix(v.text)
			if err != nil {
				c.errorf(s, v.field, "write the PE's address with the link's length, e.g. 192.0.2.1/30",
					"invalid %s prefix %q: %v", lastElem(v.field), v.text, err)
				continue
			}
			if !isHostAddress(p) {
				c.errorf(s, v.field, fmt.Sprintf("use an address between the network and the broadcast address of %s", p.Masked()),
					"%s is not a host address of its subnet", v.text)
			}
			for _, d := range s.Devices {
				c.plan.links = append(c.plan.links, link{ctx: ctx, device: d, addr: p, subnet: p.Masked(), svc: s, field: v.field})
			}
		}
	}
	// A field is one neighbour however many routes go to it (a peer). Few
	// fields repeat, so a list does; a map per service costs more.
	var seen []string
	once := func(field string) bool {
		if slices.Contains(seen, field) {
			return false
		}
		seen = append(seen, field)
		return true
	}
	addNeighbor := func(addr netip.Addr, field, what string) {
		for _, d := range s.Devices {
			c.plan.neighbors = append(c.plan.neighbors, neighbor{ctx: ctx, device: d, addr: addr, svc: s, field: field, what: what})
		}
	}
	for _, path := range a.neighbors {
		c.vals = path.values(s.Spec, nil, c.vals[:0])
		for _, v := range c.vals {
			if !once(v.field) {
				continue
			}
			addr, err := netip.ParseAddr(v.text)
			if err != nil {
				c.errorf(s, v.field, "", "invalid neighbour address %q: %v", v.text, err)
				continue
			}
			addNeighbor(addr, v.field, "neighbour address")
		}
	}
	for _, rf := range a.routes {
		prefixes := rf.prefix.values(s.Spec, nil, c.vals[:0])
		for _, pv := range prefixes {
			p, err := netip.ParsePrefix(pv.text)
			if err != nil {
				c.errorf(s, pv.field, "", "invalid prefix %q: %v", pv.text, err)
				continue
			}
			if p.Masked() != p {
				c.errorf(s, pv.field, "did you mean "+p.Masked().String()+"?", "prefix %s has host bits set", pv.text)
			}
			hops := rf.nextHop.values(s.Spec, pv.idx[:min(rf.shared, pv.n)], c.hops[:0])
			c.hops = hops
			if len(hops) == 0 {
				hops = []fieldValue{{}} // a route without a next hop still claims its prefix
			}
			for _, hv := range hops {
				r := route{ctx: ctx, prefix: p.Masked(), svc: s, field: pv.field, hopField: hv.field}
				if hv.field != "" {
					addr, err := netip.ParseAddr(hv.text)
					first := once(hv.field)
					switch {
					case err != nil && first:
						c.errorf(s, hv.field, "", "invalid next hop %q: %v", hv.text, err)
					case err == nil:
						r.nextHop = addr
						if first {
							addNeighbor(addr, hv.field, "next hop")
						}
					}
				}
				for _, d := range s.Devices {
					r.device = d
					c.plan.routes = append(c.plan.routes, r)
				}
			}
		}
		c.vals = prefixes
	}
}

// checkPlan runs the address-plan checks once every service is read.
func (c *checker) checkPlan() {
	cl := c.claims()
	c.linkClashes(cl)
	c.prefixOverlaps(cl)
	c.checkNeighbors()
	c.duplicateRoutes()
}

// claim is a subnet a service holds in a context: a link's or a route's.
type claim struct {
	ctx    int          // the context's number: cheaper to sort than its name
	prefix netip.Prefix // masked
	svc    *Service
	field  string
	link   *link // one of link and route is set
	route  *route
	pos    Pos
}

func (cl claim) ctxName() string {
	if cl.link != nil {
		return cl.link.ctx
	}
	return cl.route.ctx
}

// claims returns a claim for every link and route field (one for all the
// devices or next hops of a field, which are read into the plan one after
// the other), sorted by context, address, length and place, as nested
// needs them.
func (c *checker) claims() []claim {
	ids := make(map[string]int)
	id := func(ctx string) int {
		n, ok := ids[ctx]
		if !ok {
			n = len(ids)
			ids[ctx] = n
		}
		return n
	}
	cl := make([]claim, 0, len(c.plan.links)+len(c.plan.routes))
	add := func(x claim) {
		if n := len(cl); n > 0 && cl[n-1].svc == x.svc && cl[n-1].field == x.field {
			return
		}
		x.pos = x.svc.FieldPos(x.field)
		cl = append(cl, x)
	}
	for i := range c.plan.links {
		l := &c.plan.links[i]
		add(claim{ctx: id(l.ctx), prefix: l.subnet, svc: l.svc, field: l.field, link: l})
	}
	for i := range c.plan.routes {
		r := &c.plan.routes[i]
		add(claim{ctx: id(r.ctx), prefix: r.prefix, svc: r.svc, field: r.field, route: r})
	}
	// cmp.Or would evaluate every comparison, the positions' file names
	// too, for each of the sort's comparisons: most differ in the first.
	slices.SortFunc(cl, func(a, b claim) int {
		if c := cmp.Compare(a.ctx, b.ctx); c != 0 {
			return c
		}
		if c := a.prefix.Addr().Compare(b.prefix.Addr()); c != 0 {
			return c
		}
		if c := cmp.Compare(a.prefix.Bits(), b.prefix.Bits()); c != 0 {
			return c
		}
		return comparePos(a.pos, b.pos)
	})
	return cl
}

// nested calls report for each claim and the claims that contain it, of its
// context, innermost first, until report returns true. CIDR blocks either
// nest or are disjoint, so in claims' order the blocks containing a claim
// are exactly those on a stack of open blocks: O(n) after the sort rather
// than comparing every pair. Of equal blocks the first stands for the others
// on the stack, so that many of one prefix (a customer's routes on many PEs)
// cost no more.
func nested(cl []claim, report func(inner, outer claim) bool) {
	var stack []claim
	for _, e := range cl {
		for len(stack) > 0 {
			top := stack[len(stack)-1]
			if top.ctx == e.ctx && top.prefix.Addr().BitLen() == e.prefix.Addr().BitLen() && top.prefix.Contains(e.prefix.Addr()) {
				break
			}
			stack = stack[:len(stack)-1]
		}
		for i := len(stack) - 1; i >= 0; i-- {
			if report(e, stack[i]) {
				break
			}
		}
		if len(stack) > 0 && stack[len(stack)-1].prefix == e.prefix {
			continue
		}
		stack = append(stack, e)
	}
}

// linkClashes reports links of two services whose subnets overlap in one
// context: the same PE address twice (a second circuit with the seen
// 100.64.0.1/30), or one link inside another's. A router refuses the second
// on one device, and across devices the VPN gets one subnet from two places.
func (c *checker) linkClashes(all []claim) {
	cl := make([]claim, 0, len(c.plan.links))
	for _, x := range all {
		if x.link != nil {
			cl = append(cl, x)
		}
	}
	nested(cl, func(e, o claim) bool {
		if e.svc == o.svc {
			return false
		}
		a, b := e.link, o.link
		detail := "every link in a VRF needs its own subnet, across all the VRF's devices: give one of the two a free subnet"
		if a.addr.Addr() == b.addr.Addr() {
			c.clash(Error, detail,
				side{a.svc, a.field, fmt.Sprintf("address %s is already used by service %q on device %q (vrf %s)", a.addr.Addr(), b.svc.Name, b.device, a.ctx),
					fmt.Sprintf("service %q has %s here", a.svc.Name, a.addr)},
				side{b.svc, b.field, fmt.Sprintf("address %s is already used by service %q on device %q (vrf %s)", b.addr.Addr(), a.svc.Name, a.device, a.ctx),
					fmt.Sprintf("service %q has %s here", b.svc.Name, b.addr)})
			return true
		}
		text := func(x, y *link) string {
			if x.subnet == y.subnet {
				return fmt.Sprintf("link %s is already the link of service %q on device %q (vrf %s)", x.subnet, y.svc.Name, y.device, x.ctx)
			}
			return fmt.Sprintf("link %s overlaps link %s of service %q on device %q (vrf %s)", x.subnet, y.subnet, y.svc.Name, y.device, x.ctx)
		}
		c.clash(Error, detail,
			side{a.svc, a.field, text(a, b), fmt.Sprintf("service %q has link %s (%s) here", a.svc.Name, a.subnet, a.addr)},
			side{b.svc, b.field, text(b, a), fmt.Sprintf("service %q has link %s (%s) here", b.svc.Name, b.subnet, b.addr)})
		return true
	})
}

// prefixOverlaps reports a route's prefix overlapping another customer's
// route or link in one context: traffic for one customer would go to the
// other. (Two links are linkClashes'; a customer's own prefixes may nest.)
func (c *checker) prefixOverlaps(cl []claim) {
	nested(cl, func(e, o claim) bool {
		if e.svc.Customer == o.svc.Customer || (e.link != nil && o.link != nil) {
			return false
		}
		text := func(x, y claim) string {
			return fmt.Sprintf("prefix %s of customer %q overlaps %s of customer %q in vrf %s", x.prefix, x.svc.Customer, y.prefix, y.svc.Customer, x.ctxName())
		}
		here := func(x claim) string {
			what := "route to"
			if x.link != nil {
				what = "link"
			}
			return fmt.Sprintf("service %q of customer %q has the %s %s here", x.svc.Name, x.svc.Customer, what, x.prefix)
		}
		c.clash(Error, "one customer's prefixes must not overlap another's in one VRF, or one's traffic reaches the other: fix the prefix, or give the customers VRFs of their own",
			side{e.svc, e.field, text(e, o), here(e)}, side{o.svc, o.field, text(o, e), here(o)})
		return true
	})
}

// linkKey finds the links of a customer on a device and context.
type linkKey struct{ ctx, device, customer string }

// checkNeighbors checks every next hop and neighbour address: it must be
// the customer's router on one of that customer's links on the same device
// and context, and not the PE's own address on that link (a route to
// itself). Equal to another link's PE address, it is inside that link too,
// and the two links' clash is the error that says so.
func (c *checker) checkNeighbors() {
	links := make(map[linkKey][]*link)
	for i := range c.plan.links {
		l := &c.plan.links[i]
		k := linkKey{l.ctx, l.device, l.svc.Customer}
		links[k] = append(links[k], l)
	}
	for _, n := range c.plan.neighbors {
		k := linkKey{n.ctx, n.device, n.svc.Customer}
		i := slices.IndexFunc(links[k], func(l *link) bool { return l.subnet.Contains(n.addr) })
		if i < 0 {
			c.offLink(n, k)
			continue
		}
		l := links[k][i]
		if l.addr.Addr() != n.addr {
			continue
		}
		detail := "a " + n.what + " is the customer's router on the link, never the PE: "
		if other, ok := otherHost(l.addr); ok {
			detail += fmt.Sprintf("point it at %s, or swap the two if the circuit's address is the customer's", other)
		} else {
			detail += fmt.Sprintf("point it at the customer router's address in %s", l.subnet)
		}
		c.clash(Error, detail,
			side{n.svc, n.field, fmt.Sprintf("%s %s is the PE's own address on the link of service %q on device %q (vrf %s)", n.what, n.addr, l.svc.Name, l.device, n.ctx),
				fmt.Sprintf("service %q has the %s %s here", n.svc.Name, n.what, n.addr)},
			side{l.svc, l.field, fmt.Sprintf("the PE's address %s is also the %s of service %q (vrf %s)", l.addr, n.what, n.svc.Name, n.ctx),
				fmt.Sprintf("service %q has the PE's address %s here", l.svc.Name, l.addr)})
	}
}

// offLink reports a neighbour on none of its customer's links; it follows
// from another error when the device does not exist, or a document that did
// not load may hold the link.
func (c *checker) offLink(n neighbor, k linkKey) {
	d := Diagnostic{Severity: Error, Pos: n.svc.FieldPos(n.field), Field: n.field,
		Summary: fmt.Sprintf("%s %s is not inside any attachment circuit of customer %q on device %q (vrf %s)", n.what, n.addr, n.svc.Customer, n.device, n.ctx),
		Detail:  "a static route must point at the customer's own router on one of its attachment circuits"}
	if n.what == "neighbour address" {
		d.Detail = "a neighbour is the customer's own router on one of its attachment circuits: add the circuit, or fix the address"
	}
	switch b := c.brokenLink(k); {
	case c.devices[n.device] == nil:
		// The missing device is the error, or itself follows from an
		// inventory file that did not load.
		at := cause{n.svc.Pos.File, deviceFieldOf(n.svc, n.device)}
		if inv := c.brokenInventory(); inv != nil {
			at = inv.cause
		}
		c.followOns = append(c.followOns, followOn{cause: at, diag: d})
	case b != nil:
		c.followOns = append(c.followOns, followOn{cause: b.cause, diag: d})
	default:
		c.diags = append(c.diags, d)
	}
}

// deviceFieldOf is the field of s that names device.
func deviceFieldOf(s *Service, device string) string {
	if _, single := s.Spec["device"]; single {
		return "spec.device"
	}
	if i := slices.Index(s.Devices, device); i >= 0 {
		return "spec.devices[" + strconv.Itoa(i) + "]"
	}
	return "spec.devices"
}

// otherHost is the one other host address of a point-to-point link (/30 or
// /31 for IPv4, /126 or /127 for IPv6): the customer router's.
func otherHost(p netip.Prefix) (netip.Addr, bool) {
	bits := p.Addr().BitLen()
	switch p.Bits() {
	case bits - 1:
		a := p.Masked().Addr()
		if a == p.Addr() {
			a = a.Next()
		}
		return a, true
	case bits - 2:
		first := p.Masked().Addr().Next()
		second := first.Next()
		switch p.Addr() {
		case first:
			return second, true
		case second:
			return first, true
		}
	}
	return netip.Addr{}, false
}

// duplicateRoutes warns of one prefix routed to two next hops on one device
// and context by one customer: the router shares the traffic between them,
// which is seldom meant. (Two customers' are prefixOverlaps' errors. One
// prefix on two PEs is a customer attached twice, and fine.)
func (c *checker) duplicateRoutes() {
	type key struct {
		ctx, device string
		prefix      netip.Prefix
	}
	first := make(map[key]*route)
	for i := range c.plan.routes {
		r := &c.plan.routes[i]
		if !r.nextHop.IsValid() {
			continue
		}
		k := key{r.ctx, r.device, r.prefix}
		f := first[k]
		if f == nil {
			first[k] = r
			continue
		}
		if f.nextHop == r.nextHop || f.svc.Customer != r.svc.Customer {
			continue
		}
		text := func(x, y *route) string {
			return fmt.Sprintf("prefix %s goes to %s here and to %s in service %q on device %q (vrf %s)", x.prefix, x.nextHop, y.nextHop, y.svc.Name, x.device, x.ctx)
		}
		c.clash(Warning, "two next hops for one prefix share its traffic between them: remove one of the routes, unless that is meant",
			side{r.svc, r.field, text(r, f), fmt.Sprintf("service %q routes %s to %s here", r.svc.Name, r.prefix, r.nextHop)},
			side{f.svc, f.field, text(f, r), fmt.Sprintf("service %q routes %s to %s here", f.svc.Name, f.prefix, f.nextHop)})
	}
}

// side is one place's part in a problem between two: how the problem reads
// from it, and how it reads as the other's related place.
type side struct {
	svc     *Service
	field   string
	summary string
	related string
}

// clash reports a problem between two places (of two services, or of one)
// as one diagnostic on the later place, by file, line and column, naming the
// earlier as related: so the order is stable whichever file was added last,
// and a reader of either file finds both.
func (c *checker) clash(sev Severity, detail string, a, b side) {
	pa, pb := a.svc.FieldPos(a.field), b.svc.FieldPos(b.field)
	if comparePos(pa, pb) < 0 {
		a, b, pa, pb = b, a, pb, pa
	}
	c.diags = append(c.diags, Diagnostic{Severity: sev, Pos: pa, Field: a.field, Summary: a.summary, Detail: detail,
		Related: []Related{{Pos: pb, Field: b.field, Message: b.related}}})
}
