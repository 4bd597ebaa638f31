package netsim

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"slices"

	"github.com/netrecon/netrecon/configtree"
)

// Schema is a YANG module or submodule a simulated device serves: listed
// in /netconf-state/schemas and handed out by <get-schema> ([RFC6022]).
//
// [RFC6022]: https://www.rfc-editor.org/rfc/rfc6022
type Schema struct {
	Identifier string
	Version    string // revision date
	Namespace  string // "" for a submodule
	Text       string
	Submodule  bool
}

// ServeSchemas sets the schemas the device serves (none by default: a
// device without them answers <get-schema> with invalid-value and lists
// nothing).
func (d *Device) ServeSchemas(schemas []Schema) {
	d.mu.Lock()
	d.schemas = slices.Clone(schemas)
	d.mu.Unlock()
}

// UnlistedSubmodules reproduces what yuma123 netconfd 2.13 does (lab
// README): /netconf-state/schemas leaves submodules out, while <get-schema>
// serves them. A client that fetches only what the list names misses them.
func (d *Device) UnlistedSubmodules(on bool) {
	d.mu.Lock()
	d.unlistedSubmodules = on
	d.mu.Unlock()
}

// SchemaNotFoundAsOperationFailed reproduces yuma123 netconfd's answer to a
// <get-schema> of a schema it lacks: operation-failed "no matches found" at
// the identifier, where RFC 6022 3.1 says invalid-value.
func (d *Device) SchemaNotFoundAsOperationFailed(on bool) {
	d.mu.Lock()
	d.yumaNotFound = on
	d.mu.Unlock()
}

// DropOnRepeatedGetSchema reproduces a yuma123 netconfd 2.13 crash (lab
// README): the second <get-schema> of ietf-netconf in the life of a netconfd
// process answers nothing and the server dies ("double free or
// corruption"). Here the second and later <get-schema> of identifier drop
// the connection without a reply, which is what a client of the crashing
// server sees. "" turns the knob off.
func (d *Device) DropOnRepeatedGetSchema(identifier string) {
	d.mu.Lock()
	d.dropRepeated, d.schemaGets = identifier, 0
	d.mu.Unlock()
}

// repeatedGetSchema counts a <get-schema> of id and reports whether the
// DropOnRepeatedGetSchema knob fires for it.
func (d *Device) repeatedGetSchema(op *elem) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dropRepeated == "" || op.child("identifier").text != d.dropRepeated {
		return false
	}
	d.schemaGets++
	return d.schemaGets > 1
}

// schemasState builds /netconf-state/schemas; d.mu must be held.
func (d *Device) schemasState() *configtree.Node {
	list := &configtree.Node{Name: "schemas", Space: nsMonitoring}
	for _, sc := range d.schemas {
		if sc.Submodule && d.unlistedSubmodules {
			continue
		}
		list.Children = append(list.Children, &configtree.Node{
			Name: "schema", Space: nsMonitoring, Keys: []string{"identifier", "version", "format"},
			Children: []*configtree.Node{
				leaf("identifier", sc.Identifier),
				leaf("version", sc.Version),
				// format is an identityref: ncm:yang.
				{Name: "format", Space: nsMonitoring, Leaf: true, Value: "yang", ValueSpace: nsMonitoring},
				leaf("namespace", sc.Namespace),
				leaf("location", "NETCONF"),
			},
		})
	}
	return list
}

// getSchema answers <get-schema> ([RFC6022 3.1]).
//
// [RFC6022 3.1]: https://www.rfc-editor.org/rfc/rfc6022#section-3.1
func (d *Device) getSchema(op *elem) ([]byte, error) {
	id := op.child("identifier").text
	version := ""
	if v := op.child("version"); v != nil {
		version = v.text
	}
	if f := op.child("format"); f != nil && f.text != "yang" && f.text != "ncm:yang" {
		return nil, &rpcError{Type: errTypeApp, Tag: "invalid-value", Path: "/nc:rpc/ncm:get-schema/ncm:format", Message: "value not supported"}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, sc := range d.schemas {
		if sc.Identifier == id && (version == "" || sc.Version == version) {
			var b bytes.Buffer
			b.WriteString(`<data xmlns="` + nsMonitoring + `">`)
			if err := xml.EscapeText(&b, []byte(sc.Text)); err != nil {
				return nil, err
			}
			b.WriteString("</data>")
			return b.Bytes(), nil
		}
	}
	if d.yumaNotFound {
		return nil, &rpcError{Type: errTypeApp, Tag: "operation-failed", Path: "/nc:rpc/ncm:get-schema/ncm:identifier", Message: "no matches found"}
	}
	return nil, &rpcError{Type: errTypeApp, Tag: "invalid-value", Message: fmt.Sprintf("no schema %s version %q", id, version)}
}
