package schema

import (
	"embed"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"

	"github.com/netrecon/netrecon/diag"
)

// builtinCUE holds the schemas of the envelope, the inventory and the built-in
// service kinds. common.cue is compiled first; every other file is compiled in
// its scope.
//
//go:embed cue/*.cue
var builtinCUE embed.FS

// builtinFiles maps each built-in kind to its schema file.
func builtinFiles() map[string]string {
	return map[string]string{
		KindAttachmentCircuit: "cue/attachment_circuit.cue",
		KindStaticRouting:     "cue/static_routing.cue",
		KindBGPCustomer:       "cue/bgp_customer.cue",
	}
}

// isBuiltin reports whether kind is a built-in service kind.
func isBuiltin(kind string) bool {
	return kind == KindAttachmentCircuit || kind == KindStaticRouting || kind == KindBGPCustomer
}

// BuiltinSchema returns the CUE source of a built-in kind's schema (and of the
// shared definitions it uses), for documentation and for tools.
func BuiltinSchema(kind string) (string, bool) {
	f, ok := builtinFiles()[kind]
	if !ok {
		return "", false
	}
	common, err1 := builtinCUE.ReadFile("cue/common.cue")
	src, err2 := builtinCUE.ReadFile(f)
	if err1 != nil || err2 != nil {
		return "", false
	}
	return string(common) + "\n" + string(src), true
}

// validator unifies documents with their schemas. A cue.Context is not safe for
// concurrent use, so every worker has its own validator, and compiles the
// schemas once.
type validator struct {
	ctx       *cue.Context
	envelope  cue.Value            // #Envelope
	inventory cue.Value            // #Inventory
	typeFile  cue.Value            // #TypeFile, for service-types/*/type.yaml
	kinds     map[string]cue.Value // kind → #Service, built-in and compiled user types
	specs     map[string]cue.Value // built-in kind → #Spec, for its Shape
	types     map[string]*ServiceType
}

func newValidator(types map[string]*ServiceType) (*validator, error) {
	ctx := cuecontext.New()
	read := func(name string) (cue.Value, error) {
		src, err := builtinCUE.ReadFile(name)
		if err != nil {
			return cue.Value{}, err
		}
		return ctx.CompileBytes(src, cue.Filename("builtin/"+strings.TrimPrefix(name, "cue/"))), nil
	}
	common, err := read("cue/common.cue")
	if err != nil {
		return nil, err
	}
	if err := common.Err(); err != nil {
		return nil, fmt.Errorf("built-in schema: %w", err)
	}
	v := &validator{
		ctx:      ctx,
		envelope: common.LookupPath(cue.MakePath(cue.Def("Envelope"))),
		kinds:    make(map[string]cue.Value),
		specs:    make(map[string]cue.Value),
		types:    types,
	}
	compileScoped := func(name string) (cue.Value, error) {
		src, err := builtinCUE.ReadFile(name)
		if err != nil {
			return cue.Value{}, err
		}
		val := ctx.CompileBytes(src, cue.Filename("builtin/"+strings.TrimPrefix(name, "cue/")), cue.Scope(common))
		if err := val.Err(); err != nil {
			return cue.Value{}, fmt.Errorf("built-in schema %s: %w", name, err)
		}
		return val, nil
	}
	inv, err := compileScoped("cue/inventory.cue")
	if err != nil {
		return nil, err
	}
	v.inventory = inv.LookupPath(cue.MakePath(cue.Def("Inventory")))
	tf, err := compileScoped("cue/service_type.cue")
	if err != nil {
		return nil, err
	}
	v.typeFile = tf.LookupPath(cue.MakePath(cue.Def("TypeFile")))
	for kind, file := range builtinFiles() {
		val, err := compileScoped(file)
		if err != nil {
			return nil, err
		}
		v.kinds[kind] = val.LookupPath(cue.MakePath(cue.Def("Service")))
		v.specs[kind] = val.LookupPath(cue.MakePath(cue.Def("Spec")))
	}
	return v, nil
}

