package schema

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// globalVRF names the routing table of services that give no vrf.
const globalVRF = "global"

// crossCheck runs the checks that need more than one document, sorts the
// intent's devices and services by name and keeps the first of each name.
// Per-document problems CUE cannot express cheaply (address arithmetic) are
// here too, so that they also run for files Options.Trusted vouches for.
//
// deviceField gives each device's field path in its inventory file.
func crossCheck(in *Intent, deviceField map[*Device]string) Diagnostics {
	var diags Diagnostics
	in.Devices, diags = uniqueDevices(in.Devices, deviceField, diags)
	in.Services, diags = uniqueServices(in.Services, diags)
	diags = uniqueEndpoints(in.Devices, deviceField, diags)

	devices := make(map[string]*Device, len(in.Devices))
	for _, d := range in.Devices {
		devices[d.Name] = d
	}
	c := checker{
		devices: devices,
		types:   in.Types,
		circuit: make(map[string]*Service),
		subnets: make(map[subnetKey][]netip.Prefix),
	}
	for _, s := range in.Services {
		c.deviceRefs(s)
		switch s.Kind {
		case KindAttachmentCircuit:
			c.attachmentCircuit(s)
		case KindStaticRouting:
			c.staticPrefixes(s)
		}
	}
	// Next hops are checked once every circuit is known.
	for _, s := range in.Services {
		if s.Kind == KindStaticRouting {
			c.nextHops(s)
		}
	}
	c.overlaps()
	return append(diags, c.diags...)
}

func uniqueDevices(ds []*Device, field map[*Device]string, diags Diagnostics) ([]*Device, Diagnostics) {
	slices.SortStableFunc(ds, func(a, b *Device) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), comparePos(a.Pos, b.Pos))
	})
	// CompactFunc passes the later element first.
	return slices.CompactFunc(ds, func(dup, first *Device) bool {
		if first.Name != dup.Name {
			return false
		}
		diags = diags.Append(Diagnostic{Severity: Error, Pos: dup.Pos, Field: joinField(field[dup], "name"),
			Summary: fmt.Sprintf("device %q is defined twice", dup.Name),
			Detail:  "first defined at " + first.Pos.String()})
		return true
	}), diags
}

// endpoint is where netrecon reaches a device: its address and port, in one
// spelling per endpoint.
type endpoint struct {
	address string
	port    int
}

func (e endpoint) String() string { return e.address + " port " + strconv.Itoa(e.port) }

// endpointOf normalises a device's address and port: IP addresses in their
// canonical form (an IPv4-mapped IPv6 address as the IPv4 one), host names in
// lower case without a trailing dot ([RFC4343]), and the default port filled.
//
// [RFC4343]: https://www.rfc-editor.org/rfc/rfc4343#section-2
func endpointOf(d *Device) endpoint {
	e := endpoint{address: strings.ToLower(strings.TrimSuffix(d.Address, ".")), port: d.Port}
	if a, err := netip.ParseAddr(d.Address); err == nil {
		e.address = a.Unmap().String()
	}
	if e.port == 0 {
		e.port = defaultPort
	}
	return e
}

// uniqueEndpoints refuses devices that share an address and port: they are
// one router under two names, so an atomic apply waits on its own lock and a
// non-atomic one has each name overwrite the other's config. Every device of
// such a group gets an error naming the others, so whoever adds either one
// sees it; ds is sorted by name already.
func uniqueEndpoints(ds []*Device, field map[*Device]string, diags Diagnostics) Diagnostics {
	groups := make(map[endpoint][]*Device)
	var order []endpoint
	for _, d := range ds {
		if d.Address == "" {
			continue // CUE has reported it
		}
		e := endpointOf(d)
		if len(groups[e]) == 0 {
			order = append(order, e)
		}
		groups[e] = append(groups[e], d)
	}
	for _, e := range order {
		g := groups[e]
		if len(g) < 2 {
			continue
		}
		slices.SortStableFunc(g, func(a, b *Device) int { return comparePos(a.Pos, b.Pos) })
		for _, d := range g {
			var others []string
			first := ""
			for _, o := range g {
				if o == d {
					continue
				}
				if first == "" {
					first = o.Name
				}
				others = append(others, fmt.Sprintf("device %q at %s", o.Name, o.Pos))
			}
			diags = diags.Append(Diagnostic{Severity: Error, Pos: d.Pos, Field: joinField(field[d], "address"),
				Summary: fmt.Sprintf("device %q has the same address and port as device %q (%s)", d.Name, first, e),
				Detail: "also used by " + strings.Join(others, " and ") +
					"; each device needs its own address and port, or netrecon locks and edits one router as two"})
		}
	}
	return diags
}

