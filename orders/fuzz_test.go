package orders

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/schema"
)

// FuzzOrder feeds arbitrary order bodies through the envelope check and the
// file writer: no panic, and an order that passes the check becomes a YAML
// document the loader reads back with the order's name and fields.
func FuzzOrder(f *testing.F) {
	f.Add(validOrder)
	f.Add(`{"order_id": "a", "service_type": "x", "name": "n", "customer": "c", "fields": {"a": [1, {"b": null}], "c": "true", "d": "0x10", "e": 1.5e3}}`)
	f.Add(`{"order_id": "a", "name": "n", "customer": "c", "fields": {"": "", "k: v": "- x", "#": "'\"\n"}}`)
	f.Fuzz(func(t *testing.T, body string) {
		dec := json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		var o Order
		if dec.Decode(&o) != nil {
			return
		}
		if len(o.check()) > 0 {
			return
		}
		shape, _ := schema.BuiltinShape(o.ServiceType)
		b, err := o.render(shape, time.Unix(0, 0))
		if err != nil {
			return
		}
		doc, diags := schema.ParseYAML(o.Path(), b)
		if diags.HasErrors() {
			t.Fatalf("written file does not parse: %v\n%s", diags, b)
		}
		if v, _ := doc.Value("metadata.name"); v != o.Name {
			t.Fatalf("name %v; want %q\n%s", v, o.Name, b)
		}
		for k, v := range o.Fields {
			if s, ok := v.(string); ok && !strings.ContainsAny(k, ".[]") && k != "" {
				if got, _ := doc.Value("spec." + k); got != s {
					t.Fatalf("spec.%s = %#v; want %q\n%s", k, got, s, b)
				}
			}
		}
	})
}
