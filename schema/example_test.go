package schema_test

import (
	"fmt"
	"testing/fstest"

	"github.com/netrecon/netrecon/schema"
)

func ExampleLoad() {
	repo := fstest.MapFS{
		"inventory/pe.yaml": {Data: []byte(`apiVersion: netrecon.io/v1
kind: Inventory
devices:
  - name: pe1-tyo
    platform: junos
    address: 192.0.2.11
    credentials: {username: netrecon, passwordEnv: PE_PASSWORD}
`)},
		"services/acme/hq.yaml": {Data: []byte(`apiVersion: netrecon.io/v1
kind: attachment-circuit
metadata: {name: acme-hq, customer: acme}
spec:
  device: pe1-tyo
  interface: ge-0/0/1
  vlan: 100
  ipv4: 198.51.100.1/30
`)},
		"services/acme/typo.yaml": {Data: []byte(`apiVersion: netrecon.io/v1
kind: attachment-circuit
metadata: {name: acme-branch, customer: acme}
spec:
  device: pe1-tyo
  interface: ge-0/0/1
  vlna: 200
  vlan: 5000
  ipv4: 198.51.100.5/30
`)},
	}
	intent, diags := schema.Load(repo, schema.Options{})
	for _, d := range diags {
		fmt.Println(d)
	}
	hq := intent.Services[0]
	fmt.Println(hq.Name, hq.Devices, "enabled:", hq.Spec["enabled"], "vlan at", hq.FieldPos("spec.vlan"))
	// Output:
	// services/acme/typo.yaml:7:3: spec.vlna: unknown field "vlna" (did you mean "vlan"?)
	// services/acme/typo.yaml:8:3: spec.vlan: invalid value 5000 (out of bound <=4094)
	// acme-hq [pe1-tyo] enabled: true vlan at services/acme/hq.yaml:7:3
}
