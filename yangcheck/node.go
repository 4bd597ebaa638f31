package yangcheck

import (
	"slices"
	"strings"

	"github.com/openconfig/goyang/pkg/yang"
)

// kind is what a schema node is in the data tree. Choices and cases are not
// nodes of the data tree (RFC 7950 7.9): their children are lifted into the
// parent, and the choice remains only as a constraint.
type kind int

const (
	container kind = iota
	list
	leaf
	leafList
	anyData // anydata and anyxml: anything goes below
)

func (k kind) String() string {
	return [...]string{"container", "list", "leaf", "leaf-list", "anydata"}[k]
}

// Node is one compiled schema node.
type Node struct {
	name, space string
	module      string // the module that defines it (the namespace's)
	kind        kind
	presence    bool
	config      bool
	keys        []string
	children    map[qname]*Node
	byLocal     map[string][]*Node // children by local name, for messages
	required    []*Node            // mandatory children outside any choice
	choices     []*choice
	minElements uint64
	typ         *leafType
	// disabled says why the node is not there on the device although a
	// module defines it: "if-feature ...".
	disabled string
	path     string // schema path, with module prefixes
}

// choice is a choice among the node's children (RFC 7950 7.9).
type choice struct {
	name      string
	mandatory bool
	cases     []*caseNodes
}

type caseNodes struct {
	name     string
	members  []qname
	required []*Node
}

// compiler turns goyang entries into Nodes.
type compiler struct {
	set      *Set
	features Features
	inverted map[string]bool
	note     func(string, ...any)
	// types caches compiled types: many leaves share one typedef.
	types map[*yang.YangType]*leafType
}

func (c *compiler) module(e *yang.Entry) {
	for _, name := range sortedDir(e) {
		child := e.Dir[name]
		if n := c.node(child, nil, ""); n != nil {
			c.addChild(nil, n)
		}
	}
}

func sortedDir(e *yang.Entry) []string {
	names := make([]string, 0, len(e.Dir))
	for k := range e.Dir {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// addChild adds n under parent (nil: the top level).
func (c *compiler) addChild(parent *Node, n *Node) {
	q := qname{n.space, n.name}
	if parent == nil {
		if _, ok := c.set.top[q]; !ok {
			c.set.top[q] = n
		}
		return
	}
	if parent.children == nil {
		parent.children = map[qname]*Node{}
		parent.byLocal = map[string][]*Node{}
	}
	if _, ok := parent.children[q]; ok {
		return
	}
	parent.children[q] = n
	parent.byLocal[n.name] = append(parent.byLocal[n.name], n)
}

// node compiles a data node entry; choices and cases are handled by
// children. It returns nil for what is not configuration or state data
// (rpcs, notifications, actions).
func (c *compiler) node(e *yang.Entry, parent *Node, parentPath string) *Node {
	if e.RPC != nil || e.Kind == yang.NotificationEntry || e.Kind == yang.InputEntry || e.Kind == yang.OutputEntry {
		return nil
	}
	n := &Node{name: e.Name, space: e.Namespace().Name, config: !e.ReadOnly()}
	if m := c.set.modules[n.space]; m != nil {
		n.module = m.name
		n.path = parentPath + "/" + m.prefix + ":" + e.Name
	} else {
		n.path = parentPath + "/" + e.Name
	}
	if off := c.disabled(e); off != "" {
		n.disabled = off
	}
	switch {
	case e.IsLeaf():
		n.kind = leaf
		n.typ = c.leafType(e, e.Type, 0)
	case e.IsLeafList():
		n.kind = leafList
		n.typ = c.leafType(e, e.Type, 0)
		if e.ListAttr != nil {
			n.minElements = e.ListAttr.MinElements
		}
	case e.IsList():
		n.kind = list
		n.keys = strings.Fields(e.Key)
		if e.ListAttr != nil {
			n.minElements = e.ListAttr.MinElements
		}
		c.children(n, e)
	case e.Kind == yang.AnyDataEntry || e.Kind == yang.AnyXMLEntry:
		n.kind = anyData
	case e.IsDir():
		n.kind = container
		if ct, ok := e.Node.(*yang.Container); ok && ct.Presence != nil {
			n.presence = true
		}
		c.children(n, e)
	default:
		return nil
	}
	return n
}

// children compiles e's data children into n, lifting those of choices and
// cases, and records n's mandatory children and choices.
func (c *compiler) children(n *Node, e *yang.Entry) {
	for _, name := range sortedDir(e) {
		child := e.Dir[name]
		if child.IsChoice() {
			ch := c.choice(n, child)
			if ch != nil {
				n.choices = append(n.choices, ch)
			}
			continue
		}
		cn := c.node(child, n, n.path)
		if cn == nil {
			continue
		}
		c.addChild(n, cn)
		if isRequired(child, cn) {
			n.required = append(n.required, cn)
		}
	}
}

// choice lifts the nodes of every case of the choice ch into n.
func (c *compiler) choice(n *Node, ch *yang.Entry) *choice {
	out := &choice{name: ch.Name, mandatory: ch.Mandatory == yang.TSTrue && c.disabled(ch) == ""}
	for _, cname := range sortedDir(ch) {
		ce := ch.Dir[cname]
		cs := &caseNodes{name: ce.Name}
		if !ce.IsCase() {
			// A shorthand case (RFC 7950 7.9.2): the node is its own case.
			// goyang's FixChoice adds the case, but be safe.
			c.caseMember(n, cs, ce)
		} else {
			for _, name := range sortedDir(ce) {
				c.caseMember(n, cs, ce.Dir[name])
			}
		}
		out.cases = append(out.cases, cs)
	}
	return out
}

func (c *compiler) caseMember(n *Node, cs *caseNodes, e *yang.Entry) {
	if e.IsChoice() {
		// A choice inside a case: its nodes are members of this case too;
		// its own mandatory statement is not checked.
		inner := c.choice(n, e)
		for _, ic := range inner.cases {
			cs.members = append(cs.members, ic.members...)
		}
		return
	}
	cn := c.node(e, n, n.path)
	if cn == nil {
		return
	}
	c.addChild(n, cn)
	cs.members = append(cs.members, qname{cn.space, cn.name})
	if isRequired(e, cn) {
		cs.required = append(cs.required, cn)
	}
}

// isRequired reports whether a configuration node must be present whenever
// its parent is: a mandatory leaf, a list or leaf-list with min-elements, or
// a non-presence container holding such a node (RFC 7950 3, "mandatory
// node").
func isRequired(e *yang.Entry, n *Node) bool {
	if !n.config || n.disabled != "" {
		return false
	}
	switch n.kind {
	case leaf:
		return e.Mandatory == yang.TSTrue
	case list, leafList:
		return n.minElements > 0
	case container:
		if n.presence {
			return false
		}
		if len(n.required) > 0 {
			return true
		}
		for _, ch := range n.choices {
			if ch.mandatory {
				return true
			}
		}
	}
	return false
}
