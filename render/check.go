package render

import (
	"fmt"
	"html/template"
	"strings"
	"text/template/parse"

	"github.com/netrecon/netrecon/diag"
	"github.com/netrecon/netrecon/schema"
)

// The static check of a template: before anything runs, every field a
// template reads (.Spec.x, .Spec.routes with .prefix inside a range over it,
// $r.nextHop, index .Spec "x") is looked up in the shape of its type's
// #Spec, and every field of .Service and .Device in the data a template gets.
// A field the schema does not declare is an error at the template's
// file:line:col, with the closest declared name. Templates run with missing
// keys as errors as well, but only for the services that reach the line;
// this check fails a typo in a branch no service takes yet.
//
// The check follows the template's data through with, range, variables,
// {{template}} calls and the functions whose result is one of their
// arguments (required, index). A value it cannot follow (the result of
// default, and, or; a value the schema leaves open) is not checked: the
// check reports only what is certainly wrong.
//
// It also records which spec fields each template reads, and where: a field
// no template of a user-defined type reads is a warning (the engineer fills it
// in and it goes nowhere), and a value that cannot be written is reported at
// the template line that writes it.

// maxCheckSteps bounds the walk: {{template}} calls are followed once per
// distinct argument, which a hostile template could multiply.
const maxCheckSteps = 100000

// maxCallDepth bounds nested {{template}} calls the walk follows.
const maxCallDepth = 100

// value is what the check knows of a value during the walk.
type value struct {
	shape *schema.Shape // nil: not known, nothing is checked
	data  bool          // the template's whole data (tmplData)
	spec  bool          // .Spec or a value inside it
	path  string        // inside the spec: "routes[].prefix"; else how it was reached (".Device")
}

// dataShapes are the fields of tmplData below the spec, as a template sees
// them (docs/intent-format.md).
func dataShapes() map[string]*schema.Shape {
	scalar := &schema.Shape{Kind: schema.ShapeScalar}
	labels := &schema.Shape{Kind: schema.ShapeStruct, Rest: scalar}
	fields := func(names ...string) *schema.Shape {
		s := &schema.Shape{Kind: schema.ShapeStruct}
		for _, n := range names {
			sh := scalar
			if n == "Labels" {
				sh = labels
			}
			s.Fields = append(s.Fields, schema.Field{Name: n, Required: true, Shape: sh})
		}
		return s
	}
	irr := fields("IPv4", "IPv6", "Missing", "Object")
	for i := range irr.Fields {
		if n := irr.Fields[i].Name; n == "IPv4" || n == "IPv6" {
			irr.Fields[i].Shape = &schema.Shape{Kind: schema.ShapeList, Elem: scalar}
		}
	}
	return map[string]*schema.Shape{
		"Service": fields("Customer", "Kind", "Labels", "Name"),
		"Device":  fields("Labels", "Name", "Platform", "Role", "Site"),
		"IRR":     irr,
	}
}

// checker checks one template file.
type checker struct {
	name  string // the template's file, for positions
	src   string
	kind  string
	spec  *schema.Shape
	set   *template.Template // to look up {{define}}d templates
	data  map[string]*schema.Shape
	diags diag.Diagnostics
	// reads holds the spec paths read, each with its first position;
	// whole those used as a whole (printed, passed to a function), which
	// reads everything below them too.
	reads    map[string]diag.Pos
	whole    map[string]bool
	reported map[parse.Pos]bool
	active   map[callKey]bool
	done     map[callKey]bool
	steps    int
	gaveUp   bool
}

type callKey struct {
	name string
	v    value
}

