package schema

import (
	"fmt"
	"slices"
	"strings"
)

// One broken document makes checks elsewhere fail too: the routes that go
// through a circuit that did not load have "no attachment circuit", the
// services of a device with a mistyped platform have "no template". Those
// errors come first in file order and send the reader to the wrong file. So
// a check that misses something a broken document may hold reports a
// follow-on instead, and Load puts it under the broken document's own error,
// as a related place: the cause first, its consequences with it.

// maxFollowOns is how many follow-ons one error lists; the rest are counted.
const maxFollowOns = 10

// cause is where a broken document's own error is: its file, and the field
// (with what is under it) or "" for any error in the file.
type cause struct{ file, field string }

// followOn is an error that follows from the error at cause.
type followOn struct {
	cause cause
	diag  Diagnostic
}

// brokenDoc is a document that did not load (or lost its name to another),
// with what its data says it would have given; "" and nil are unknown, and
// match anything.
type brokenDoc struct {
	cause cause
	// inventory: an inventory file that could not be read or parsed, so
	// any device may be in it.
	inventory bool
	// links: the document may hold customer links (its kind declares them,
	// or its kind is unknown).
	links    bool
	ctx      string
	customer string
	devices  []string
}

// brokenOf describes a service document from its data as written: no field
// of it has been validated, so anything not a string is unknown.
func brokenOf(at cause, kind, customer string, spec map[string]any, types map[string]*ServiceType) brokenDoc {
	b := brokenDoc{cause: at, customer: customer, links: true}
	if t := types[kind]; t != nil {
		b.links = len(t.Addresses.Links) > 0
		b.ctx = globalVRF
		if t.Addresses.VRF != "" {
			switch v, present := dataAt(spec, t.Addresses.VRF); {
			case !present:
			case str(v) != "":
				b.ctx = str(v)
			default:
				b.ctx = "" // there, but not a name: unknown
			}
		}
	}
	if d := str(spec["device"]); d != "" {
		b.devices = []string{d}
	}
	if l, ok := spec["devices"].([]any); ok {
		for _, d := range l {
			if d := str(d); d != "" {
				b.devices = append(b.devices, d)
			}
		}
	}
	return b
}

// brokenDocOf describes a parsed service document that did not load.
func brokenDocOf(doc *document, types map[string]*ServiceType) brokenDoc {
	meta, _ := doc.data["metadata"].(map[string]any)
	spec, _ := doc.data["spec"].(map[string]any)
	return brokenOf(cause{file: doc.file}, str(doc.data["kind"]), str(meta["customer"]), spec, types)
}

// brokenLink returns a broken document that may hold a link of the
// customer on the device and context, or nil.
func (c *checker) brokenLink(k linkKey) *brokenDoc {
	for i := range c.broken {
		b := &c.broken[i]
		if !b.inventory && b.links &&
			(b.ctx == "" || b.ctx == k.ctx) &&
			(b.customer == "" || b.customer == k.customer) &&
			(b.devices == nil || slices.Contains(b.devices, k.device)) {
			return b
		}
	}
	return nil
}

// brokenInventory returns an inventory file that did not load, or nil.
func (c *checker) brokenInventory() *brokenDoc {
	for i := range c.broken {
		if c.broken[i].inventory {
			return &c.broken[i]
		}
	}
	return nil
}

// group puts each follow-on under the first error at its cause, as a related
// place; a follow-on whose cause has no error (a file Options.Trusted
// vouched for skips CUE) stands on its own, so that nothing is lost. diags
// must be sorted, and stays so.
func group(diags Diagnostics, fos []followOn) Diagnostics {
	under := make(map[int][]Diagnostic)
	var alone Diagnostics
	for _, f := range fos {
		i := slices.IndexFunc(diags, func(d Diagnostic) bool {
			return d.Severity == Error && d.Pos.File == f.cause.file && within(d.Field, f.cause.field)
		})
		if i < 0 {
			alone = append(alone, f.diag)
			continue
		}
		under[i] = append(under[i], f.diag)
	}
	for i, ds := range under {
		Diagnostics(ds).Sort()
		for n, d := range ds {
			if n == maxFollowOns {
				diags[i].Related = append(diags[i].Related, Related{Pos: d.Pos, Field: d.Field,
					Message: fmt.Sprintf("and %d more errors that follow from this one", len(ds)-n)})
				break
			}
			diags[i].Related = append(diags[i].Related, Related{Pos: d.Pos, Field: d.Field, Message: "follows from this: " + d.Summary})
		}
	}
	if len(alone) == 0 {
		return diags
	}
	diags = append(diags, alone...)
	diags.Sort()
	return diags
}

// within reports whether field is top or lies under it; "" is everything.
func within(field, top string) bool {
	return top == "" || field == top || strings.HasPrefix(field, top+".") || strings.HasPrefix(field, top+"[")
}
