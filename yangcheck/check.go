package yangcheck

import (
	"fmt"
	"slices"
	"strings"

	"github.com/netrecon/netrecon/configtree"
)

// Problem is one place where a tree does not fit the device's modules.
type Problem struct {
	Path       configtree.Path // the data node concerned
	SchemaPath string          // its YANG path with module prefixes, "" when it has none
	Element    string          // the offending element's local name
	Owners     []string        // the services that render the node
	Summary    string
	Detail     string // what to do next
	// Module names the module the device lacks, when the problem is a
	// namespace no module of the device defines.
	Module string
}

// Check walks t against the Set's schema tree and returns every problem,
// in tree order. A subtree below an unknown element is not looked into:
// its problems would all follow from the first.
func (s *Set) Check(t *configtree.Tree) []Problem {
	if t == nil || t.Root == nil {
		return nil
	}
	c := &checker{set: s}
	for _, n := range t.Root.Children {
		c.stack = c.stack[:0]
		sn := s.top[qname{n.Space, n.Name}]
		if sn == nil {
			c.unknown(n, nil, s.topByLocal(n.Name))
			continue
		}
		c.node(n, sn)
	}
	return c.out
}

func (s *Set) topByLocal(name string) []*Node {
	var out []*Node
	for q, n := range s.top {
		if q.name == name {
			out = append(out, n)
		}
	}
	return out
}

type checker struct {
	set   *Set
	stack []*configtree.Node // ancestors of the node being checked
	out   []Problem
}

func (c *checker) path(n *configtree.Node) configtree.Path {
	var b strings.Builder
	for _, a := range c.stack {
		b.WriteByte('/')
		b.WriteString(a.PathStep())
	}
	if n != nil {
		b.WriteByte('/')
		b.WriteString(n.PathStep())
	}
	if b.Len() == 0 {
		return "/"
	}
	return configtree.Path(b.String())
}

func (c *checker) add(n *configtree.Node, sn *Node, p Problem) {
	p.Path = c.path(n)
	if n != nil {
		p.Element = n.Name
		p.Owners = n.Owners
	}
	if sn != nil {
		p.SchemaPath = sn.path
	}
	c.out = append(c.out, p)
}

// unknown reports an element the schema has no node for under parent (nil:
// the top level); others are schema nodes of the same local name in other
// namespaces.
func (c *checker) unknown(n *configtree.Node, parent *Node, others []*Node) {
	where := "at the top level"
	if parent != nil {
		where = "under " + parent.path
	}
	if n.Space == "" {
		c.add(n, nil, Problem{
			Summary: fmt.Sprintf("element <%s> has no namespace %s", n.Name, where),
			Detail:  "every element of YANG-modelled configuration is in its module's namespace: add xmlns to the template",
		})
		return
	}
	if c.set.modules[n.Space] == nil {
		mod := moduleOfNamespace(n.Space)
		p := Problem{Module: mod}
		if why, ok := c.set.failed[n.Space]; ok {
			p.Summary = fmt.Sprintf("element <%s> is in namespace %s, whose module did not load", n.Name, n.Space)
			p.Detail = why
		} else {
			p.Summary = fmt.Sprintf("element <%s> is in namespace %s, but the device has no module %s", n.Name, n.Space, moduleLabel(mod))
			p.Detail = "the device would refuse it (unknown-namespace): load the module on the device and run `netrecon schemas fetch`, or do not render this on that device"
		}
		c.add(n, nil, p)
		return
	}
	m := c.set.modules[n.Space]
	p := Problem{Summary: fmt.Sprintf("element <%s> of module %s is not defined %s", n.Name, m.name, where)}
	for _, o := range others {
		if o.space != n.Space {
			p.Detail = fmt.Sprintf("module %s defines <%s> here, in namespace %s: fix the element's xmlns", o.module, n.Name, o.space)
			break
		}
	}
	if p.Detail == "" && parent != nil {
		p.Detail = "known here: " + childList(parent, n.Space)
	}
	c.add(n, nil, p)
}

// moduleOfNamespace guesses the module of a namespace the device does not
// know: IETF and IANA modules are named after the last part of theirs.
func moduleOfNamespace(ns string) string {
	for _, pre := range []string{"urn:ietf:params:xml:ns:yang:"} {
		if strings.HasPrefix(ns, pre) {
			return strings.TrimPrefix(ns, pre)
		}
	}
	return ""
}

func moduleLabel(mod string) string {
	if mod == "" {
		return "for it"
	}
	return mod
}

// childList names the children of sn in namespace space, for a message.
func childList(sn *Node, space string) string {
	var names []string
	for q, ch := range sn.children {
		if q.space == space && ch.config && ch.disabled == "" {
			names = append(names, q.name)
		}
	}
	if len(names) == 0 {
		return "no configuration in this namespace"
	}
	slices.Sort(names)
	return shortList(names)
}