func uniqueServices(ss []*Service, diags Diagnostics) ([]*Service, Diagnostics) {
	slices.SortStableFunc(ss, func(a, b *Service) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), comparePos(a.Pos, b.Pos))
	})
	return slices.CompactFunc(ss, func(dup, first *Service) bool {
		if first.Name != dup.Name {
			return false
		}
		diags = diags.Append(Diagnostic{Severity: Error, Pos: dup.FieldPos("metadata.name"), Field: "metadata.name",
			Summary: fmt.Sprintf("service name %q is already used", dup.Name),
			Detail:  "first used at " + first.FieldPos("metadata.name").String() + "; service names are unique across the repo"})
		return true
	}), diags
}

func comparePos(a, b Pos) int {
	return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
}

// subnetKey finds a customer's attachment-circuit subnets on a device and VRF.
type subnetKey struct{ device, vrf, customer string }

// customerPrefix is a prefix a customer's service claims.
type customerPrefix struct {
	vrf    string
	prefix netip.Prefix // masked
	svc    *Service
	field  string
	pos    Pos
}

type checker struct {
	devices map[string]*Device
	types   map[string]*ServiceType
	circuit map[string]*Service // device/interface/vlan → first service
	subnets map[subnetKey][]netip.Prefix
	claims  []customerPrefix
	diags   Diagnostics
}

func (c *checker) errorf(s *Service, field, detail, format string, args ...any) {
	c.diags = c.diags.Append(Diagnostic{Severity: Error, Pos: s.FieldPos(field), Field: field,
		Summary: fmt.Sprintf(format, args...), Detail: detail})
}

// deviceRefs checks that every device a service names exists, and that its
// platform has a template of the service's kind.
func (c *checker) deviceRefs(s *Service) {
	_, single := s.Spec["device"]
	for i, name := range s.Devices {
		field := "spec.device"
		if !single {
			field = "spec.devices[" + strconv.Itoa(i) + "]"
		}
		d, ok := c.devices[name]
		if !ok {
			c.errorf(s, field, "add it to a file in inventory/, or fix the name", "no device %q in the inventory", name)
			continue
		}
		t := c.types[s.Kind]
		if t == nil {
			continue
		}
		if t.BuiltIn {
			if !slices.Contains(platforms(), d.Platform) {
				c.errorf(s, field, "", "device %q has platform %q, which kind %q does not support", name, d.Platform, s.Kind)
			}
			continue
		}
		if _, ok := t.Template[d.Platform]; !ok {
			c.errorf(s, field, fmt.Sprintf("add %s/%s.xml.tmpl", t.Dir, d.Platform),
				"service type %q has no template for platform %q of device %q", s.Kind, d.Platform, name)
		}
	}
}

func vrfOf(s *Service) string {
	if v, ok := s.Spec["vrf"].(string); ok && v != "" {
		return v
	}
	return globalVRF
}

func (c *checker) attachmentCircuit(s *Service) {
	device := str(s.Spec["device"])
	vlan, _ := s.Spec["vlan"].(int64)
	if vlan < 1 || vlan > 4094 {
		c.errorf(s, "spec.vlan", "", "vlan %d is out of range 1-4094", vlan)
	}
	key := device + "\x00" + str(s.Spec["interface"]) + "\x00" + strconv.FormatInt(vlan, 10)
	if first, dup := c.circuit[key]; dup {
		c.errorf(s, "spec.vlan", "first claimed by service "+strconv.Quote(first.Name)+" at "+first.FieldPos("spec.vlan").String(),
			"interface %s vlan %d on device %q is already used", str(s.Spec["interface"]), vlan, device)
	} else {
		c.circuit[key] = s
	}
	for _, fam := range []string{"ipv4", "ipv6"} {
		text, ok := s.Spec[fam].(string)
		if !ok {
			continue
		}
		field := "spec." + fam
		p, err := netip.ParsePrefix(text)
		if err != nil {
			c.errorf(s, field, "", "invalid %s prefix %q: %v", fam, text, err)
			continue
		}
		if !isHostAddress(p) {
			c.errorf(s, field, fmt.Sprintf("use an address between the network and the broadcast address of %s", p.Masked()),
				"%s is not a host address of its subnet", text)
		}
		subnet := p.Masked()
		k := subnetKey{device, vrfOf(s), s.Customer}
		c.subnets[k] = append(c.subnets[k], subnet)
		c.claims = append(c.claims, customerPrefix{vrf: vrfOf(s), prefix: subnet, svc: s, field: field, pos: s.FieldPos(field)})
	}
}

