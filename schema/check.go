package schema

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/netrecon/netrecon/diag"
)

// globalVRF names the routing table of services that give no vrf.
const globalVRF = "global"

// crossCheck runs the checks that need more than one document, sorts the
// intent's devices and services by name and keeps the first of each name.
// Per-document problems CUE cannot express cheaply (address arithmetic) are
// here too, so that they also run for files Options.Trusted vouches for.
//
// deviceField gives each device's field path in its inventory file; broken
// are the documents that did not load, whose absence would otherwise raise
// errors elsewhere: those come back as follow-ons of the broken document.
//
// passed says that this exact set of documents, under these types and this
// program, passed the checks before without a single diagnostic (the
// document cache remembers it: checkKey): then only the sorting and the
// checks that read the machine's environment run (window: the time zone
// database), and the rest, which depend on nothing but the documents, is
// known to find nothing.
func crossCheck(in *Intent, deviceField map[*Device]string, broken []brokenDoc, passed bool) (Diagnostics, []followOn) {
	var diags Diagnostics
	var dropped []*Service
	in.Devices, diags = uniqueDevices(in.Devices, deviceField, diags)
	in.Services, dropped, diags = uniqueServices(in.Services, diags)
	if passed {
		c := checker{}
		for _, s := range in.Services {
			c.window(s)
		}
		return append(diags, c.diags...), nil
	}
	diags = uniqueEndpoints(in.Devices, deviceField, diags)
	for _, s := range dropped {
		broken = append(broken, brokenOf(cause{s.Pos.File, "metadata.name"}, s.Kind, s.Customer, s.Spec, in.Types))
	}

	devices := make(map[string]*Device, len(in.Devices))
	names := make([]string, 0, len(in.Devices))
	for _, d := range in.Devices {
		devices[d.Name] = d
		names = append(names, d.Name)
	}
	c := checker{
		devices:     devices,
		deviceNames: names,
		deviceField: deviceField,
		types:       in.Types,
		circuit:     make(map[string]*Service),
		broken:      broken,
	}
	for _, s := range in.Services {
		c.deviceRefs(s)
		c.window(s)
		switch s.Kind {
		case KindAttachmentCircuit:
			c.attachmentCircuit(s)
		case KindBGPCustomer:
			c.bgpCustomer(s)
		}
		if t := c.types[s.Kind]; t != nil {
			c.addresses(s, t)
		}
	}
	c.checkPlan()
	return append(diags, c.diags...), c.followOns
}