// checkTemplate runs the static check of t, parsed from src, for a service
// type whose #Spec has shape spec (nil: unknown, only .Service and .Device
// are checked).
func checkTemplate(t *template.Template, name, src, kind string, spec *schema.Shape) *checker {
	c := &checker{
		name: name, src: src, kind: kind, spec: spec, set: t, data: dataShapes(),
		reads: map[string]diag.Pos{}, whole: map[string]bool{}, reported: map[parse.Pos]bool{},
		active: map[callKey]bool{}, done: map[callKey]bool{},
	}
	if t.Tree != nil {
		root := value{data: true}
		c.list(t.Tree.Root, root, &scope{vars: []variable{{"$", root}}})
	}
	return c
}

// variable is a template variable in scope.
type variable struct {
	name string
	v    value
}

type scope struct{ vars []variable }

func (s *scope) mark() int { return len(s.vars) }

func (s *scope) pop(mark int) { s.vars = s.vars[:mark] }

func (s *scope) get(name string) value {
	for i := len(s.vars) - 1; i >= 0; i-- {
		if s.vars[i].name == name {
			return s.vars[i].v
		}
	}
	return value{}
}

// set declares a variable, or assigns one: a variable that may hold two
// different values is unknown from then on.
func (s *scope) set(name string, v value, assign bool) {
	if assign {
		for i := len(s.vars) - 1; i >= 0; i-- {
			if s.vars[i].name == name {
				if s.vars[i].v != v {
					s.vars[i].v = value{}
				}
				return
			}
		}
	}
	s.vars = append(s.vars, variable{name, v})
}

func (c *checker) step() bool {
	c.steps++
	if c.steps > maxCheckSteps {
		c.gaveUp = true
	}
	return !c.gaveUp
}

func (c *checker) list(l *parse.ListNode, dot value, sc *scope) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		c.node(n, dot, sc)
	}
}

func (c *checker) node(n parse.Node, dot value, sc *scope) {
	if !c.step() {
		return
	}
	switch n := n.(type) {
	case *parse.ActionNode:
		v := c.pipe(n.Pipe, dot, sc)
		if len(n.Pipe.Decl) == 0 {
			c.use(v) // printed
		}
	case *parse.IfNode:
		m := sc.mark()
		c.pipe(n.Pipe, dot, sc)
		c.list(n.List, dot, sc)
		c.list(n.ElseList, dot, sc)
		sc.pop(m)
	case *parse.WithNode:
		m := sc.mark()
		v := c.pipe(n.Pipe, dot, sc)
		c.list(n.List, v, sc)
		c.list(n.ElseList, dot, sc)
		sc.pop(m)
	case *parse.RangeNode:
		m := sc.mark()
		elem := c.elem(c.commands(n.Pipe, dot, sc))
		// A range's variables are the element, or the index (or key) and
		// the element.
		switch d := n.Pipe.Decl; len(d) {
		case 1:
			sc.set(d[0].Ident[0], elem, n.Pipe.IsAssign)
		case 2:
			sc.set(d[0].Ident[0], value{shape: scalar()}, n.Pipe.IsAssign)
			sc.set(d[1].Ident[0], elem, n.Pipe.IsAssign)
		}
		c.list(n.List, elem, sc)
		c.list(n.ElseList, dot, sc)
		sc.pop(m)
	case *parse.TemplateNode:
		arg := value{}
		if n.Pipe != nil {
			arg = c.pipe(n.Pipe, dot, sc)
		}
		c.call(n, n.Name, arg)
	case *parse.ListNode:
		c.list(n, dot, sc)
	}
}

// call walks a {{template}} call's target with the argument as its dot.
func (c *checker) call(n *parse.TemplateNode, name string, arg value) {
	t := c.set.Lookup(name)
	if t == nil || t.Tree == nil {
		c.errorAt(n.Pos, fmt.Sprintf("{{template %q}}: no template of that name is defined", name), "define it in this file with {{define}}")
		return
	}
	key := callKey{name, arg}
	if c.active[key] || c.done[key] {
		return
	}
	if len(c.active) >= maxCallDepth {
		c.gaveUp = true
		return
	}
	c.active[key] = true
	c.list(t.Tree.Root, arg, &scope{vars: []variable{{"$", arg}}})
	delete(c.active, key)
	c.done[key] = true
}

