package configtree

import (
	"strings"
)

// Paths look like XPath abbreviated steps without quotes:
//
//	/interfaces/interface[name=ge-0/0/1.100]/description
//	/routing/route[type=static][name=default]
//
// Keys appear in the list's Keys order; a leaf-list instance is keyed by
// itself, "[.=value]" (LeafListKey). Inside brackets '/' needs no escape;
// ']', '=' and '\' are escaped with a backslash. Namespaces are not part of a
// path: siblings never share a local name (Parse refuses it). The root is "/".

// Step is one step of a parsed Path.
type Step struct {
	Name string
	Keys []KeyValue
}

// KeyValue is one key predicate of a Step.
type KeyValue struct {
	Name, Value string
}

// String formats the step as it appears in a Path.
func (s Step) String() string {
	var b strings.Builder
	b.WriteString(s.Name)
	for _, kv := range s.Keys {
		b.WriteByte('[')
		b.WriteString(kv.Name)
		b.WriteByte('=')
		escapeKey(&b, kv.Value)
		b.WriteByte(']')
	}
	return b.String()
}

// PathStep returns n's step in a Path: its name and, for a list entry, its key
// values in Keys order. An identity key is written by its local part.
func (n *Node) PathStep() string {
	if len(n.Keys) == 0 {
		return n.Name
	}
	var b strings.Builder
	b.WriteString(n.Name)
	for _, k := range n.Keys {
		b.WriteByte('[')
		b.WriteString(k)
		b.WriteByte('=')
		if kl := n.keyLeaf(k); kl != nil {
			escapeKey(&b, kl.Value)
		}
		b.WriteByte(']')
	}
	return b.String()
}

func escapeKey(b *strings.Builder, v string) {
	// Byte by byte: the escaped characters are ASCII, and a value that is
	// not valid UTF-8 must come back unchanged.
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == ']' || c == '=' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
}

// Child returns the path of the child step name, with key predicates in the
// order given, values escaped:
//
//	Path("/interfaces").Child("interface", KeyValue{"name", ifname})
func (p Path) Child(name string, keys ...KeyValue) Path {
	s := Step{Name: name, Keys: keys}.String()
	if p == "" || p == "/" {
		return Path("/" + s)
	}
	return p + "/" + Path(s)
}

// childPath is the path of child under parent's path.
func childPath(parent Path, child *Node) Path {
	if parent == "/" || parent == "" {
		return Path("/" + child.PathStep())
	}
	return parent + "/" + Path(child.PathStep())
}

// ParsePath splits a Path into steps. "/" is the root and has no steps.
func ParsePath(p Path) ([]Step, error) {
	s := string(p)
	if s == "" || s[0] != '/' {
		return nil, &PathError{Path: p, Offset: 0, Msg: "a path starts with /"}
	}
	if s == "/" {
		return nil, nil
	}
	var steps []Step
	i := 1
	for {
		start := i
		for i < len(s) && s[i] != '/' && s[i] != '[' && s[i] != ']' && s[i] != '=' {
			i++
		}
		step := Step{Name: s[start:i]}
		if !isNCName(step.Name) {
			return nil, &PathError{Path: p, Offset: start, Msg: "expected an element name"}
		}
		for i < len(s) && s[i] == '[' {
			i++
			ks := i
			for i < len(s) && s[i] != '=' && s[i] != ']' {
				i++
			}
			name := s[ks:i]
			if !isNCName(name) && name != LeafListKey {
				return nil, &PathError{Path: p, Offset: ks, Msg: "expected a key name"}
			}
			if i == len(s) || s[i] != '=' {
				return nil, &PathError{Path: p, Offset: i, Msg: "expected = after the key name"}
			}
			i++
			var v strings.Builder
			closed := false
			for i < len(s) {
				c := s[i]
				if c == '\\' {
					if i+1 == len(s) {
						return nil, &PathError{Path: p, Offset: i, Msg: "backslash at the end"}
					}
					v.WriteByte(s[i+1])
					i += 2
					continue
				}
				if c == ']' {
					closed = true
					i++
					break
				}
				if c == '=' {
					return nil, &PathError{Path: p, Offset: i, Msg: `unescaped = in a key value (write \=)`}
				}
				v.WriteByte(c)
				i++
			}
			if !closed {
				return nil, &PathError{Path: p, Offset: len(s), Msg: "missing ]"}
			}
			step.Keys = append(step.Keys, KeyValue{Name: name, Value: v.String()})
		}
		steps = append(steps, step)
		if i == len(s) {
			return steps, nil
		}
		if s[i] != '/' {
			return nil, &PathError{Path: p, Offset: i, Msg: "expected / or [ after a step"}
		}
		i++
	}
}

// matches reports whether n is the node a step names.
func (s Step) matches(n *Node) bool {
	if n.Name != s.Name || len(n.Keys) != len(s.Keys) {
		return false
	}
	for _, kv := range s.Keys {
		kl := n.keyLeaf(kv.Name)
		if kl == nil || kl.Value != kv.Value {
			return false
		}
	}
	return true
}

func (s Step) find(parent *Node) (int, *Node) {
	for i, c := range parent.Children {
		if s.matches(c) {
			return i, c
		}
	}
	return -1, nil
}

// Find returns the node at p, or nil when there is none or p is malformed.
// Find("/") is the root.
func (t *Tree) Find(p Path) *Node {
	steps, err := ParsePath(p)
	if err != nil {
		return nil
	}
	n := t.root()
	for _, s := range steps {
		if _, n = s.find(n); n == nil {
			return nil
		}
	}
	return n
}

// Walk calls fn for every node of t but the root, parents before children,
// siblings in canonical order. When fn returns false, Walk skips the node's
// descendants and goes on with its next sibling.
func (t *Tree) Walk(fn func(Path, *Node) bool) {
	var walk func(parent Path, n *Node)
	walk = func(parent Path, n *Node) {
		for _, c := range sortedChildren(n) {
			p := childPath(parent, c)
			if fn(p, c) {
				walk(p, c)
			}
		}
	}
	walk("/", t.root())
}