// service returns the schema of a whole service document of kind, compiling a
// user-defined type on first use.
func (v *validator) service(kind string) (cue.Value, bool) {
	if s, ok := v.kinds[kind]; ok {
		return s, true
	}
	t, ok := v.types[kind]
	if !ok {
		return cue.Value{}, false
	}
	spec, err := compileUserSpec(v.ctx, t)
	if err != nil {
		// loadTypes refuses types that do not compile; this cannot happen
		// for a type that reached the validator.
		return cue.Value{}, false
	}
	s := v.envelope.
		FillPath(cue.MakePath(cue.Str("kind")), kind).
		FillPath(cue.MakePath(cue.Str("spec")), spec)
	v.kinds[kind] = s
	return s, true
}

func cueSpecPath() cue.Path { return cue.MakePath(cue.Str("spec")) }

// compileUserSpec compiles a user-defined type's schema.cue and returns #Spec.
func compileUserSpec(ctx *cue.Context, t *ServiceType) (cue.Value, error) {
	val := ctx.CompileString(t.Schema, cue.Filename(t.Dir+"/schema.cue"))
	if err := val.Err(); err != nil {
		return cue.Value{}, err
	}
	spec := val.LookupPath(cue.MakePath(cue.Def("Spec")))
	if !spec.Exists() {
		return cue.Value{}, fmt.Errorf("schema.cue does not define #Spec")
	}
	return spec, spec.Err()
}

// check unifies doc with schema and returns the unified value and, when it is
// not valid, the problems at the document's positions.
func (v *validator) check(schema cue.Value, doc *document, userType bool) (cue.Value, Diagnostics) {
	u := schema.Unify(v.ctx.Encode(doc.data))
	// Final: report required fields that are missing.
	err := u.Validate(cue.Concrete(true), cue.Final())
	if err == nil {
		return u, nil
	}
	diags := cueDiags(err, doc, userType)
	// CUE reports a closed struct's unknown fields only when nothing else in
	// that struct is wrong, and its missing fields only when no field is
	// unknown: a typo such as `vlna:` next to a bad value would show only on
	// the next run. Drop the fields already reported and ask again, so every
	// problem is named now. This costs only invalid files.
	data := doc.data
	dropped := make(map[string]bool)
	for range 3 {
		for _, d := range diags {
			if d.Field != "" {
				dropped[d.Field] = true
			}
		}
		pruned, changed := prune(data, "", dropped)
		if !changed {
			break
		}
		data = pruned.(map[string]any)
		err := schema.Unify(v.ctx.Encode(data)).Validate(cue.Concrete(true), cue.Final())
		more := 0
		for _, d := range cueDiags(err, doc, userType) {
			if dropped[d.Field] {
				continue // a consequence of dropping it, or reported already
			}
			diags = append(diags, d)
			more++
		}
		if more == 0 {
			break
		}
	}
	if !userType {
		diags = reword(diags, doc)
	}
	return u, suggestFields(diags, schema)
}

// reword explains the missing fields that stand for a rule of the built-in
// schemas: the schemas demand ipv4 when ipv6 is absent, and passwordEnv when
// neither file is given. A passwordFile or keyFile that is written but
// invalid counts as absent to CUE, so the demand for passwordEnv is false
// then: the reference's own error says what is wrong.
func reword(diags Diagnostics, doc *document) Diagnostics {
	out := diags[:0]
	for _, d := range diags {
		if strings.HasPrefix(d.Summary, "missing required field") {
			switch {
			case d.Field == "spec.ipv4":
				d.Field, d.Summary = "spec", "spec needs ipv4, ipv6 or both"
				d.Pos = doc.lookup(d.Field)
			case strings.HasSuffix(d.Field, "credentials.passwordEnv"):
				creds := parentField(d.Field)
				if _, ok := doc.fields[creds+".passwordFile"]; ok {
					continue
				}
				if _, ok := doc.fields[creds+".keyFile"]; ok {
					continue
				}
				d.Field, d.Summary = creds, "credentials must name one of passwordEnv, passwordFile, keyFile"
				d.Pos = doc.lookup(d.Field)
			}
		}
		out = append(out, d)
	}
	return out
}

