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
