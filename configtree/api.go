package configtree

// This file is the package's contract, written first so that render, drivers and
// reconcile could be built against it in parallel. Bodies are filled in elsewhere.

// Node is a container, a list entry or a leaf.
type Node struct {
	Name  string // element local name
	Space string // XML namespace URI
	// Leaf nodes hold a value. An empty leaf (<vlan-tagging/>) has Value "".
	Leaf  bool
	Value string
	// ValueSpace is set when the value is an identity written with a prefix
	// (ianaift:l2vlan): the namespace the prefix stood for; Value is then the
	// local part, so values compare equal whatever prefix a device chose.
	ValueSpace string
	// ValuePrefix is the prefix the source used for an identity value. It is
	// only a hint for writing XML that reads like the input; it is never
	// compared.
	ValuePrefix string
	// Keys are the key leaf names when the node is a list entry (from Keys).
	Keys     []string
	Children []*Node
	// Owners are the services that render this node, sorted and unique.
	Owners []string
}

// Tree is a configuration: the children of Root are the top-level elements
// (<interfaces>, <configuration>, ...). Root itself has no name.
type Tree struct {
	Root *Node
}

// Keys tells which elements are list entries and what their keys are, by element
// path of local names: "/interfaces/interface" → ["name"]. A path keyed by
// LeafListKey ["."] is a leaf-list: its instances repeat, each identified by
// its value. A leaf path keyed by IdentityLeaf is identity-typed: only there
// is a value "prefix:local" an identity.
type Keys map[string][]string

// Path names a node: "/interfaces/interface[name=ge-0/0/1.100]/description".
type Path string

// Action is what a change does to a node.
type Action rune

const (
	Create Action = '+'
	Update Action = '~'
	Delete Action = '-'
)

// Change is one step of a diff.
type Change struct {
	Action Action
	Path   Path
	Leaf   bool
	Before string // leaf value in from (Update, Delete)
	After  string // leaf value in to (Create, Update)
	// Owners: the node's owners in to (Create, Update) or in from (Delete).
	Owners []string
	// Node is the node itself (in to for Create/Update, in from for Delete),
	// for building edit-config payloads.
	Node *Node
	// Ancestors are the nodes from the top-level element down to the node's
	// parent, in the same tree as Node, as shallow copies: name, namespace,
	// keys, owners and key leaves, no other children. A Path carries neither
	// namespaces nor the value spaces of identity keys; Apply and EditConfig
	// need both to rebuild the parents of a created node. Shared between
	// changes, never to be modified.
	Ancestors []*Node
}

// SyntaxError is malformed or unsupported XML, with its place.
type SyntaxError struct {
	Name      string // file or template name
	Line, Col int
	Msg       string
}

// ConflictError is two owners setting one leaf to different values.
type ConflictError struct {
	Path              Path
	Owner, Other      string
	Value, OtherValue string
}
