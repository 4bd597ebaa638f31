package render

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/schema"
)

// benchIntent builds an intent of n services over d devices in Go, half on
// each platform: pairs of an attachment circuit and the static routes behind
// it, with addresses from a plan so that no two services conflict.
func benchIntent(n, d int) *schema.Intent {
	devs := make([]*schema.Device, d)
	for i := range devs {
		p := schema.PlatformIETF
		if i%2 == 1 {
			p = schema.PlatformJunos
		}
		devs[i] = device(fmt.Sprintf("pe%04d", i), p)
	}
	base := netip.MustParseAddr("100.64.0.0").As4()
	link := func(i, host int) string {
		v := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
		v += uint32(i)*4 + uint32(host)
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}).String()
	}
	svcs := make([]*schema.Service, 0, n)
	for i := 0; i < n; i++ {
		c := i / 2 // circuit index
		dev := devs[c%d].Name
		vrf := fmt.Sprintf("cust%d", c%50)
		if i%2 == 0 {
			svcs = append(svcs, circuit(fmt.Sprintf("ac-%06d", c), dev, map[string]any{
				"interface":   fmt.Sprintf("ge-0/0/%d", c%48),
				"vlan":        int64(100 + c/48%3900),
				"description": fmt.Sprintf("customer %d <site %d> & co", c, c%7),
				"ipv4":        link(c, 1) + "/30",
				"ipv6":        fmt.Sprintf("2001:db8:%x:%x::1/64", c>>16, c&0xffff),
				"vrf":         vrf,
			}))
			continue
		}
		svcs = append(svcs, routing(fmt.Sprintf("sr-%06d", c), dev, map[string]any{
			"vrf": vrf,
			"routes": []any{
				route(fmt.Sprintf("10.%d.%d.0/24", c>>8&0xff, c&0xff), link(c, 2), "lan"),
				route(fmt.Sprintf("2001:db8:8%03x:%x::/64", c>>16, c&0xffff), fmt.Sprintf("2001:db8:%x:%x::2", c>>16, c&0xffff), ""),
			},
		}))
	}
	// Intent.Services is sorted by name.
	slices.SortFunc(svcs, func(a, b *schema.Service) int { return strings.Compare(a.Name, b.Name) })
	return intent(devs, svcs...)
}

// BenchmarkDevices renders 10,000 services over 1,000 devices: the whole
// desired state of a mid-sized network, as the daemon does after a merge.
func BenchmarkDevices(b *testing.B) {
	in := benchIntent(10000, 1000)
	r, diags := New(in)
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	b.ReportAllocs()
	for b.Loop() {
		trees, diags := r.Devices(context.Background(), nil)
		if diags.HasErrors() || len(trees) != 1000 {
			b.Fatalf("%d trees, %v", len(trees), diags)
		}
	}
}

// BenchmarkNew measures parsing the templates, paid once per intent.
func BenchmarkNew(b *testing.B) {
	in := benchIntent(10000, 1000)
	b.ReportAllocs()
	for b.Loop() {
		if _, diags := New(in); diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}
