package irr

import (
	"time"

	"context"
	"errors"
	"github.com/netrecon/netrecon/irr/whois"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// registry is a Resolver over fixed data, for expansion's logic; the
// simulator and real clients test the wire (whois tests, lab tests).
type registry struct {
	sets   map[string][]string
	routes map[string][]string // "AS64496" v4, "AS64496/6" v6
}

func (r registry) Members(_ context.Context, set string) ([]string, error) {
	m, ok := r.sets[set]
	if !ok {
		return nil, whois.ErrNotFound
	}
	if set == "AS-BROKEN" {
		return nil, errors.New("connection reset")
	}
	return m, nil
}

func (r registry) Routes(_ context.Context, asn string, v6 bool) ([]string, error) {
	if v6 {
		asn += "/6"
	}
	return r.routes[asn], nil
}

func prefixes(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func TestExpand(t *testing.T) {
	r := registry{
		sets: map[string][]string{
			"AS-ACME":  {"AS64497", "AS-SUB", "AS64496"},
			"AS-SUB":   {"AS64498", "AS-ACME"}, // a cycle, as RPSL allows
			"AS-EMPTY": {},
		},
		routes: map[string][]string{
			"AS64496":   {"198.51.100.0/24", "192.0.2.0/24"},
			"AS64497":   {"192.0.2.0/24", "203.0.113.1/24"},
			"AS64498/6": {"2001:db8::/32"},
		},
	}
	got, err := Expand(context.Background(), r, "AS-ACME", false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.V4, prefixes("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")) || !slices.Equal(got.V6, prefixes("2001:db8::/32")) {
		t.Fatalf("got %v", got)
	}
	if got, err := Expand(context.Background(), r, "AS64496", false); err != nil || len(got.V4) != 2 {
		t.Fatalf("an AS: %v, %v", got, err)
	}
	if got, err := Expand(context.Background(), r, "AS-EMPTY", false); err != nil || got.Len() != 0 {
		t.Fatalf("empty set: %v, %v", got, err)
	}
	if got, err := Expand(context.Background(), r, "AS-NOPE", false); err != nil || got.Len() != 0 {
		t.Fatalf("a set the registry does not have is empty (sync holds the shrink): %v, %v", got, err)
	}
	r.sets["AS-BROKEN"] = nil
	if _, err := Expand(context.Background(), r, "AS-BROKEN", false); err == nil || !strings.Contains(err.Error(), "members of AS-BROKEN") {
		t.Fatalf("a failed query: %v", err)
	}
	bad := registry{sets: map[string][]string{"AS-X": {"AS1"}}, routes: map[string][]string{"AS1": {"2001:db8::/32"}}}
	if _, err := Expand(context.Background(), bad, "AS-X", false); err == nil || !strings.Contains(err.Error(), "not an IPv4 prefix") {
		t.Fatalf("v6 answer to !g: %v", err)
	}
}

func TestAggregate(t *testing.T) {
	for _, tc := range []struct{ in, want []netip.Prefix }{
		{prefixes("192.0.2.0/25", "192.0.2.128/25"), prefixes("192.0.2.0/24")},
		{prefixes("192.0.2.0/24", "192.0.2.0/26", "192.0.2.64/26"), prefixes("192.0.2.0/24")},
		{prefixes("192.0.2.0/26", "192.0.2.64/26", "192.0.2.128/25"), prefixes("192.0.2.0/24")},
		{prefixes("192.0.2.128/25", "192.0.3.0/25"), prefixes("192.0.2.128/25", "192.0.3.0/25")},
		{prefixes("2001:db8::/33", "2001:db8:8000::/33"), prefixes("2001:db8::/32")},
	} {
		if got := Aggregate(tidy(tc.in)); !slices.Equal(got, tc.want) {
			t.Errorf("Aggregate(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestIsASN(t *testing.T) {
	for s, want := range map[string]bool{"AS64500": true, "as1": true, "AS4294967295": true, "AS4294967296": false, "AS0": false, "AS01": false, "AS-FOO": false, "AS": false, "AS+1": false} {
		if IsASN(s) != want {
			t.Errorf("IsASN(%q) = %v", s, !want)
		}
	}
}

func testWhois() whois.Options { return whois.Options{Timeout: 20 * time.Second} }
