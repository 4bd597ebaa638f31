package render

import (
	"strings"
	"testing"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/schema"
)

func TestWriteJunosSet(t *testing.T) {
	xml := `<configuration>
	  <interfaces><interface><name>xe-0/0/0</name><vlan-tagging/>
	    <unit><name>144</name><description>ACME "HQ"; rack 3</description><vlan-id>144</vlan-id>
	      <family><inet><address><name>100.64.0.29/30</name></address></inet></family></unit>
	  </interface></interfaces>
	  <routing-instances><instance><name>ACME</name><instance-type>vrf</instance-type>
	    <interface><name>xe-0/0/0.144</name></interface>
	    <routing-options><static><route><name>10.30.0.0/16</name><next-hop>100.64.0.30</next-hop></route></static></routing-options>
	  </instance></routing-instances>
	</configuration>`
	tree, err := configtree.Parse(strings.NewReader(xml), "t", Keys(schema.PlatformJunos, nil))
	if err != nil {
		t.Fatal(err)
	}
	tree.SetOwner("acme-singapore")
	var b strings.Builder
	if err := WriteJunosSet(&b, tree, true); err != nil {
		t.Fatal(err)
	}
	want := `# owners: acme-singapore
set interfaces xe-0/0/0 unit 144 description "ACME \"HQ\"; rack 3"
set interfaces xe-0/0/0 unit 144 family inet address 100.64.0.29/30
set interfaces xe-0/0/0 unit 144 vlan-id 144
set interfaces xe-0/0/0 vlan-tagging
set routing-instances ACME instance-type vrf
set routing-instances ACME interface xe-0/0/0.144
set routing-instances ACME routing-options static route 10.30.0.0/16 next-hop 100.64.0.30
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	ietf, _ := configtree.Parse(strings.NewReader(`<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces"/>`), "t", nil)
	if err := WriteJunosSet(&b, ietf, false); err == nil {
		t.Error("an IETF tree must be refused")
	}
}

// bgp-customer's Junos fragment as set commands: prefix-list items and the
// prefix-list-filter's list name are words, as the Junos CLI writes them.
func TestWriteJunosSetBGPCustomer(t *testing.T) {
	in := loadScenario(t, "testdata/bgp-customer")
	tree, diags := mustNew(t, in).Device("pe3-sin")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var b strings.Builder
	if err := WriteJunosSet(&b, tree, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"set policy-options prefix-list acme-singapore-bgp-v4 192.0.2.0/24\n",
		"set policy-options policy-statement acme-singapore-bgp-import term irr-v4 from prefix-list-filter acme-singapore-bgp-v4 exact\n",
		"set policy-options policy-statement acme-singapore-bgp-import term reject-rest then reject\n",
		"set protocols bgp group acme-singapore-bgp neighbor 192.0.2.22 family inet unicast prefix-limit maximum 100\n",
		"set routing-instances globex protocols bgp group globex-singapore-bgp peer-as 64501\n",
		"set policy-options prefix-list globex-singapore-bgp-v4\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("lacks %q:\n%s", want, b.String())
		}
	}
}
