package rpsl

import (
	"strings"
)

// Attr is one attribute of an object. Name is lower-case (RFC 2622 names are
// case-insensitive). Value has its continuation lines joined with "\n", each
// trimmed of the continuation character and surrounding space, and end-of-line
// comments removed. Line and Col place the attribute's name in the parsed text
// (1-based); they are zero for attributes added by Set.
type Attr struct {
	Name  string
	Value string
	Line  int
	Col   int
}

// Object is one RPSL object: its attributes in order.
type Object struct {
	Attrs []Attr
}

// New returns an object of class with key as its first attribute's value.
func New(class, key string) *Object {
	return &Object{Attrs: []Attr{{Name: strings.ToLower(class), Value: key}}}
}

// Class is the object's class: the name of its first attribute ("as-set",
// "route", "mntner"); empty for an object without attributes.
func (o *Object) Class() string {
	if len(o.Attrs) == 0 {
		return ""
	}
	return o.Attrs[0].Name
}

// Key is the value of the first attribute, the object's name within its class
// for most classes. A route's primary key also includes its origin (RFC 2622
// §4.2); see RouteKey.
func (o *Object) Key() string {
	if len(o.Attrs) == 0 {
		return ""
	}
	return o.Attrs[0].Value
}

// Line is the line of the object's first attribute in the parsed text.
func (o *Object) Line() int {
	if len(o.Attrs) == 0 {
		return 0
	}
	return o.Attrs[0].Line
}

// Get returns the value of the first attribute called name.
func (o *Object) Get(name string) (string, bool) {
	name = strings.ToLower(name)
	for _, a := range o.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// GetAll returns the values of every attribute called name, in order.
func (o *Object) GetAll(name string) []string {
	name = strings.ToLower(name)
	var vs []string
	for _, a := range o.Attrs {
		if a.Name == name {
			vs = append(vs, a.Value)
		}
	}
	return vs
}

// List returns the items of a list-valued attribute (members, mnt-by, source
// lists) across all its occurrences: RFC 2622 lists are separated by commas,
// and a value may be split over several attributes or continuation lines.
func (o *Object) List(name string) []string {
	var items []string
	for _, v := range o.GetAll(name) {
		for _, f := range strings.FieldsFunc(v, func(r rune) bool {
			return r == ',' || r == ' ' || r == '\t' || r == '\n'
		}) {
			items = append(items, f)
		}
	}
	return items
}

// Set replaces the attributes called name with one attribute per value, at the
// place of the first of them; with no such attribute it appends them. Set with
// no values removes the attribute. Values must not hold "#" (a comment) or a
// line with leading space, or the printed object reads back differently.
func (o *Object) Set(name string, values ...string) {
	name = strings.ToLower(name)
	at := -1
	kept := o.Attrs[:0:0]
	for _, a := range o.Attrs {
		if a.Name == name {
			if at < 0 {
				at = len(kept)
			}
			continue
		}
		kept = append(kept, a)
	}
	if at < 0 {
		at = len(kept)
	}
	repl := make([]Attr, 0, len(values))
	for _, v := range values {
		repl = append(repl, Attr{Name: name, Value: v})
	}
	out := make([]Attr, 0, len(kept)+len(repl))
	out = append(out, kept[:at]...)
	out = append(out, repl...)
	out = append(out, kept[at:]...)
	o.Attrs = out
}

// Add appends an attribute.
func (o *Object) Add(name, value string) {
	o.Attrs = append(o.Attrs, Attr{Name: strings.ToLower(name), Value: value})
}

// Clone returns a deep copy of the object.
func (o *Object) Clone() *Object {
	return &Object{Attrs: append([]Attr(nil), o.Attrs...)}
}

// Equal reports whether two objects have the same attributes and values in
// the same order, regardless of positions.
func (o *Object) Equal(p *Object) bool {
	if len(o.Attrs) != len(p.Attrs) {
		return false
	}
	for i := range o.Attrs {
		if o.Attrs[i].Name != p.Attrs[i].Name || o.Attrs[i].Value != p.Attrs[i].Value {
			return false
		}
	}
	return true
}

// RouteKey is a route or route6 object's primary key: its prefix and its
// origin (RFC 2622 §4.2), e.g. "192.0.2.0/24AS64500"; for other classes, Key.
func (o *Object) RouteKey() string {
	switch o.Class() {
	case "route", "route6":
		origin, _ := o.Get("origin")
		return o.Key() + strings.ToUpper(origin)
	}
	return o.Key()
}

// String prints the object as Format does.
func (o *Object) String() string { return Format(o) }
