package orders

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/netrecon/netrecon/schema"
)

// Order is what an order system asks for: one service instance.
type Order struct {
	ID          string            `json:"order_id"`
	ServiceType string            `json:"service_type"`
	Name        string            `json:"name"`
	Customer    string            `json:"customer"`
	Labels      map[string]string `json:"labels,omitempty"`
	// Fields are the service type's spec; numbers are json.Number, so that
	// 4094 stays an integer on its way to YAML.
	Fields map[string]any `json:"fields"`
}

// Problem is one thing wrong with an order, at its field path in the order
// (fields.vlan, name) or, for a problem the order causes in another file of
// the repo (a clash with an existing service), at that file's place too.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	// At is a place in the repo (file:line:col) the problem also concerns.
	At string `json:"at,omitempty"`
}

func (p Problem) String() string {
	s := p.Message
	if p.Field != "" {
		s = p.Field + ": " + s
	}
	if p.At != "" {
		s += " (" + p.At + ")"
	}
	return s
}

var (
	// idForm keeps an order id usable in a branch name and a URL path.
	idForm = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	// nameForm is schema's #Name: the name and customer become a path.
	nameForm = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// check finds what is wrong with o before any file is written: what a
// file path, a branch name and a service document need. The schema checks
// the rest.
func (o *Order) check() []Problem {
	var ps []Problem
	add := func(field, format string, args ...any) {
		ps = append(ps, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	switch {
	case o.ID == "":
		add("order_id", "required")
	case !idForm.MatchString(o.ID) || strings.Contains(o.ID, ".."):
		add("order_id", "%q: want 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", o.ID)
	}
	if o.ServiceType == "" {
		add("service_type", "required")
	}
	for _, f := range []struct{ field, v string }{{"name", o.Name}, {"customer", o.Customer}} {
		switch {
		case f.v == "":
			add(f.field, "required")
		case !nameForm.MatchString(f.v):
			add(f.field, "%q: want a lower-case DNS label (a-z, 0-9, '-', at most 63, no '-' at either end)", f.v)
		}
	}
	if o.Fields == nil {
		add("fields", "required: the service type's fields, as an object")
	}
	if v, ok := o.Labels["order"]; ok && v != o.ID {
		add("labels.order", "%q: netrecon sets this label to the order id", v)
	}
	return ps
}

// Path is the file the order becomes: services/<customer>/<name>.yaml, as
// the example repo files its services.
func (o *Order) Path() string { return path.Join("services", o.Customer, o.Name+".yaml") }

// Branch is the branch the order is proposed on.
func (o *Order) Branch() string { return "order/" + o.ID }

// digest is a hash of o's canonical JSON (encoding/json sorts map keys):
// two bodies that mean the same order have the same digest.
func (o *Order) canonical() (body, digest string, err error) {
	b, err := json.Marshal(o)
	if err != nil {
		return "", "", fmt.Errorf("order %s: %w", o.ID, err)
	}
	sum := sha256.Sum256(b)
	return string(b), hex.EncodeToString(sum[:]), nil
}

// render writes o as an engineer would write the service file: the
// envelope first, spec fields in the order the type's schema declares them
// (shape; nil sorts them by name), two-space indent, and a header comment
// naming the order.
func (o *Order) render(shape *schema.Shape, received time.Time) ([]byte, error) {
	labels := map[string]any{"order": o.ID}
	for k, v := range o.Labels {
		labels[k] = v
	}
	meta := mapping(nil, []kv{{"name", o.Name}, {"customer", o.Customer}, {"labels", labels}})
	doc := mapping(nil, []kv{
		{"apiVersion", schema.APIVersion},
		{"kind", o.ServiceType},
		{"metadata", meta},
		{"spec", specNode(shape, o.Fields)},
	})
	doc.HeadComment = fmt.Sprintf("Order %s, received %s through netrecon's order API.\n"+
		"Written by netrecon; it is applied once this change is reviewed and merged.", o.ID, received.UTC().Format(time.RFC3339))
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("order %s: write YAML: %w", o.ID, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("order %s: write YAML: %w", o.ID, err)
	}
	return buf.Bytes(), nil
}

type kv struct {
	key string
	val any
}

func mapping(n *yaml.Node, kvs []kv) *yaml.Node {
	if n == nil {
		n = &yaml.Node{Kind: yaml.MappingNode}
	}
	for _, e := range kvs {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: e.key}, valueNode(nil, e.val))
	}
	return n
}

// specNode orders a struct's keys as shape declares them, then the rest by
// name.
func specNode(shape *schema.Shape, m map[string]any) *yaml.Node {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	line := func(k string) int {
		if f := shape.Field(k); f != nil && f.Pos.Line > 0 {
			return f.Pos.Line
		}
		return 1 << 30
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(line(a), line(b)), strings.Compare(a, b)) })
	kvs := make([]kv, len(keys))
	for i, k := range keys {
		kvs[i] = kv{k, m[k]}
	}
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, e := range kvs {
		var sub *schema.Shape
		if f := shape.Field(e.key); f != nil {
			sub = f.Shape
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: e.key}, valueNode(sub, e.val))
	}
	return n
}

func valueNode(shape *schema.Shape, v any) *yaml.Node {
	switch x := v.(type) {
	case *yaml.Node:
		return x
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: x}
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(x)}
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(string(x), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(x)}
	case int, int64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprint(x)}
	case float64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: strconv.FormatFloat(x, 'g', -1, 64)}
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[k] = v
		}
		return specNode(nil, m)
	case map[string]any:
		return specNode(shape, x)
	case []any:
		var elem *schema.Shape
		if shape != nil {
			elem = shape.Elem
		}
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range x {
			n.Content = append(n.Content, valueNode(elem, e))
		}
		return n
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: fmt.Sprint(v)}
}