// isHostAddress reports whether p's address may be given to an interface:
// not the subnet's network address nor, for IPv4, its broadcast address.
// Point-to-point prefixes (/31, /127 [RFC3021, RFC6164]) have no such
// reserved addresses.
func isHostAddress(p netip.Prefix) bool {
	a := p.Addr()
	bits := a.BitLen()
	if p.Bits() >= bits-1 {
		return true
	}
	if a == p.Masked().Addr() {
		return false
	}
	if a.Is4() {
		b := a.As4()
		host := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		mask := uint32(1)<<(32-p.Bits()) - 1
		return host&mask != mask
	}
	return true
}

func (c *checker) staticPrefixes(s *Service) {
	routes, _ := s.Spec["routes"].([]any)
	for i, r := range routes {
		m, _ := r.(map[string]any)
		field := "spec.routes[" + strconv.Itoa(i) + "].prefix"
		text := str(m["prefix"])
		p, err := netip.ParsePrefix(text)
		if err != nil {
			c.errorf(s, field, "", "invalid prefix %q: %v", text, err)
			continue
		}
		if p.Masked() != p {
			c.errorf(s, field, "did you mean "+p.Masked().String()+"?", "prefix %s has host bits set", text)
		}
		c.claims = append(c.claims, customerPrefix{vrf: vrfOf(s), prefix: p.Masked(), svc: s, field: field, pos: s.FieldPos(field)})
	}
}

// nextHops checks that each route's next hop is the customer's: inside one of
// the same customer's attachment-circuit subnets on the same device and VRF.
func (c *checker) nextHops(s *Service) {
	routes, _ := s.Spec["routes"].([]any)
	k := subnetKey{str(s.Spec["device"]), vrfOf(s), s.Customer}
	for i, r := range routes {
		m, _ := r.(map[string]any)
		field := "spec.routes[" + strconv.Itoa(i) + "].nextHop"
		text := str(m["nextHop"])
		a, err := netip.ParseAddr(text)
		if err != nil {
			c.errorf(s, field, "", "invalid next hop %q: %v", text, err)
			continue
		}
		if !slices.ContainsFunc(c.subnets[k], func(p netip.Prefix) bool { return p.Contains(a) }) {
			c.errorf(s, field, "a static route must point at the customer's own router on one of its attachment circuits",
				"next hop %s is not inside any attachment circuit of customer %q on device %q (vrf %s)", text, s.Customer, k.device, k.vrf)
		}
	}
}

// overlaps reports prefixes of one customer that overlap another customer's in
// the same VRF. CIDR blocks either nest or are disjoint, so after sorting by
// address then length, the blocks containing a prefix are exactly those on a
// stack of open blocks: O(n log n) rather than comparing every pair.
func (c *checker) overlaps() {
	cl := c.claims
	slices.SortFunc(cl, func(a, b customerPrefix) int {
		return cmp.Or(
			cmp.Compare(a.vrf, b.vrf),
			a.prefix.Addr().Compare(b.prefix.Addr()),
			cmp.Compare(a.prefix.Bits(), b.prefix.Bits()),
			comparePos(a.pos, b.pos),
		)
	})
	var stack []customerPrefix
	for _, e := range cl {
		for len(stack) > 0 {
			top := stack[len(stack)-1]
			if top.vrf == e.vrf && top.prefix.Addr().BitLen() == e.prefix.Addr().BitLen() && top.prefix.Contains(e.prefix.Addr()) {
				break
			}
			stack = stack[:len(stack)-1]
		}
		for i := len(stack) - 1; i >= 0; i-- {
			o := stack[i]
			if o.svc.Customer != e.svc.Customer {
				// Both sides: the engineer who adds either one sees it.
				c.errorf(e.svc, e.field, fmt.Sprintf("service %q at %s", o.svc.Name, o.pos),
					"prefix %s of customer %q overlaps %s of customer %q in vrf %s", e.prefix, e.svc.Customer, o.prefix, o.svc.Customer, e.vrf)
				c.errorf(o.svc, o.field, fmt.Sprintf("service %q at %s", e.svc.Name, e.pos),
					"prefix %s of customer %q overlaps %s of customer %q in vrf %s", o.prefix, o.svc.Customer, e.prefix, e.svc.Customer, e.vrf)
				break
			}
		}
		// Equal prefixes would pile up on the stack; the first stands for them.
		if len(stack) > 0 && stack[len(stack)-1].prefix == e.prefix {
			continue
		}
		stack = append(stack, e)
	}
}
