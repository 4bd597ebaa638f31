package render

import (
	"sync"
	"testing"

	"github.com/netrecon/netrecon/schema"
)

// Builders for hand-made intents: tests need no schema.Load.

func device(name, platform string) *schema.Device {
	return &schema.Device{Name: name, Platform: platform, Address: "192.0.2.1", Port: 830, Site: "tokyo", Role: "pe"}
}

func circuit(name, dev string, spec map[string]any) *schema.Service {
	s := map[string]any{"device": dev, "enabled": true}
	for k, v := range spec {
		s[k] = v
	}
	return &schema.Service{
		APIVersion: schema.APIVersion, Kind: schema.KindAttachmentCircuit, Name: name, Customer: "acme",
		Spec: s, Devices: []string{dev},
		Pos: schema.Pos{File: "services/acme/" + name + ".yaml", Line: 1, Col: 1},
	}
}

func routing(name, dev string, spec map[string]any) *schema.Service {
	s := map[string]any{"device": dev}
	for k, v := range spec {
		s[k] = v
	}
	return &schema.Service{
		APIVersion: schema.APIVersion, Kind: schema.KindStaticRouting, Name: name, Customer: "acme",
		Spec: s, Devices: []string{dev},
		Pos: schema.Pos{File: "services/acme/" + name + ".yaml", Line: 1, Col: 1},
	}
}

func route(prefix, nextHop, desc string) any {
	r := map[string]any{"prefix": prefix, "nextHop": nextHop}
	if desc != "" {
		r["description"] = desc
	}
	return r
}

func intent(devs []*schema.Device, svcs ...*schema.Service) *schema.Intent {
	ac, sr := builtinShapes()
	return &schema.Intent{Devices: devs, Services: svcs, Types: map[string]*schema.ServiceType{
		schema.KindAttachmentCircuit: {Kind: schema.KindAttachmentCircuit, BuiltIn: true, Shape: ac},
		schema.KindStaticRouting:     {Kind: schema.KindStaticRouting, BuiltIn: true, Shape: sr},
	}}
}

// builtinShapes are the built-in types' shapes, as Load gives them,
// compiled once for the tests (New compiles them for an intent without).
var builtinShapes = sync.OnceValues(func() (*schema.Shape, *schema.Shape) {
	ac, _ := schema.BuiltinShape(schema.KindAttachmentCircuit)
	sr, _ := schema.BuiltinShape(schema.KindStaticRouting)
	return ac, sr
})

func mustNew(t testing.TB, in *schema.Intent) *Renderer {
	t.Helper()
	r, diags := New(in)
	if diags.HasErrors() {
		t.Fatalf("New: %v", diags)
	}
	return r
}