func uniqueDevices(ds []*Device, field map[*Device]string, diags Diagnostics) ([]*Device, Diagnostics) {
	slices.SortStableFunc(ds, func(a, b *Device) int {
		if c := cmp.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return comparePos(a.Pos, b.Pos)
	})
	// CompactFunc passes the later element first.
	return slices.CompactFunc(ds, func(dup, first *Device) bool {
		if first.Name != dup.Name {
			return false
		}
		diags = diags.Append(Diagnostic{Severity: Error, Pos: dup.Pos, Field: joinField(field[dup], "name"),
			Summary: fmt.Sprintf("device %q is defined twice", dup.Name),
			Detail:  "device names are unique across the inventory: rename or remove one",
			Related: []Related{{Pos: first.Pos, Field: joinField(field[first], "name"), Message: fmt.Sprintf("device %q is also defined here", first.Name)}}})
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

// uniqueServices keeps the first service of each name by position, and
// reports each other one on its own file, naming the first as related:
// which of two files is new, Git knows and the loader does not, so neither
// is called the first, and the order is the same on every run.
func uniqueServices(ss []*Service, diags Diagnostics) (kept, dropped []*Service, _ Diagnostics) {
	// Names differ but for duplicates: the positions are compared only
	// then (cmp.Or would compare them every time).
	slices.SortStableFunc(ss, func(a, b *Service) int {
		if c := cmp.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return comparePos(a.Pos, b.Pos)
	})
	kept = slices.CompactFunc(ss, func(dup, first *Service) bool {
		if first.Name != dup.Name {
			return false
		}
		dropped = append(dropped, dup)
		diags = diags.Append(Diagnostic{Severity: Error, Pos: dup.FieldPos("metadata.name"), Field: "metadata.name",
			Summary: fmt.Sprintf("service name %q is already used in %s", dup.Name, first.Pos.File),
			Detail:  "service names are unique across the repo, as each owns the config it renders: rename one of the two",
			Related: []Related{{Pos: first.FieldPos("metadata.name"), Field: "metadata.name", Message: fmt.Sprintf("the other service named %q", first.Name)}}})
		return true
	})
	return kept, dropped, diags
}

func comparePos(a, b Pos) int {
	if c := cmp.Compare(a.File, b.File); c != 0 {
		return c
	}
	return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
}

type checker struct {
	devices     map[string]*Device
	deviceNames []string // sorted
	deviceField map[*Device]string
	types       map[string]*ServiceType
	circuit     map[string]*Service // device/interface/vlan → first service
	// bgpNeighbors are the bgp-customer sessions by place, the first of each.
	bgpNeighbors map[bgpNeighborKey]*Service
	plan         addressPlan
	// compiledAddrs and the scratch lists vals and hops serve addresses.
	compiledAddrs map[*ServiceType]*compiledAddresses
	vals, hops    []fieldValue
	broken        []brokenDoc
	diags         Diagnostics
	followOns     []followOn
}

func (c *checker) errorf(s *Service, field, detail, format string, args ...any) {
	c.diags = c.diags.Append(Diagnostic{Severity: Error, Pos: s.FieldPos(field), Field: field,
		Summary: fmt.Sprintf(format, args...), Detail: detail})
}

// deviceRefs checks that every device a service names exists, and that its
// platform has a template of the service's kind. A device missing because
// an inventory file did not load, or a platform CUE refused (a typo such as
// "juniper"), is the inventory's error: what follows from it here goes under
// that error, not beside it once per service.
func (c *checker) deviceRefs(s *Service) {
	_, single := s.Spec["device"]
	for i, name := range s.Devices {
		field := "spec.device"
		if !single {
			field = "spec.devices[" + strconv.Itoa(i) + "]"
		}
		d, ok := c.devices[name]
		if !ok {
			detail := "add it to a file in inventory/, or fix the name"
			if hint := diag.DidYouMean(name, c.deviceNames); hint != "" {
				detail = hint + " Or add it to a file in inventory/"
			}
			missing := Diagnostic{Severity: Error, Pos: s.FieldPos(field), Field: field,
				Summary: fmt.Sprintf("no device %q in the inventory", name), Detail: detail}
			if b := c.brokenInventory(); b != nil {
				c.followOns = append(c.followOns, followOn{cause: b.cause, diag: missing})
				continue
			}
			c.diags = append(c.diags, missing)
			continue
		}
		t := c.types[s.Kind]
		if t == nil {
			continue
		}
		var problem Diagnostic
		switch _, hasTemplate := t.Template[d.Platform]; {
		case t.BuiltIn && !slices.Contains(platforms(), d.Platform):
			problem = Diagnostic{Summary: fmt.Sprintf("device %q has platform %q, which kind %q does not support", name, d.Platform, s.Kind)}
		case !t.BuiltIn && !hasTemplate:
			problem = Diagnostic{Summary: fmt.Sprintf("service type %q has no template for platform %q of device %q", s.Kind, d.Platform, name),
				Detail: fmt.Sprintf("add %s/%s.xml.tmpl", t.Dir, d.Platform)}
		default:
			continue
		}
		problem.Severity, problem.Pos, problem.Field = Error, s.FieldPos(field), field
		if !slices.Contains(platforms(), d.Platform) {
			// CUE has refused the platform (unless the file was trusted,
			// and then no error stands there: the problem stays here).
			c.followOns = append(c.followOns, followOn{cause: cause{d.Pos.File, joinField(c.deviceField[d], "platform")}, diag: problem})
			continue
		}
		c.diags = append(c.diags, problem)
	}
}

func (c *checker) attachmentCircuit(s *Service) {
	device := str(s.Spec["device"])
	vlan, _ := s.Spec["vlan"].(int64)
	if vlan < 1 || vlan > 4094 {
		c.errorf(s, "spec.vlan", "", "vlan %d is out of range 1-4094", vlan)
	}
	key := device + "\x00" + str(s.Spec["interface"]) + "\x00" + strconv.FormatInt(vlan, 10)
	first, dup := c.circuit[key]
	if !dup {
		c.circuit[key] = s
		return
	}
	text := func(other *Service) string {
		return fmt.Sprintf("interface %s vlan %d on device %q is already used by service %q", str(s.Spec["interface"]), vlan, device, other.Name)
	}
	c.clash(Error, "a VLAN of a port carries one service: take a free VLAN",
		side{s, "spec.vlan", text(first), fmt.Sprintf("service %q has it here", s.Name)},
		side{first, "spec.vlan", text(s), fmt.Sprintf("service %q has it here", first.Name)})
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

// window checks metadata.activate and metadata.deactivate: each a moment
// in a zone that exists, deactivate after activate. CUE checked their form;
// whether a zone exists only the time zone database knows.
func (c *checker) window(s *Service) {
	var w Window
	var err error
	if s.Activate != "" {
		if w.Activate, err = ParseWhen(s.Activate); err != nil {
			c.errorf(s, "metadata.activate", "", "%v", err)
		}
	}
	if s.Deactivate != "" {
		if w.Deactivate, err = ParseWhen(s.Deactivate); err != nil {
			c.errorf(s, "metadata.deactivate", "", "%v", err)
		}
	}
	if !w.Activate.IsZero() && !w.Deactivate.IsZero() && !w.Deactivate.After(w.Activate) {
		c.errorf(s, "metadata.deactivate", "a service is configured from activate until deactivate: move deactivate later, or activate earlier",
			"deactivate (%s) must be after activate (%s)", s.Deactivate, s.Activate)
	}
}
