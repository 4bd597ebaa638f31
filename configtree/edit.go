package configtree

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
)

// EditConfig turns changes into the content of an edit-config <config>
// element (RFC 6241 §7.2); the NETCONF client adds <config> itself.
//
// Each changed node carries an nc:operation attribute: "merge" for creates
// and updates, "remove" for deletes, because remove is idempotent (deleting
// what is already gone is not an error, unlike "delete") and a retried apply
// must not fail on its own earlier success. Around them come the ancestors
// that address the target: containers, and list entries with their key
// leaves, first and in key order (RFC 7950 §7.8.5); they carry no operation,
// so the default operation (merge) leaves them as they are. Namespaces are
// declared where they change; top-level elements declare theirs even when
// empty, because they sit inside <config> in the NETCONF namespace.
//
// [RFC6241 7.2]: https://www.rfc-editor.org/rfc/rfc6241#section-7.2
func EditConfig(changes []Change) (string, error) {
	root := &Node{}
	ops := make(map[*Node]string)
	// index finds the edit node of an identity under a parent in O(1), so
	// that thousands of changes in one list stay linear.
	type key struct {
		parent *Node
		id     string
	}
	index := make(map[key]*Node)
	child := func(parent, like *Node) (*Node, bool) {
		k := key{parent, like.PathStep()}
		if n, ok := index[k]; ok {
			return n, false
		}
		n := like.shallow()
		n.Owners = nil
		index[k] = n
		parent.Children = append(parent.Children, n)
		return n, true
	}
	for i, c := range changes {
		if c.Node == nil {
			return "", fmt.Errorf("configtree: change %d (%c %s) has no Node", i+1, c.Action, c.Path)
		}
		parent := root
		for _, a := range c.Ancestors {
			n, _ := child(parent, a)
			if ops[n] == "remove" {
				// A removed leaf comes back as a container (Diff removes,
				// then creates, when a node changes kind): one replace
				// does both on the device.
				ops[n] = "replace"
				n.Leaf, n.Value, n.ValueSpace, n.ValuePrefix = false, "", "", ""
			}
			parent = n
		}
		op := "merge"
		if c.Action == Delete {
			op = "remove"
		}
		n, _ := child(parent, c.Node)
		switch prev := ops[n]; {
		case prev == "remove" && op == "merge":
			// A removed container comes back as a leaf, or the reverse.
			op = "replace"
			n.Leaf, n.Value, n.ValueSpace, n.ValuePrefix = c.Node.Leaf, c.Node.Value, c.Node.ValueSpace, c.Node.ValuePrefix
			n.Children = nil
		case prev == "replace" && op == "merge":
			op = prev
		case prev != "" && prev != op:
			return "", fmt.Errorf("configtree: change %d (%c %s) conflicts with an earlier change of the same node", i+1, c.Action, c.Path)
		}
		ops[n] = op
		if op == "remove" && n.Leaf && !n.IsEntry() {
			// The value of a removed leaf is not needed to address it.
			n.Value, n.ValueSpace = "", ""
		}
	}
	xw := newXMLWriter(WriteOptions{})
	xw.ops = ops
	if err := xw.children(root, NetconfNS); err != nil {
		return "", err
	}
	return xw.buf.String(), nil
}

// ApplyEdit applies the content of an edit-config <config> (with or without
// the <config> element) to a copy of t, as a NETCONF server does: the
// simulator's datastore. defaultOp is the <default-operation>: "merge" (or
// ""), "replace" or "none". Operations (RFC 6241 §7.2):
//
//   - merge: create what is missing, set leaf values, descend;
//   - replace: the node becomes exactly the edit's content;
//   - create: like merge, but data-exists if the node exists;
//   - delete: remove the node, data-missing if it does not exist;
//   - remove: remove the node if it exists;
//   - none (default only): descend without changing anything; a node that
//     does not exist is data-missing unless an operation below creates it.
//
// A refused edit is an *EditError with the RFC 6241 Appendix A error-tag;
// t is never modified.
func ApplyEdit(t *Tree, r io.Reader, name string, keys Keys, defaultOp string) (*Tree, error) {
	return ApplyEditQuirks(t, r, name, keys, defaultOp, EditQuirks{})
}

// EditQuirks are ways a real server's edit-config departs from RFC 6241 that
// ApplyEditQuirks reproduces, so the simulator can be held to the server.
type EditQuirks struct {
	// RefuseRemoveOfEntryUnderAbsentParent: a remove of a list entry that
	// does not exist, addressed through a parent the datastore lacks too (so
	// the edit's merge creates that parent), is refused with data-missing
	// (app-tag instance-required) instead of ignored. yuma123 netconfd 2.13
	// does this: <interface nc:operation="remove"> of an absent interface
	// while running has no <interfaces> at all fails with "required value
	// instance not found" at the entry's mandatory type leaf; with
	// <interfaces> present (even empty) the same remove is ignored, and so is
	// a remove of an absent leaf of an absent entry (the device case
	// caseRemoveAbsent of drivers/netconf, on the lab and on netsim;
	// docs/quirks.md).
	RefuseRemoveOfEntryUnderAbsentParent bool
}

