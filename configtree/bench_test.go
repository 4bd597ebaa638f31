package configtree

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// serviceFragment is what one L3VPN-ish service renders on a PE: a
// sub-interface with an address, a VLAN and a static route, under top-level
// containers every service shares.
func serviceFragment(tb testing.TB, i int) *Tree {
	tb.Helper()
	src := fmt.Sprintf(`<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces" xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type">
  <interface><name>ge-0/0/1.%[1]d</name><description>customer %[1]d</description><type>ianaift:l2vlan</type><enabled>true</enabled>
    <ipv4 xmlns="urn:ietf:params:xml:ns:yang:ietf-ip"><address><ip>10.%[2]d.%[3]d.1</ip><prefix-length>30</prefix-length></address></ipv4>
  </interface>
</interfaces>
<vlans xmlns="urn:v"><vlan><id>%[1]d</id><name>svc-%[1]d</name></vlan></vlans>
<routing xmlns="urn:r"><route><type>static</type><name>svc-%[1]d</name><next-hop>10.%[2]d.%[3]d.2</next-hop></route></routing>`, i, i/256, i%256)
	tr, err := Parse(strings.NewReader(src), "svc", testKeys)
	if err != nil {
		tb.Fatal(err)
	}
	tr.SetOwner(fmt.Sprintf("svc-%04d", i))
	return tr
}

// BenchmarkMergeDiff builds a PE's desired tree from its services'
// fragments and diffs it against the live tree: once with Merge called per
// fragment, once with MergeAll.
func BenchmarkMergeDiff(b *testing.B) {
	for _, n := range []int{10, 1000} {
		frags := make([]*Tree, n)
		for i := range frags {
			frags[i] = serviceFragment(b, i)
		}
		// Live: what the previous plan applied; since then one service
		// left the intent and another arrived.
		live := New()
		if err := MergeAll(live, frags...); err != nil {
			b.Fatal(err)
		}
		frags[n/2] = serviceFragment(b, n+1)
		for _, mode := range []string{"Merge", "MergeAll"} {
			b.Run(fmt.Sprintf("%s/services=%d", mode, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					desired := New()
					if mode == "MergeAll" {
						if err := MergeAll(desired, frags...); err != nil {
							b.Fatal(err)
						}
					} else {
						for _, f := range frags {
							if err := Merge(desired, f); err != nil {
								b.Fatal(err)
							}
						}
					}
					if ch := Diff(live, desired); len(ch) == 0 {
						b.Fatal("no changes")
					}
				}
			})
		}
	}
}

func BenchmarkDiff(b *testing.B) {
	frags := make([]*Tree, 1000)
	for i := range frags {
		frags[i] = serviceFragment(b, i)
	}
	live := New()
	_ = MergeAll(live, frags...)
	frags[500] = serviceFragment(b, 1001)
	desired := New()
	_ = MergeAll(desired, frags...)
	b.ReportAllocs()
	for b.Loop() {
		Diff(live, desired)
	}
}

// BenchmarkParse parses what one service renders, as the renderer does for
// every service on every device: 10,000 of these are most of a render of a
// large repo.
func BenchmarkParse(b *testing.B) {
	src := []byte(`<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces">
  <interface>
    <name>ge-0/0/17.1142</name>
    <description>customer 4711 &lt;site 3&gt; &amp; co</description>
    <type xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type">ianaift:l2vlan</type>
    <enabled>true</enabled>
    <ipv4 xmlns="urn:ietf:params:xml:ns:yang:ietf-ip">
      <address>
        <ip>100.64.18.97</ip>
        <prefix-length>30</prefix-length>
      </address>
    </ipv4>
  </interface>
</interfaces>
<routing xmlns="urn:ietf:params:xml:ns:yang:ietf-routing">
  <control-plane-protocols>
    <control-plane-protocol>
      <type xmlns:rt="urn:ietf:params:xml:ns:yang:ietf-routing">rt:static</type>
      <name>cust17</name>
      <static-routes>
        <ipv4 xmlns="urn:ietf:params:xml:ns:yang:ietf-ipv4-unicast-routing">
          <route>
            <destination-prefix>10.18.97.0/24</destination-prefix>
            <description>lan</description>
            <next-hop>
              <next-hop-address>100.64.18.98</next-hop-address>
            </next-hop>
          </route>
        </ipv4>
      </static-routes>
    </control-plane-protocol>
  </control-plane-protocols>
</routing>
`)
	keys := Keys{
		"/interfaces/interface":                                                            {"name"},
		"/routing/control-plane-protocols/control-plane-protocol":                          {"type", "name"},
		"/routing/control-plane-protocols/control-plane-protocol/static-routes/ipv4/route": {"destination-prefix"},
		"/interfaces/interface/type":                                                       {IdentityLeaf},
		"/routing/control-plane-protocols/control-plane-protocol/type":                     {IdentityLeaf},
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(src), "svc", keys); err != nil {
			b.Fatal(err)
		}
	}
}