// suggestFields adds to each unknown field the schema's field it most
// likely stands for: `vlna` is `vlan`. When that field is required and
// missing, its own error is the typo's consequence and goes.
func suggestFields(diags Diagnostics, schema cue.Value) Diagnostics {
	missing := make(map[string]bool)
	for _, d := range diags {
		if d.Summary == fmt.Sprintf("missing required field %q", lastElem(d.Field)) {
			missing[d.Field] = true
		}
	}
	meant := make(map[string]bool)
	for i, d := range diags {
		if !strings.HasPrefix(d.Summary, "unknown field ") {
			continue
		}
		s := diag.Suggest(lastElem(d.Field), fieldsAt(schema, parentField(d.Field)))
		if s == "" {
			continue
		}
		diags[i].Detail = fmt.Sprintf("did you mean %q?", s)
		if f := joinField(parentField(d.Field), s); missing[f] {
			meant[f] = true
			diags[i].Detail += " It is required, and missing"
		}
	}
	if len(meant) == 0 {
		return diags
	}
	return slices.DeleteFunc(diags, func(d Diagnostic) bool {
		return meant[d.Field] && strings.HasPrefix(d.Summary, "missing required field")
	})
}

// prune copies data without the leaf fields named in drop. Structs and lists
// are kept (their own errors say nothing about their fields).
func prune(x any, field string, drop map[string]bool) (any, bool) {
	switch x := x.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		changed := false
		for k, v := range x {
			f := joinField(field, k)
			if drop[f] && !isContainer(v) {
				changed = true
				continue
			}
			var c bool
			m[k], c = prune(v, f, drop)
			changed = changed || c
		}
		return m, changed
	case []any:
		l := make([]any, len(x))
		changed := false
		for i, v := range x {
			f := field + "[" + strconv.Itoa(i) + "]"
			if drop[f] && !isContainer(v) {
				// Keep the index stable: the element becomes null, and its
				// errors are ignored as the field is in drop.
				changed = true
				continue
			}
			var c bool
			l[i], c = prune(v, f, drop)
			changed = changed || c
		}
		return l, changed
	}
	return x, false
}