// ApplyEditQuirks is ApplyEdit with a server's quirks.
func ApplyEditQuirks(t *Tree, r io.Reader, name string, keys Keys, defaultOp string, q EditQuirks) (*Tree, error) {
	switch defaultOp {
	case "":
		defaultOp = "merge"
	case "merge", "replace", "none":
	default:
		return nil, &EditError{Tag: tagInvalidValue, Msg: fmt.Sprintf("default-operation %q: expected merge, replace or none", defaultOp)}
	}
	p, err := newParser(r, name, keys)
	if err == nil {
		p.edit, p.ops = true, make(map[*Node]string)
		var edit *Tree
		if edit, err = p.run(firstElement(p.src) == "config"); err == nil {
			out := t.Clone()
			e := &editor{ops: p.ops, quirks: q, created: make(map[*Node]bool)}
			for _, c := range edit.Root.Children {
				if err := e.apply(out.Root, c, defaultOp, "/"); err != nil {
					return nil, err
				}
			}
			canonicalize(out.Root)
			return out, nil
		}
	}
	ee := &EditError{Tag: tagMalformed, Msg: err.Error(), Err: err}
	if p != nil && p.lastTag != "" {
		ee.Tag = p.lastTag
	}
	return nil, ee
}

// firstElement is the local name of the first element of src, or "".
func firstElement(src []byte) string {
	dec := xml.NewDecoder(bytes.NewReader(src))
	for {
		tok, err := dec.RawToken()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Local
		}
	}
}

type editor struct {
	ops    map[*Node]string
	quirks EditQuirks
	// created holds the nodes this edit created (fill), for the quirk that
	// tells a remove under a new parent from one under an existing parent.
	created map[*Node]bool
}

// apply applies edit node e to the child of target with e's identity, under
// the inherited operation.
func (ed *editor) apply(target, e *Node, inherited string, parentPath Path) error {
	op := inherited
	if o := ed.ops[e]; o != "" {
		op = o
	}
	path := childPath(parentPath, e)
	existing := findChild(target, e)
	if existing != nil && existing.Leaf != e.Leaf && !isEmptyElem(existing) && !isEmptyElem(e) {
		if op != "replace" && op != "delete" && op != "remove" {
			return &EditError{Tag: tagInvalidValue, Path: path, Msg: "a leaf cannot become a container or the reverse without replace"}
		}
	}
	switch op {
	case "delete", "remove":
		if existing == nil {
			if op == "delete" {
				return &EditError{Tag: "data-missing", Path: path, Msg: "delete of a node that does not exist"}
			}
			if ed.quirks.RefuseRemoveOfEntryUnderAbsentParent && e.IsEntry() && ed.created[target] {
				return &EditError{Tag: "data-missing", AppTag: "instance-required", Path: path, Msg: "required value instance not found"}
			}
			return nil
		}
		removeChild(target, existing)
		return nil
	case "create":
		if existing != nil {
			return &EditError{Tag: "data-exists", Path: path, Msg: "create of a node that exists"}
		}
		return ed.fill(target, e, path)
	case "replace":
		if existing != nil {
			removeChild(target, existing)
		}
		return ed.fill(target, e, path)
	case "merge":
		if existing == nil {
			return ed.fill(target, e, path)
		}
		return ed.update(existing, e, "merge", path)
	case "none":
		if existing == nil {
			switch {
			case ed.below(e, "merge", "create", "replace"):
				existing = e.shallow()
				existing.Owners = nil
				addChild(target, existing)
			case ed.below(e, "remove") && !ed.below(e, "delete"):
				return nil
			default:
				return &EditError{Tag: "data-missing", Path: path, Msg: "no such node, and default-operation none does not create it"}
			}
		}
		return ed.update(existing, e, "none", path)
	}
	return &EditError{Tag: tagBadAttr, Path: path, Msg: fmt.Sprintf("operation %q", op)}
}

// fill creates e under target, then applies e's children as merges (an
// operation below them still applies: a delete there is data-missing).
func (ed *editor) fill(target, e *Node, path Path) error {
	n := e.shallow()
	n.Owners = nil
	addChild(target, n)
	ed.created[n] = true
	return ed.update(n, e, "merge", path)
}

// update applies e to its existing counterpart n.
func (ed *editor) update(n, e *Node, op string, path Path) error {
	if e.Leaf && (op != "none" || ed.ops[e] != "") {
		if !n.Leaf && !isEmptyElem(e) {
			n.Children = nil
		}
		if !n.Leaf && isEmptyElem(e) {
			return nil // <x/> merged into a container x leaves it as it is
		}
		n.Leaf = true
		n.Space, n.Value, n.ValueSpace, n.ValuePrefix = e.Space, e.Value, e.ValueSpace, e.ValuePrefix
		return nil
	}
	for _, c := range e.Children {
		if n.isKeyLeaf(c) {
			continue // the entry's identity, already in place
		}
		if err := ed.apply(n, c, op, path); err != nil {
			return err
		}
	}
	return nil
}

// below reports whether e or a descendant carries one of ops.
func (ed *editor) below(e *Node, ops ...string) bool {
	for _, o := range ops {
		if ed.ops[e] == o {
			return true
		}
	}
	for _, c := range e.Children {
		if ed.below(c, ops...) {
			return true
		}
	}
	return false
}

func removeChild(parent, c *Node) {
	for i, x := range parent.Children {
		if x == c {
			parent.Children = append(parent.Children[:i], parent.Children[i+1:]...)
			return
		}
	}
}