func (c *checker) node(n *configtree.Node, sn *Node) {
	switch {
	case sn.disabled != "":
		c.add(n, sn, Problem{
			Summary: fmt.Sprintf("<%s> of module %s is not on the device: %s is not advertised", n.Name, sn.module, sn.disabled),
			Detail:  "the device would refuse it: do not render it on this platform, or enable the feature on the device and fetch its schemas again",
		})
		return
	case !sn.config:
		c.add(n, sn, Problem{
			Summary: fmt.Sprintf("<%s> is state data (config false in module %s): it cannot be configured", n.Name, sn.module),
			Detail:  "remove it from the template",
		})
		return
	}
	switch sn.kind {
	case anyData:
		return
	case leaf, leafList:
		if !n.Leaf && len(n.Children) > 0 {
			c.add(n, sn, Problem{Summary: fmt.Sprintf("<%s> is a %s, but has child elements", n.Name, sn.kind), Detail: "write a value, not elements"})
			return
		}
		if msg := sn.typ.check(n.Value, n.ValueSpace, n.Space, c.set); msg != "" {
			c.add(n, sn, Problem{Summary: fmt.Sprintf("<%s>: %s", n.Name, msg), Detail: "render a value of the leaf's YANG type"})
		}
		return
	}
	if n.Leaf && n.Value != "" {
		c.add(n, sn, Problem{Summary: fmt.Sprintf("<%s> is a %s, but has the value %q", n.Name, sn.kind, truncate(n.Value)), Detail: "write its child elements, not text"})
		return
	}
	if sn.kind == list {
		c.listEntry(n, sn)
	}
	c.stack = append(c.stack, n)
	for _, ch := range n.Children {
		csn := sn.children[qname{ch.Space, ch.Name}]
		if csn == nil {
			c.unknown(ch, sn, sn.byLocal[ch.Name])
			continue
		}
		c.node(ch, csn)
	}
	c.stack = c.stack[:len(c.stack)-1]
	c.mandatory(n, sn)
}

// listEntry checks that an entry carries every key leaf of its YANG list,
// and that the list table netrecon parsed it with (configtree.Keys) names
// the same keys: otherwise two entries would be taken for one.
func (c *checker) listEntry(n *configtree.Node, sn *Node) {
	var missing []string
	for _, k := range sn.keys {
		if !hasChild(n, sn, k) {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		c.add(n, sn, Problem{
			Summary: fmt.Sprintf("entry of list <%s> lacks its key %s", n.Name, strings.Join(missing, ", ")),
			Detail:  fmt.Sprintf("the list is keyed by %s: render every key leaf", strings.Join(sn.keys, " ")),
		})
	}
	if len(sn.keys) > 0 && !slices.Equal(n.Keys, sn.keys) {
		summary := fmt.Sprintf("list <%s> is keyed by %s in module %s, but netrecon's list table says %v", n.Name, strings.Join(sn.keys, " "), sn.module, n.Keys)
		if len(n.Keys) == 0 {
			summary = fmt.Sprintf("list <%s> (keyed by %s in module %s) is not in netrecon's list table: its entries would not be told apart", n.Name, strings.Join(sn.keys, " "), sn.module)
		}
		c.add(n, sn, Problem{
			Summary: summary,
			Detail:  fmt.Sprintf("declare it in the service type's type.yaml: lists: [{path: %s, keys: [%s]}]", elementPath(c.stack, n), strings.Join(sn.keys, ", ")),
		})
	}
}

// elementPath is the list table's path of n: local names, no keys.
func elementPath(stack []*configtree.Node, n *configtree.Node) string {
	var b strings.Builder
	for _, a := range stack {
		b.WriteString("/" + a.Name)
	}
	b.WriteString("/" + n.Name)
	return b.String()
}

func hasChild(n *configtree.Node, sn *Node, name string) bool {
	for _, ch := range n.Children {
		if ch.Name == name && (ch.Space == sn.space || ch.Space == "") {
			return true
		}
	}
	return false
}

func present(n *configtree.Node, q qname) bool {
	for _, ch := range n.Children {
		if ch.Name == q.name && ch.Space == q.space {
			return true
		}
	}
	return false
}

// mandatory reports the mandatory children of n that are missing: those
// outside choices, a mandatory choice with no case rendered, and the
// mandatory nodes of the case that is.
func (c *checker) mandatory(n *configtree.Node, sn *Node) {
	c.required(n, sn, sn.required)
	for _, ch := range sn.choices {
		var chosen *caseNodes
		for _, cs := range ch.cases {
			for _, m := range cs.members {
				if present(n, m) {
					chosen = cs
					break
				}
			}
			if chosen != nil {
				break
			}
		}
		if chosen == nil {
			if ch.mandatory {
				var names []string
				for _, cs := range ch.cases {
					names = append(names, cs.name)
				}
				c.add(n, sn, Problem{
					Summary: fmt.Sprintf("<%s> lacks the mandatory choice %s", n.Name, ch.name),
					Detail:  "render the nodes of one of its cases: " + shortList(names),
				})
			}
			continue
		}
		c.required(n, sn, chosen.required)
	}
}

func (c *checker) required(n *configtree.Node, sn *Node, req []*Node) {
	for _, r := range req {
		if present(n, qname{r.space, r.name}) {
			continue
		}
		what := fmt.Sprintf("the mandatory %s <%s>", r.kind, r.name)
		if r.kind == list || r.kind == leafList {
			what = fmt.Sprintf("<%s> (min-elements %d)", r.name, r.minElements)
		}
		if r.kind == container {
			if inner := firstRequired(r); inner != "" {
				what = fmt.Sprintf("<%s>, which holds the mandatory %s", r.name, inner)
			}
		}
		c.add(n, sn, Problem{
			Summary: fmt.Sprintf("<%s> lacks %s", n.Name, what),
			Detail:  "the device refuses an entry without it: render it (if it is already on the device, render it with the same value)",
		})
	}
}

// firstRequired names the first mandatory node below a non-presence
// container, for the message about the container's absence.
func firstRequired(sn *Node) string {
	for _, r := range sn.required {
		if r.kind == container {
			if inner := firstRequired(r); inner != "" {
				return r.name + "/" + inner
			}
		}
		return r.name
	}
	for _, ch := range sn.choices {
		if ch.mandatory {
			return "choice " + ch.name
		}
	}
	return ""
}