// pipe evaluates a pipeline and declares (or assigns) its variables.
func (c *checker) pipe(p *parse.PipeNode, dot value, sc *scope) value {
	v := c.commands(p, dot, sc)
	if p != nil {
		for _, d := range p.Decl {
			sc.set(d.Ident[0], v, p.IsAssign)
		}
	}
	return v
}

// commands evaluates a pipeline's commands: its value.
func (c *checker) commands(p *parse.PipeNode, dot value, sc *scope) value {
	if p == nil {
		return value{}
	}
	v, piped := value{}, false
	for _, cmd := range p.Cmds {
		v = c.command(cmd, dot, sc, v, piped)
		piped = true
	}
	return v
}

func scalar() *schema.Shape { return &schema.Shape{Kind: schema.ShapeScalar} }

// command evaluates one command of a pipeline; prev is the previous
// command's value, passed as the last argument of a function.
func (c *checker) command(cmd *parse.CommandNode, dot value, sc *scope, prev value, piped bool) value {
	if len(cmd.Args) == 0 {
		return value{}
	}
	if id, ok := cmd.Args[0].(*parse.IdentifierNode); ok {
		return c.function(id.Ident, cmd.Args[1:], dot, sc, prev, piped)
	}
	v := c.operand(cmd.Args[0], dot, sc)
	for _, a := range cmd.Args[1:] {
		c.use(c.operand(a, dot, sc))
	}
	return v
}

// operand evaluates an argument.
func (c *checker) operand(n parse.Node, dot value, sc *scope) value {
	switch n := n.(type) {
	case *parse.DotNode:
		return dot
	case *parse.FieldNode:
		return c.fields(dot, n.Ident, n.Pos, n.String())
	case *parse.VariableNode:
		return c.fields(sc.get(n.Ident[0]), n.Ident[1:], n.Pos, n.String())
	case *parse.ChainNode:
		return c.fields(c.operand(n.Node, dot, sc), n.Field, n.Pos, "."+strings.Join(n.Field, "."))
	case *parse.PipeNode:
		return c.pipe(n, dot, sc)
	case *parse.IdentifierNode:
		return c.function(n.Ident, nil, dot, sc, value{}, false)
	case *parse.StringNode, *parse.NumberNode, *parse.BoolNode, *parse.NilNode:
		return value{shape: scalar()}
	}
	return value{}
}

// scalarFunc reports whether the function returns a single value whatever
// its arguments.
func scalarFunc(name string) bool {
	switch name {
	case "ipaddr", "prefixlen", "netmask", "network", "family", "lower", "upper", "join",
		"printf", "print", "println", "eq", "ne", "lt", "le", "gt", "ge", "not", "html", "js", "urlquery":
		return true
	}
	return false
}

// function evaluates a call of the function name.
func (c *checker) function(name string, args []parse.Node, dot value, sc *scope, prev value, piped bool) value {
	vals := make([]value, 0, len(args)+1)
	for _, a := range args {
		vals = append(vals, c.operand(a, dot, sc))
	}
	if piped {
		vals = append(vals, prev)
	}
	switch name {
	case "required":
		// required NAME VALUE is VALUE.
		if len(vals) == 2 {
			return vals[1]
		}
	case "len":
		// The length reads the value, not what is inside it.
		return value{shape: scalar()}
	case "index":
		if !piped && len(vals) > 0 {
			return c.index(vals[0], args[1:])
		}
	}
	for _, v := range vals {
		c.use(v)
	}
	if scalarFunc(name) {
		return value{shape: scalar()}
	}
	return value{}
}

