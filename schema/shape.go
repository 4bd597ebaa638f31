package schema

import (
	"slices"
	"strings"

	"cuelang.org/go/cue"
)

// Shape is what a service type's schema says of the form of a spec value, as
// far as a template can use it: the fields a struct declares, what a list
// holds, or a scalar. The renderer runs templates with missing keys as
// errors, so it fills each declared field a spec leaves out with an absent
// value, and checks every field a template reads against the shape before it
// runs (docs/intent-format.md).
//
// The shape of a user-defined type comes from the evaluation of its
// schema.cue, in the sandbox when there is one: the parent process never
// evaluates untrusted CUE to learn it.
type Shape struct {
	Kind ShapeKind `json:"kind"`
	// Fields are a struct's declared fields, sorted by name.
	Fields []Field `json:"fields,omitempty"`
	// Rest is the shape of a struct's undeclared fields when the struct
	// admits them (a pattern such as [string]: string, or "..."); nil for a
	// closed struct.
	Rest *Shape `json:"rest,omitempty"`
	// Elem is the shape of a list's elements.
	Elem *Shape `json:"elem,omitempty"`
}

// ShapeKind is the form of a value.
type ShapeKind string

const (
	// ShapeUnknown is a value whose form the schema leaves open (_ or a
	// disjunction of forms) or that is nested too deep to describe: a
	// template may do anything with it.
	ShapeUnknown ShapeKind = "unknown"
	ShapeScalar  ShapeKind = "scalar" // string, number, bool or null
	ShapeStruct  ShapeKind = "struct"
	ShapeList    ShapeKind = "list"
)

// Field is one declared field of a struct.
type Field struct {
	Name     string `json:"name"`
	Required bool   `json:"required,omitempty"` // every valid spec has it (required, or with a default)
	Pos      Pos    `json:"pos"`                // where the schema declares it
	Shape    *Shape `json:"shape"`
}

// Field returns the declared field called name, or nil.
func (s *Shape) Field(name string) *Field {
	if s == nil {
		return nil
	}
	i, ok := slices.BinarySearchFunc(s.Fields, name, func(f Field, n string) int { return strings.Compare(f.Name, n) })
	if !ok {
		return nil
	}
	return &s.Fields[i]
}

// Limits of a shape: a recursive definition (#T: {sub?: #T}) is legal CUE
// with no end, and a generated schema can declare any number of fields.
// Past either limit the rest is ShapeUnknown, which checks nothing.
const (
	maxShapeDepth  = 16
	maxShapeFields = 1000
)

// shapeOf describes v, a #Spec or one of its fields.
func shapeOf(v cue.Value) *Shape {
	budget := maxShapeFields
	return describe(v, 0, &budget)
}

func describe(v cue.Value, depth int, budget *int) *Shape {
	if depth > maxShapeDepth || *budget <= 0 {
		return &Shape{Kind: ShapeUnknown}
	}
	v = formOf(v, 0)
	k := v.IncompleteKind()
	switch {
	case k == cue.StructKind:
		s := &Shape{Kind: ShapeStruct}
		it, err := v.Fields(cue.Optional(true))
		if err != nil {
			return &Shape{Kind: ShapeUnknown}
		}
		for it.Next() {
			sel := it.Selector()
			if sel.IsDefinition() || sel.PkgPath() != "" {
				continue
			}
			*budget--
			if *budget <= 0 {
				return &Shape{Kind: ShapeUnknown}
			}
			f := Field{
				Name:     sel.Unquoted(),
				Required: sel.ConstraintType() != cue.OptionalConstraint,
				Shape:    describe(it.Value(), depth+1, budget),
			}
			if p := it.Value().Pos(); p.IsValid() {
				f.Pos = tokenPos(p)
			}
			s.Fields = append(s.Fields, f)
		}
		slices.SortFunc(s.Fields, func(a, b Field) int { return strings.Compare(a.Name, b.Name) })
		// A closed struct allows no selector it does not declare; a pattern
		// constraint says what the others hold.
		if p := v.LookupPath(cue.MakePath(cue.AnyString)); p.Exists() {
			s.Rest = describe(p, depth+1, budget)
		} else if v.Allows(cue.AnyString) {
			s.Rest = &Shape{Kind: ShapeUnknown}
		}
		return s
	case k == cue.ListKind:
		s := &Shape{Kind: ShapeList, Elem: &Shape{Kind: ShapeUnknown}}
		if e := v.LookupPath(cue.MakePath(cue.AnyIndex)); e.Exists() {
			s.Elem = describe(e, depth+1, budget)
		}
		return s
	case k != cue.BottomKind && k&(cue.StructKind|cue.ListKind) == 0:
		return &Shape{Kind: ShapeScalar}
	}
	return &Shape{Kind: ShapeUnknown}
}

// formOf finds the form of a field whose schema does not evaluate on its
// own: CUE applies a validator such as list.MinItems(1) to the still
// incomplete list [...#Route], and `x | error("...")` adds an alternative
// that is an error. Either makes the field's value an error; its operands
// still say what the field is: the form of the operands that are not errors,
// when they agree.
func formOf(v cue.Value, depth int) cue.Value {
	if v.IncompleteKind() != cue.BottomKind || depth > 4 {
		return v
	}
	op, args := v.Expr()
	if op != cue.AndOp && op != cue.OrOp {
		return v
	}
	var found cue.Value
	for _, a := range args {
		a = formOf(a, depth+1)
		k := a.IncompleteKind()
		if k == cue.BottomKind {
			continue
		}
		if found.Exists() && found.IncompleteKind() != k {
			// Two forms: a struct or a string, say. Nothing can be told.
			return v
		}
		if !found.Exists() {
			found = a
		}
	}
	if !found.Exists() {
		return v
	}
	return found
}

// BuiltinShape returns the shape of a built-in kind's #Spec. Load fills
// ServiceType.Shape itself; this is for intents built by other means.
func BuiltinShape(kind string) (*Shape, bool) {
	v, err := newValidator(nil)
	if err != nil {
		return nil, false
	}
	spec, ok := v.specs[kind]
	if !ok {
		return nil, false
	}
	return shapeOf(spec), true
}
