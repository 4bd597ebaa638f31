package schema

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// The checks of bgp-customer that CUE cannot word well: which AS numbers a
// customer may have, and which neighbour a session may claim.

// asRange is a block of AS numbers with a rule.
type asRange struct {
	from, to uint64
	what     string // "private-use", "reserved"
	ref      string // where the block is defined
}

// privateAS are the private-use blocks ([RFC6996] 5): a session with such an
// AS is a private arrangement, so the document has to say it is meant.
//
// [RFC6996]: https://www.rfc-editor.org/rfc/rfc6996#section-5
func privateAS() []asRange {
	return []asRange{
		{64512, 65534, "private-use", "RFC 6996"},
		{4200000000, 4294967294, "private-use", "RFC 6996"},
	}
}

// reservedAS are numbers no customer can have. AS_TRANS stands in for a
// 4-byte AS towards old speakers ([RFC6793] 9); 65535 and 4294967295 are the
// last of their ranges ([RFC7300]); 65552-131071 are IANA reserved. The
// documentation blocks ([RFC5398]: 64496-64511, 65536-65551) are allowed as
// documentation prefixes are: examples and labs use them.
//
// [RFC6793]: https://www.rfc-editor.org/rfc/rfc6793#section-9
// [RFC7300]: https://www.rfc-editor.org/rfc/rfc7300
// [RFC5398]: https://www.rfc-editor.org/rfc/rfc5398
func reservedAS() []asRange {
	return []asRange{
		{23456, 23456, "reserved (AS_TRANS)", "RFC 6793"},
		{65535, 65535, "reserved", "RFC 7300"},
		{65552, 131071, "reserved", "IANA"},
		{4294967295, 4294967295, "reserved", "RFC 7300"},
	}
}

func asIn(n uint64, rs []asRange) (asRange, bool) {
	for _, r := range rs {
		if n >= r.from && n <= r.to {
			return r, true
		}
	}
	return asRange{}, false
}

// asNumber is the AS of a spec's integer field; CUE has checked its range.
func asNumber(v any) (uint64, bool) {
	switch n := v.(type) {
	case int64:
		if n > 0 {
			return uint64(n), true
		}
	case uint64:
		return n, true
	case int:
		if n > 0 {
			return uint64(n), true
		}
	}
	return 0, false
}

// bgpNeighborKey is a session's place: one neighbour on a device, in a VRF.
type bgpNeighborKey struct{ device, vrf, addr string }

// bgpCustomer checks one bgp-customer document's AS numbers and import,
// and that no other session claims its neighbour.
func (c *checker) bgpCustomer(s *Service) {
	if n, ok := asNumber(s.Spec["customer_as"]); ok {
		allowPrivate, _ := s.Spec["allow_private_as"].(bool)
		if r, bad := asIn(n, reservedAS()); bad {
			c.errorf(s, "spec.customer_as", "a customer's AS is its own public AS, or a private one with allow_private_as: true",
				"AS%d is %s (%s): no customer can have it", n, r.what, r.ref)
		} else if r, priv := asIn(n, privateAS()); priv && !allowPrivate {
			c.errorf(s, "spec.customer_as", "set allow_private_as: true if the customer really uses a private AS (its routes are then not for the Internet)",
				"AS%d is a private-use AS number (%s %d-%d)", n, r.ref, r.from, r.to)
		}
	}
	imp := str(s.Spec["import"])
	if rest, ok := cutPrefixFold(imp, "AS"); ok && !strings.ContainsAny(rest, "-:") {
		if n, err := strconv.ParseUint(rest, 10, 64); err != nil || n == 0 || n > 4294967295 {
			c.errorf(s, "spec.import", "an AS number is 1 to 4294967295", "import %s is not a valid AS number", imp)
		}
	}
	// AS-ANY ([RFC2622] 5.1) contains every AS: as an import it is a
	// permit-any filter, the one thing a customer filter must never be.
	for _, part := range strings.Split(imp, ":") {
		if strings.EqualFold(part, "AS-ANY") {
			c.errorf(s, "spec.import", "name the customer's own as-set or AS", "import %s is the reserved set AS-ANY: it would accept every route", imp)
		}
	}
	if strings.EqualFold(imp, str(s.Spec["provider_as_set"])) && imp != "" {
		c.errorf(s, "spec.import", "import is what this customer announces; provider_as_set is the provider's set of all its customers",
			"import %s is the provider's own as-set", imp)
	}

	addr, err := netip.ParseAddr(str(s.Spec["neighbor"]))
	if err != nil {
		return // CUE has reported it
	}
	vrf := str(s.Spec["vrf"])
	if vrf == "" {
		vrf = globalVRF
	}
	k := bgpNeighborKey{device: str(s.Spec["device"]), vrf: vrf, addr: addr.Unmap().String()}
	first, dup := c.bgpNeighbors[k]
	if !dup {
		if c.bgpNeighbors == nil {
			c.bgpNeighbors = make(map[bgpNeighborKey]*Service)
		}
		c.bgpNeighbors[k] = s
		return
	}
	text := func(other *Service) string {
		return fmt.Sprintf("neighbour %s on device %q (vrf %s) is already the session of service %q", k.addr, k.device, k.vrf, other.Name)
	}
	c.clash(Error, "a router has one BGP session per neighbour address: remove one of the two, or fix the address",
		side{s, "spec.neighbor", text(first), fmt.Sprintf("service %q has the session here", s.Name)},
		side{first, "spec.neighbor", text(s), fmt.Sprintf("service %q has the session here", first.Name)})
}

// cutPrefixFold is strings.CutPrefix ignoring ASCII case, as RPSL names do.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}