// index X K...: constant keys are field reads, checked like .X.K; a key
// known only when the template runs may read any field of X.
func (c *checker) index(v value, keys []parse.Node) value {
	for _, k := range keys {
		switch k := k.(type) {
		case *parse.StringNode:
			v = c.field(v, k.Text, k.Pos, k.String())
		case *parse.NumberNode:
			if v.shape == nil || v.shape.Kind != schema.ShapeList {
				c.use(v)
				return value{spec: v.spec, path: v.path}
			}
			v = value{shape: v.shape.Elem, spec: v.spec, path: v.path + "[]"}
		default:
			c.use(v)
			return value{}
		}
	}
	return v
}

// elem is the value a range over v gives its body.
func (c *checker) elem(v value) value {
	if v.shape == nil {
		c.use(v)
		return value{spec: v.spec, path: v.path}
	}
	switch v.shape.Kind {
	case schema.ShapeList:
		return value{shape: v.shape.Elem, spec: v.spec, path: v.path + "[]"}
	case schema.ShapeStruct:
		// A range over a mapping visits its values: every field.
		c.use(v)
		if len(v.shape.Fields) == 0 && v.shape.Rest != nil {
			return value{shape: v.shape.Rest, spec: v.spec, path: joinPath(v.path, "*")}
		}
		return value{spec: v.spec, path: v.path}
	case schema.ShapeScalar:
		return value{shape: v.shape} // a range over a number
	}
	c.use(v)
	return value{spec: v.spec, path: v.path}
}

// fields follows a chain of field names from v. text is how the source
// writes the node, ending with ".name..." (.Spec.x, $r.x, or the fields
// of a chain (pipe).x), and pos is inside it, where the parser put it: each
// name is placed at its own column.
func (c *checker) fields(v value, names []string, pos parse.Pos, text string) value {
	start := int(pos)
	if end := min(int(pos)+len(text), len(c.src)); end >= 0 {
		if i := strings.LastIndex(c.src[:end], text); i >= 0 && i <= int(pos) {
			start = i
		}
	}
	off := len(text)
	for _, n := range names {
		off -= 1 + len(n)
	}
	for _, n := range names {
		v = c.field(v, n, parse.Pos(start+off+1), text)
		off += 1 + len(n)
	}
	return v
}

