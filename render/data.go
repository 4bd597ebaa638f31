package render

import "github.com/netrecon/netrecon/schema"

// maxFillDepth matches the depth a Shape can have; deeper data is left as
// it is.
const maxFillDepth = 32

// fill returns x with every field its shape declares and x lacks present
// with a nil value. Templates run with missing keys as errors, and an
// optional field the spec leaves out is not a typo: {{with .Spec.description}}
// must still skip it. It copies only the maps and lists it changes: specs
// are the intent's, shared by every device a service renders on.
func fill(x any, s *schema.Shape, depth int) any {
	out, _ := fillValue(x, s, depth)
	return out
}

func fillValue(x any, s *schema.Shape, depth int) (any, bool) {
	if s == nil || depth > maxFillDepth {
		return x, false
	}
	switch s.Kind {
	case schema.ShapeStruct:
		m, ok := x.(map[string]any)
		if !ok {
			return x, false
		}
		var out map[string]any
		set := func(k string, v any) {
			if out == nil {
				out = make(map[string]any, len(m)+len(s.Fields))
				for k, v := range m {
					out[k] = v
				}
			}
			out[k] = v
		}
		for _, f := range s.Fields {
			v, present := m[f.Name]
			if !present {
				set(f.Name, nil)
				continue
			}
			if nv, changed := fillValue(v, f.Shape, depth+1); changed {
				set(f.Name, nv)
			}
		}
		if s.Rest != nil && (s.Rest.Kind == schema.ShapeStruct || s.Rest.Kind == schema.ShapeList) {
			for k, v := range m {
				if s.Field(k) != nil {
					continue
				}
				if nv, changed := fillValue(v, s.Rest, depth+1); changed {
					set(k, nv)
				}
			}
		}
		if out == nil {
			return m, false
		}
		return out, true
	case schema.ShapeList:
		l, ok := x.([]any)
		if !ok {
			return x, false
		}
		var out []any
		for i, v := range l {
			nv, changed := fillValue(v, s.Elem, depth+1)
			if !changed {
				continue
			}
			if out == nil {
				out = append([]any(nil), l...)
			}
			out[i] = nv
		}
		if out == nil {
			return l, false
		}
		return out, true
	}
	return x, false
}
