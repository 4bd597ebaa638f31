package schema

import "strconv"

// defaultPort is NETCONF over SSH's port ([RFC6242 3]).
//
// [RFC6242 3]: https://www.rfc-editor.org/rfc/rfc6242#section-3
const defaultPort = 830

// The functions below build the typed model from a document's plain data. They
// run on validated data, and also on files the caller vouches for (Options.Trusted),
// which skip CUE: so every default a built-in schema fills is filled here too,
// and the result is the same either way. They never panic on data of the wrong
// shape: a field of the wrong type is left at its zero value (CUE has reported it).

// devicesOf returns the devices of an inventory document, and the field path
// of each ("devices[3]") for diagnostics.
func devicesOf(doc *document) ([]*Device, []string) {
	list, _ := doc.data["devices"].([]any)
	out := make([]*Device, 0, len(list))
	fields := make([]string, 0, len(list))
	for i, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			continue
		}
		field := "devices[" + strconv.Itoa(i) + "]"
		d := &Device{
			Name:        str(m["name"]),
			Platform:    str(m["platform"]),
			Address:     str(m["address"]),
			Port:        defaultPort,
			Site:        str(m["site"]),
			Role:        str(m["role"]),
			Labels:      strMap(m["labels"]),
			Maintenance: m["maintenance"] == true,
			Pos:         doc.lookup(field),
		}
		if p, ok := m["port"].(int64); ok {
			d.Port = int(p)
		}
		if c, ok := m["credentials"].(map[string]any); ok {
			d.Credentials = Credentials{
				Username:     str(c["username"]),
				PasswordEnv:  str(c["passwordEnv"]),
				PasswordFile: str(c["passwordFile"]),
				KeyFile:      str(c["keyFile"]),
			}
		}
		if d.Name == "" {
			continue
		}
		out = append(out, d)
		fields = append(fields, field)
	}
	return out, fields
}

// serviceOf builds a Service from a document; spec is the spec with defaults
// filled (for a built-in kind, builtinSpec).
func serviceOf(doc *document, spec map[string]any) *Service {
	meta, _ := doc.data["metadata"].(map[string]any)
	s := &Service{
		APIVersion: str(doc.data["apiVersion"]),
		Kind:       str(doc.data["kind"]),
		Name:       str(meta["name"]),
		Customer:   str(meta["customer"]),
		Labels:     strMap(meta["labels"]),
		Activate:   str(meta["activate"]),
		Deactivate: str(meta["deactivate"]),
		Spec:       spec,
		Pos:        doc.pos,
		Fields:     doc.fields,
	}
	if d, ok := spec["device"].(string); ok {
		s.Devices = []string{d}
	}
	if ds, ok := spec["devices"].([]any); ok {
		for _, d := range ds {
			if d, ok := d.(string); ok {
				s.Devices = append(s.Devices, d)
			}
		}
	}
	return s
}

// builtinSpec returns a built-in kind's spec with the schema's defaults
// filled, exactly as CUE fills them (see cue/*.cue). It takes over the
// document's data, which nothing else uses after this.
func builtinSpec(kind string, doc *document) map[string]any {
	spec, _ := doc.data["spec"].(map[string]any)
	if spec == nil {
		spec = map[string]any{}
	}
	if kind == KindAttachmentCircuit {
		if _, ok := spec["enabled"]; !ok {
			spec["enabled"] = true
		}
	}
	return spec
}

func str(x any) string {
	s, _ := x.(string)
	return s
}

func strList(x any) []string {
	l, _ := x.([]any)
	var out []string
	for _, v := range l {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func strMap(x any) map[string]string {
	m, ok := x.(map[string]any)
	if !ok || len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}