// field reads the field name of v, written at pos.
func (c *checker) field(v value, name string, pos parse.Pos, text string) value {
	if v.data {
		switch name {
		case "Spec":
			return value{shape: c.spec, spec: true}
		case "Service", "Device":
			return value{shape: c.data[name], path: "." + name}
		case "IRR":
			// The generated prefix list of an import: only the built-in
			// bgp-customer has one.
			if c.kind == schema.KindBGPCustomer {
				return value{shape: c.data[name], path: "." + name}
			}
		}
		c.errorAt(pos, fmt.Sprintf("%s: the template's data has no field %q", text, name),
			suggest(name, []string{"Device", "Service", "Spec"}, "the data's fields are .Service, .Spec and .Device"))
		return value{}
	}
	if v.shape == nil || v.shape.Kind == schema.ShapeUnknown {
		// Nothing to check below: reading inside v reads v.
		if v.spec {
			c.use(v)
		}
		return value{spec: v.spec, path: v.path}
	}
	where := v.path
	if v.spec {
		where = "spec"
		if v.path != "" {
			where += "." + v.path
		}
	}
	switch v.shape.Kind {
	case schema.ShapeStruct:
		if f := v.shape.Field(name); f != nil {
			nv := value{shape: f.Shape, spec: v.spec, path: joinPath(v.path, name)}
			c.read(nv, pos)
			return nv
		}
		if v.shape.Rest != nil {
			nv := value{shape: v.shape.Rest, spec: v.spec, path: joinPath(v.path, "*")}
			c.read(nv, pos)
			return nv
		}
		names := make([]string, len(v.shape.Fields))
		for i, f := range v.shape.Fields {
			names[i] = f.Name
		}
		if v.spec {
			c.errorAt(pos, fmt.Sprintf("%s: the schema of service type %q has no field %q in %s", text, c.kind, name, where),
				suggest(name, names, fmt.Sprintf("the fields of %s are %s", where, strings.Join(names, ", "))))
		} else {
			c.errorAt(pos, fmt.Sprintf("%s: %s has no field %q", text, where, name),
				suggest(name, names, fmt.Sprintf("the fields of %s are %s", where, strings.Join(names, ", "))))
		}
	case schema.ShapeList:
		c.errorAt(pos, fmt.Sprintf("%s: %s is a list, it has no field %q", text, where, name),
			"range over the list to reach its elements' fields")
	case schema.ShapeScalar:
		c.errorAt(pos, fmt.Sprintf("%s: %s is a single value, it has no field %q", text, where, name), "")
	}
	return value{}
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// read records that the template reads the spec value v at pos.
func (c *checker) read(v value, pos parse.Pos) {
	if !v.spec {
		return
	}
	if _, ok := c.reads[v.path]; !ok {
		c.reads[v.path] = c.pos(pos)
	}
}

// use records that v is used as a whole: everything inside it is read.
func (c *checker) use(v value) {
	if v.spec {
		c.whole[v.path] = true
	}
}

// isRead reports whether the template reads the spec field at path.
func (c *checker) isRead(path string) bool {
	if _, ok := c.reads[path]; ok {
		return true
	}
	for p := path; ; p = parentPath(p) {
		if c.whole[p] {
			return true
		}
		if p == "" {
			return false
		}
	}
}

// parentPath drops the last element of a spec path: "routes[].prefix" →
// "routes[]" → "routes" → "".
func parentPath(p string) string {
	if strings.HasSuffix(p, "[]") {
		return strings.TrimSuffix(p, "[]")
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

func (c *checker) pos(p parse.Pos) diag.Pos { return srcPos(c.name, c.src, int(p)) }

func (c *checker) errorAt(p parse.Pos, summary, detail string) {
	if c.reported[p] {
		return
	}
	c.reported[p] = true
	c.diags = c.diags.Append(diag.Diagnostic{Severity: diag.Error, Pos: c.pos(p), Summary: summary, Detail: detail})
}

// suggest says "did you mean X?" for the candidate closest to name
// (diag.Suggest), or otherwise.
func suggest(name string, candidates []string, otherwise string) string {
	if hint := diag.DidYouMean(name, candidates); hint != "" {
		return hint
	}
	return otherwise
}

// unread reports the fields of a user-defined type's spec that none of its
// templates reads, as warnings at the schema's declaration. device and
// devices are read by netrecon itself.
func unread(t *schema.ServiceType, shape *schema.Shape, checks []*checker) diag.Diagnostics {
	var diags diag.Diagnostics
	read := func(path string) bool {
		for _, c := range checks {
			if c.isRead(path) {
				return true
			}
		}
		return false
	}
	var names []string
	for _, c := range checks {
		names = append(names, c.name)
	}
	var walk func(s *schema.Shape, path string)
	walk = func(s *schema.Shape, path string) {
		if s == nil {
			return // a shape that came without its part: unknown
		}
		switch s.Kind {
		case schema.ShapeList:
			walk(s.Elem, path+"[]")
		case schema.ShapeStruct:
			for _, f := range s.Fields {
				p := joinPath(path, f.Name)
				if path == "" && (f.Name == "device" || f.Name == "devices") {
					continue
				}
				if !read(p) {
					diags = diags.Append(diag.Diagnostic{
						Severity: diag.Warning,
						Pos:      f.Pos,
						Summary:  fmt.Sprintf("spec.%s of service type %q is read by no template", p, t.Kind),
						Detail:   fmt.Sprintf("render it in %s, or remove it from the schema: a value set there goes nowhere", strings.Join(names, " and ")),
					})
					continue
				}
				walk(f.Shape, p)
			}
		}
	}
	walk(shape, "")
	return diags
}
