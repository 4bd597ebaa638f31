package render

import (
	"fmt"
	"html/template"
	"net/netip"
	"reflect"
	"strings"
)

// funcs are the functions templates may call (docs/intent-format.md). Each
// returns an error rather than panicking on bad input, so a bad value surfaces
// as an execution error carrying the template's name and line.
func funcs() template.FuncMap {
	return template.FuncMap{
		"ipaddr":    ipaddr,
		"prefixlen": prefixlen,
		"netmask":   netmask,
		"network":   network,
		"family":    family,
		"lower":     strings.ToLower,
		"upper":     strings.ToUpper,
		"join":      join,
		"default":   dflt,
		"required":  required,
	}
}

// parseAddr accepts "a.b.c.d/len", "x::y/len" or a bare address, and returns the
// address and the prefix length (the full length for a bare address).
func parseAddr(v any) (netip.Addr, int, error) {
	s, ok := v.(string)
	if !ok {
		return netip.Addr{}, 0, fmt.Errorf("want an IP address as a string, got %T", v)
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Addr{}, 0, err
		}
		return p.Addr(), p.Bits(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, 0, err
	}
	return a, a.BitLen(), nil
}

// ipaddr returns the address of "192.0.2.1/30" (or of a bare address) in its
// canonical text form, the one devices answer with, so that "2001:DB8::1" does
// not show as drift against "2001:db8::1".
func ipaddr(v any) (string, error) {
	a, _, err := parseAddr(v)
	if err != nil {
		return "", err
	}
	return a.String(), nil
}

// prefixlen returns the prefix length of "192.0.2.1/30": 30.
func prefixlen(v any) (int, error) {
	_, n, err := parseAddr(v)
	return n, err
}

// netmask returns the IPv4 mask of "192.0.2.1/30": 255.255.255.252. An IPv6
// prefix has no dotted mask, so it is an error.
func netmask(v any) (string, error) {
	a, n, err := parseAddr(v)
	if err != nil {
		return "", err
	}
	if !a.Is4() {
		return "", fmt.Errorf("netmask of %v: IPv6 has no netmask, use prefixlen", v)
	}
	m := ^uint32(0) << (32 - n)
	if n == 0 {
		m = 0
	}
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String(), nil
}

// network returns the network of "192.0.2.1/30": 192.0.2.0/30, canonical.
func network(v any) (string, error) {
	a, n, err := parseAddr(v)
	if err != nil {
		return "", err
	}
	p, err := a.Prefix(n)
	if err != nil {
		return "", err
	}
	return p.String(), nil
}

// family returns "ipv4" or "ipv6" for an address or prefix. Templates need it
// because both platforms keep the two families' routes in different places.
func family(v any) (string, error) {
	a, _, err := parseAddr(v)
	if err != nil {
		return "", err
	}
	if a.Is4() {
		return "ipv4", nil
	}
	return "ipv6", nil
}

// join joins a list with sep, in the argument order of a pipeline:
// {{ .Spec.tags | join "," }}.
func join(sep string, list any) (string, error) {
	switch l := list.(type) {
	case nil:
		return "", nil
	case []string:
		return strings.Join(l, sep), nil
	}
	rv := reflect.ValueOf(list)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return "", fmt.Errorf("join: want a list, got %T", list)
	}
	parts := make([]string, rv.Len())
	for i := range parts {
		parts[i] = fmt.Sprint(rv.Index(i).Interface())
	}
	return strings.Join(parts, sep), nil
}

// dflt returns v, or def when v is absent (nil) or the empty string. Unlike
// sprig's default it keeps false and 0: "enabled: false" must not turn into the
// default true.
func dflt(def, v any) any {
	if v == nil {
		return def
	}
	if s, ok := v.(string); ok && s == "" {
		return def
	}
	return v
}

// required returns v, or an error naming what is missing when v is absent or
// "". Templates run with missing keys as errors, but an optional field a spec
// leaves out is present with no value: without required, a spec lacking its
// interface would render the sub-interface ".100" instead of failing; the
// schema should have refused such a spec, this is the backstop.
func required(what string, v any) (any, error) {
	if v == nil {
		return nil, fmt.Errorf("%s is required", what)
	}
	if s, ok := v.(string); ok && s == "" {
		return nil, fmt.Errorf("%s is required", what)
	}
	return v, nil
}
