package schema

import (
	"fmt"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
)

// YAMLFile is a YAML file a person writes other than the intent (the daemon's
// config), read and checked by the intent's own machinery: plain data, the
// place of every field, a CUE schema, and every problem at once.
type YAMLFile struct{ doc *document }

// ParseYAML parses one YAML document whose top level is a mapping. A key
// with no value counts as unset, so that a schema's defaults apply.
func ParseYAML(file string, data []byte) (*YAMLFile, Diagnostics) {
	doc, diags := parseDocument(file, data)
	if diags.HasErrors() {
		return nil, diags
	}
	dropNulls(doc.data)
	return &YAMLFile{doc: doc}, diags
}

func dropNulls(m map[string]any) {
	for k, v := range m {
		switch v := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			dropNulls(v)
		}
	}
}

// Pos is where field's key is written, or its nearest written parent's.
func (f *YAMLFile) Pos(field string) Pos { return f.doc.lookup(field) }

// ValuePos is where field's value starts, for problems with the value itself.
func (f *YAMLFile) ValuePos(field string) Pos {
	if p, ok := f.doc.values[field]; ok {
		return p
	}
	return f.Pos(field)
}

// Value is the data at field.
func (f *YAMLFile) Value(field string) (any, bool) { return dataAt(f.doc.data, field) }

// Check unifies the file with the definition def (such as "#Config") of the
// CUE source src, and words the problems as for intent documents. An unknown
// field's Detail lists, comma-separated, the fields its parent takes.
func (f *YAMLFile) Check(src, def string) (Diagnostics, error) {
	ctx := cuecontext.New()
	val := ctx.CompileString(src, cue.Filename(def+".cue"))
	schema := val.LookupPath(cue.ParsePath(def))
	if err := schema.Err(); err != nil {
		return nil, fmt.Errorf("schema %s: %w", def, err)
	}
	v := &validator{ctx: ctx}
	_, diags := v.check(schema, f.doc, false)
	for i, d := range diags {
		if strings.HasPrefix(d.Summary, "unknown field ") {
			diags[i].Detail = strings.Join(fieldsAt(schema, parentField(d.Field)), ", ")
		}
	}
	return diags, nil
}

// fieldsAt lists the fields the schema declares at field, in their order.
func fieldsAt(schema cue.Value, field string) []string {
	var sels []cue.Selector
	for _, part := range strings.Split(strings.ReplaceAll(field, "[", ".["), ".") {
		switch {
		case part == "":
		case strings.HasPrefix(part, "["):
			if _, err := strconv.Atoi(strings.Trim(part, "[]")); err == nil {
				sels = append(sels, cue.AnyIndex)
			}
		default:
			sels = append(sels, cue.Str(part).Optional())
		}
	}
	var names []string
	it, err := schema.LookupPath(cue.MakePath(sels...)).Fields(cue.Optional(true))
	if err != nil {
		return nil
	}
	for it.Next() {
		names = append(names, it.Selector().Unquoted())
	}
	return names
}