func isContainer(x any) bool {
	switch x.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

// cueDiags maps CUE errors onto the document: the error's path selects the
// field, and the field's recorded position is the place.
func cueDiags(err error, doc *document, userType bool) Diagnostics {
	var diags Diagnostics
	errs := errors.Errors(err)
	seen := make(map[string]bool)
	for _, e := range errs {
		format, args := e.Msg()
		msg := fmt.Sprintf(format, args...)
		field := cuePath(e.Path())
		if strings.HasSuffix(msg, "errors in empty disjunction:") && len(errs) > 1 {
			continue // a header; the alternatives' errors follow
		}
		d := Diagnostic{Severity: Error, Pos: doc.lookup(field), Field: field}
		switch {
		case msg == "field not allowed":
			// CUE may name an element inside the unknown field.
			for strings.HasSuffix(d.Field, "]") {
				d.Field = parentField(d.Field)
			}
			field = d.Field
			d.Pos = doc.lookup(field)
			d.Summary = fmt.Sprintf("unknown field %q", lastElem(field))
			d.Detail = "check the spelling; unknown fields are errors"
		case msg == "field is required but not present":
			d.Summary = fmt.Sprintf("missing required field %q", lastElem(field))
		case mismatchRe.MatchString(msg):
			d.Summary, d.Detail = mismatch(msg, doc, field)
		default:
			d.Summary = friendly(msg, userType)
			if userType {
				if p := e.Position(); p.IsValid() {
					d.Detail = "constraint at " + tokenPos(p).String()
				}
			}
		}
		key := d.Field + "\x00" + d.Summary
		if seen[key] {
			continue
		}
		seen[key] = true
		diags = append(diags, d)
	}
	return tidy(diags, doc)
}

// friendlyMessages words the failures of the built-in schemas' patterns: CUE
// prints the pattern itself, which tells a service engineer little. Keys are
// the constraints as CUE prints them.
func friendlyMessages() []struct{ constraint, text string } {
	return []struct{ constraint, text string }{
		{`=~"^env:`, "must be a secret reference: env:NAME or file:/absolute/path"},
		{`=~"^[A-Z][A-Z0-9-]{0,31}$"`, "must be an IRR database name in capitals, as registries spell their source (JPIRR, RADB)"},
		{`=~"^[A-Za-z0-9.-]+:[0-9]{1,5}$`, "must be host:port, e.g. whois.radb.net:43"},
		{`=~"^[^@\\s]+@`, "must be an e-mail address"},
		{`=~"^(0x)?[0-9A-Fa-f]{8,40}$"`, "must be a PGP key ID in hex (quoted: YAML reads 0x... as a number)"},
		{`=~"^[A-Za-z][A-Za-z0-9_-]{0,79}$"`, "must be a mntner name such as MAINT-AS64500"},
		{`=~"^https?://"`, "must be an http:// or https:// URL"},
		{`=~"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"`, "must be a lower-case DNS label: a-z, 0-9 and '-', not starting or ending with '-', at most 63 characters"},
		{`strings.MaxRunes(200)`, "must be at most 200 characters"},
		{`=~"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"`, "must be a VRF name: letters, digits, '_', '.' and '-', at most 32 characters"},
		{`=~"^[A-Za-z0-9][A-Za-z0-9/:._-]{0,63}$"`, "must be an interface name such as ge-0/0/1, at most 64 characters"},
		{`=~"^[0-9]{1,3}`, "must be an IPv4 address with a prefix length of 8-31, e.g. 192.0.2.1/30"},
		{`=~"^[0-9A-Fa-f:]*:`, "must be an IPv6 address with a prefix length of 64-127, e.g. 2001:db8::1/127"},
		{`net.IPCIDR`, "must be an address with a prefix length, e.g. 192.0.2.0/24"},
		{`net.IP`, "must be an IP address"},
		{`=~"^[A-Za-z_][A-Za-z0-9_]*$"`, "must be an environment variable name"},
		{`=~"^/"`, "must be an absolute path"},
		{`=~"^[0-9]{4}-`, "must be a time with its zone: 2026-12-05T09:00:00+09:00, or 2026-12-05 09:00 Asia/Tokyo"},
		{`list.MinItems(1)`, "needs at least one entry"},
		{`list.MaxItems(1000)`, "must have at most 1000 entries"},
		{`=~"^(?i)((AS`, "must be an RPSL as-set name such as AS-ACME or AS64500:AS-CUSTOMERS (RFC 2622), or an AS such as AS64500"},
		{`=~"^(?i)AS[0-9]`, "must be an AS number written as AS64500"},
		{`=~"^(env:`, "must be a secret reference: env:NAME or file:/absolute/path"},
		{`=~"^[A-Z][A-Z0-9-]{0,31}$"`, "must be an IRR database name in capitals, such as JPIRR or RADB"},
		{`list.MaxItems(16)`, "must have at most 16 entries"},
	}
}

// friendly rewords a CUE message of a built-in schema, keeping the value.
func friendly(msg string, userType bool) string {
	if userType || !strings.HasPrefix(msg, "invalid value ") {
		return msg
	}
	for _, f := range friendlyMessages() {
		if !strings.Contains(msg, f.constraint) {
			continue
		}
		value := strings.TrimPrefix(msg, "invalid value ")
		if i := strings.LastIndex(value, " ("); i >= 0 {
			value = value[:i]
		}
		return fmt.Sprintf("invalid value %s: %s", shorten(value), f.text)
	}
	return msg
}

// shorten keeps a value echoed in a message readable.
func shorten(v string) string {
	const max = 60
	if len(v) <= max {
		return v
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut] + "..." + v[len(v)-1:]
}

var mismatchRe = regexp.MustCompile(`\(mismatched types (\w+) and (\w+)\)$`)

// mismatch words a type error as "must be X, not Y", naming the kinds as a
// YAML author knows them; CUE's message prints the schema's whole struct.
func mismatch(msg string, doc *document, field string) (summary, detail string) {
	m := mismatchRe.FindStringSubmatch(msg)
	got, ok := dataAt(doc.data, field)
	if !ok {
		return msg, ""
	}
	have := cueKind(got)
	want := m[2]
	switch have {
	case m[1]:
	case m[2]:
		want = m[1]
	default:
		return msg, ""
	}
	if text, ok := got.(string); ok && unquotedIs(text, want) {
		detail = "remove the quotes"
	}
	return fmt.Sprintf("must be %s, not %s", kindWords(want), kindWords(have)), detail
}

// unquotedIs reports whether text, written without quotes, would be of kind.
func unquotedIs(text, kind string) bool {
	switch kind {
	case "int":
		_, err := strconv.ParseInt(text, 10, 64)
		return err == nil
	case "float", "number":
		_, err := strconv.ParseFloat(text, 64)
		return err == nil
	case "bool":
		return text == "true" || text == "false"
	}
	return false
}

func cueKind(x any) string {
	switch x.(type) {
	case map[string]any:
		return "struct"
	case []any:
		return "list"
	case string:
		return "string"
	case int64:
		return "int"
	case float64:
		return "float"
	case bool:
		return "bool"
	}
	return "null"
}

func kindWords(k string) string {
	switch k {
	case "struct":
		return "a mapping of fields"
	case "list":
		return "a list"
	case "string":
		return "a string"
	case "int":
		return "an integer"
	case "float", "number":
		return "a number"
	case "bool":
		return "true or false"
	case "null":
		return "empty"
	}
	return k
}

// dataAt returns the value at a field path of plain data.
func dataAt(x any, field string) (any, bool) {
	for field != "" {
		switch {
		case field[0] == '[':
			end := strings.IndexByte(field, ']')
			i, err := strconv.Atoi(field[1:max(end, 1)])
			l, ok := x.([]any)
			if end < 0 || err != nil || !ok || i < 0 || i >= len(l) {
				return nil, false
			}
			x, field = l[i], field[end+1:]
		default:
			field = strings.TrimPrefix(field, ".")
			end := strings.IndexAny(field, ".[")
			if end < 0 {
				end = len(field)
			}
			m, ok := x.(map[string]any)
			if !ok {
				return nil, false
			}
			if x, ok = m[field[:end]]; !ok {
				return nil, false
			}
			field = field[end:]
		}
	}
	return x, true
}

var enumRe = regexp.MustCompile(`^conflicting values ("[^"]*") and ("[^"]*")$`)

// tidy merges what CUE says several times about one field: one error per
// alternative of a failed enum ("conflicting values "ietf" and "cisco"", then
// "junos") becomes one message; a default's conflict ("conflicting values 830
// and 70000") and errors about an operand that is itself an error (_|_) go
// when the field has a clearer message.
func tidy(diags Diagnostics, doc *document) Diagnostics {
	var out Diagnostics
	for i := 0; i < len(diags); {
		j := i + 1
		for j < len(diags) && diags[j].Field == diags[i].Field && diags[j].Pos == diags[i].Pos {
			j++
		}
		out = append(out, tidyField(diags[i:j], doc)...)
		i = j
	}
	return out
}

func tidyField(group Diagnostics, doc *document) Diagnostics {
	// Enum alternatives: each message names one allowed value and the data's.
	data, _ := dataAt(doc.data, group[0].Field)
	var alts []string
	value := ""
	for _, d := range group {
		m := enumRe.FindStringSubmatch(d.Summary)
		if m == nil {
			alts = nil
			break
		}
		allowed, got := m[1], m[2]
		if s, ok := data.(string); ok && strconv.Quote(s) == allowed {
			allowed, got = got, allowed
		}
		if value != "" && got != value {
			alts = nil
			break
		}
		value = got
		alts = append(alts, allowed)
	}
	if alts != nil {
		slices.Sort(alts)
		d := group[0]
		if len(alts) == 1 {
			d.Summary = fmt.Sprintf("invalid value %s: must be %s", shorten(value), alts[0])
		} else {
			d.Summary = fmt.Sprintf("invalid value %s: must be one of %s", shorten(value), strings.Join(alts, ", "))
		}
		if got, ok := data.(string); ok && len(alts) > 1 {
			words := make([]string, len(alts))
			for i, a := range alts {
				words[i], _ = strconv.Unquote(a)
			}
			d.Detail = diag.DidYouMean(got, words)
		}
		return Diagnostics{d}
	}
	if len(group) == 1 {
		return group
	}
	noisy := func(d Diagnostic) bool {
		return strings.HasPrefix(d.Summary, "conflicting values") || strings.Contains(d.Summary, "_|_")
	}
	var clear Diagnostics
	for _, d := range group {
		if !noisy(d) {
			clear = append(clear, d)
		}
	}
	if len(clear) > 0 {
		return clear
	}
	return group[:1]
}

// cuePath formats a CUE error path as a field path of the document:
// [#Service spec routes 1 nextHop] → spec.routes[1].nextHop.
func cuePath(p []string) string {
	var b strings.Builder
	for i, s := range p {
		if i == 0 && strings.HasPrefix(s, "#") {
			continue // the definition the document was unified with
		}
		if _, err := strconv.Atoi(s); err == nil {
			b.WriteString("[" + s + "]")
			continue
		}
		if u, err := strconv.Unquote(s); err == nil {
			s = u
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

// lookup returns the position of field, or of its nearest written parent.
func (d *document) lookup(field string) Pos {
	for f := field; f != ""; f = parentField(f) {
		if p, ok := d.fields[f]; ok {
			return p
		}
	}
	return d.pos
}

// parentField drops the last element of a field path.
func parentField(f string) string {
	i := strings.LastIndexAny(f, ".[")
	if i < 0 {
		return ""
	}
	return f[:i]
}

func lastElem(f string) string {
	i := strings.LastIndexAny(f, ".[")
	if i < 0 {
		return f
	}
	return strings.TrimSuffix(f[i+1:], "]")
}

func tokenPos(p token.Pos) Pos {
	return Pos{File: p.Filename(), Line: p.Line(), Col: p.Column()}
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// plain converts a concrete CUE value to plain Go data, defaults resolved:
// map[string]any, []any, string, int64, float64, bool, nil.
func plain(v cue.Value) (any, error) {
	if d, ok := v.Default(); ok {
		v = d
	}
	switch v.Kind() {
	case cue.StructKind:
		it, err := v.Fields()
		if err != nil {
			return nil, err
		}
		m := make(map[string]any)
		for it.Next() {
			x, err := plain(it.Value())
			if err != nil {
				return nil, err
			}
			m[it.Selector().Unquoted()] = x
		}
		return m, nil
	case cue.ListKind:
		it, err := v.List()
		if err != nil {
			return nil, err
		}
		l := []any{}
		for it.Next() {
			x, err := plain(it.Value())
			if err != nil {
				return nil, err
			}
			l = append(l, x)
		}
		return l, nil
	case cue.StringKind:
		return v.String()
	case cue.IntKind:
		return v.Int64()
	case cue.FloatKind, cue.NumberKind:
		return v.Float64()
	case cue.BoolKind:
		return v.Bool()
	case cue.NullKind:
		return nil, nil
	}
	return nil, fmt.Errorf("value is not concrete: %v", v)
}
