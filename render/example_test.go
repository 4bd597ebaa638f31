package render_test

import (
	"fmt"
	"os"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
)

// A device's desired configuration is the merge of its services' fragments,
// each node owned by the services that render it.
func ExampleRenderer_Device() {
	in := &schema.Intent{
		Devices: []*schema.Device{{Name: "pe1", Platform: schema.PlatformJunos}},
		Services: []*schema.Service{{
			Kind: schema.KindAttachmentCircuit, Name: "acme-hq", Devices: []string{"pe1"},
			Spec: map[string]any{
				"device": "pe1", "interface": "ge-0/0/1", "vlan": int64(100),
				"description": "ACME </description> HQ", "ipv4": "192.0.2.1/30", "enabled": true,
			},
		}},
	}
	r, diags := render.New(in)
	if diags.HasErrors() {
		fmt.Println(diags)
		return
	}
	tree, diags := r.Device("pe1")
	if diags.HasErrors() {
		fmt.Println(diags)
		return
	}
	_ = tree.WriteXML(os.Stdout, configtree.WriteOptions{Indent: "  ", Owners: true})
	// Output:
	// <!-- owners: acme-hq -->
	// <configuration>
	//   <interfaces>
	//     <interface>
	//       <name>ge-0/0/1</name>
	//       <unit>
	//         <name>100</name>
	//         <description>ACME &lt;/description&gt; HQ</description>
	//         <family>
	//           <inet>
	//             <address>
	//               <name>192.0.2.1/30</name>
	//             </address>
	//           </inet>
	//         </family>
	//         <vlan-id>100</vlan-id>
	//       </unit>
	//       <vlan-tagging></vlan-tagging>
	//     </interface>
	//   </interfaces>
	// </configuration>
}
