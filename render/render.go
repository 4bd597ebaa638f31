package render

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"path"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/diag"
	"github.com/netrecon/netrecon/pool"
	"github.com/netrecon/netrecon/schema"
)

// builtinFS holds the templates of the built-in service types, one file per
// kind and platform: templates/<kind>/<platform>.xml.tmpl. It is read-only
// data compiled into the binary, not mutable state.
//
//go:embed templates
var builtinFS embed.FS

// builtinPrefix names built-in templates in positions, so a diagnostic says
// the fault is netrecon's template and not a file of the intent repo.
const builtinPrefix = "builtin/"

// Renderer turns the services of one intent into configuration. Build it once
// per intent with New: templates are parsed and checked there, so rendering a
// device only executes them. A Renderer is safe for concurrent use.
type Renderer struct {
	intent    *schema.Intent
	templates map[tmplKey]*template.Template
	shapes    map[string]*schema.Shape // #Spec's form by kind; nil: unknown
	// failed are the templates that did not parse or failed the static
	// check, by file name: New reported them, their services do not render.
	failed map[tmplKey]string
	// reads are the spec fields each template reads (the static check's
	// "routes[].prefix"), with the first place it reads them.
	reads map[tmplKey]map[string]diag.Pos
	// quietBroken leaves the services of failed templates out of the
	// diagnostics of Device and Devices: set when the caller reports
	// New's diagnostics with them (Build.Render).
	quietBroken bool
	keys        map[string]configtree.Keys // by platform
	byDevice    map[string][]*schema.Service
	services    map[string]*schema.Service
	bufs        sync.Pool         // *bytes.Buffer, reused across executions
	sources     map[string]string // template source by name, to place bad output
	budget      Budget            // of every template execution
	// traces are the traced copies of templates Origins built.
	traceMu sync.Mutex
	traces  map[tmplKey]*traced
}

type tmplKey struct{ kind, platform string }

// New parses every template the intent may use: the built-in types' embedded
// ones and the repo's own (in.Types). A template that does not parse, or that
// html/template cannot escape, is a Diagnostic at its file and line; the
// Renderer is still returned and fails only the services of that type.
//
// Every execution of a template runs within a Budget (DefaultBudget unless
// WithBudget says otherwise). Only an invalid option gives a nil Renderer.
func New(in *schema.Intent, opts ...Option) (*Renderer, diag.Diagnostics) {
	r := &Renderer{
		intent:    in,
		templates: map[tmplKey]*template.Template{},
		shapes:    map[string]*schema.Shape{},
		failed:    map[tmplKey]string{},
		reads:     map[tmplKey]map[string]diag.Pos{},
		keys:      map[string]configtree.Keys{},
		byDevice:  map[string][]*schema.Service{},
		services:  map[string]*schema.Service{},
		sources:   map[string]string{},
		budget:    DefaultBudget(),
	}
	r.bufs.New = func() any { return new(bytes.Buffer) }
	var diags diag.Diagnostics
	for _, o := range opts {
		if err := o(r); err != nil {
			return nil, diags.Errorf(diag.Pos{}, "", "invalid option: %v", err)
		}
	}
	fm := capped(funcs(), r.budget)
	for kind, t := range in.Types {
		if t != nil {
			r.shapes[kind] = t.Shape
		}
	}

	builtin, err := fs.Glob(builtinFS, "templates/*/*.xml.tmpl")
	if err != nil {
		// The pattern is a constant; a failure here is a build defect.
		diags = diags.Errorf(diag.Pos{File: builtinPrefix}, "", "listing built-in templates: %v", err)
	}
	for _, p := range builtin {
		src, err := builtinFS.ReadFile(p)
		if err != nil {
			diags = diags.Errorf(diag.Pos{File: p}, "", "reading built-in template: %v", err)
			continue
		}
		rel := strings.TrimPrefix(p, "templates/")
		kind, platform := path.Dir(rel), strings.TrimSuffix(path.Base(rel), ".xml.tmpl")
		if r.shapes[kind] == nil {
			// An intent built by hand, not by schema.Load.
			r.shapes[kind], _ = schema.BuiltinShape(kind)
		}
		ds, _ := r.add(fm, kind, platform, builtinPrefix+rel, string(src))
		diags = append(diags, ds...)
	}
	for _, kind := range sortedKeys(in.Types) {
		t := in.Types[kind]
		if t == nil || t.BuiltIn {
			continue // built-in types render with the embedded templates
		}
		var checks []*checker
		complete := true
		for _, platform := range sortedKeys(t.Template) {
			tp := t.Template[platform]
			name := tp.Name
			if name == "" {
				name = path.Join(t.Dir, platform+".xml.tmpl")
			}
			ds, c := r.add(fm, kind, platform, name, tp.Source)
			diags = append(diags, ds...)
			if c == nil || c.gaveUp || c.diags.HasErrors() {
				complete = false
			} else {
				checks = append(checks, c)
			}
		}
		// Only when every template was read through can a field be said
		// to be read by none; and a field a typo misses (peerAS for
		// peerAs) is the typo's error, not a second problem.
		if complete && len(checks) > 0 && t.Shape != nil {
			diags = append(diags, unread(t, t.Shape, checks)...)
		}
		diags = append(diags, listClashes(t)...)
	}
	for _, p := range []string{schema.PlatformIETF, schema.PlatformJunos} {
		r.keys[p] = Keys(p, in.Types)
	}
	for _, d := range in.Devices {
		if _, ok := r.keys[d.Platform]; !ok {
			r.keys[d.Platform] = Keys(d.Platform, in.Types)
		}
	}
	for _, s := range in.Services {
		r.services[s.Name] = s
		for _, d := range s.Devices {
			r.byDevice[d] = append(r.byDevice[d], s)
		}
	}
	diags.Sort()
	return r, diags
}

// add parses one template, checks it statically against its type's
// schema (check.go), and forces html/template to escape it now, so that an
// escaping problem (an action inside a tag it cannot place, an unclosed
// quote) is reported once here rather than once per service later. It
// returns the static check, nil when the template did not parse.
func (r *Renderer) add(fm template.FuncMap, kind, platform, name, src string) (diag.Diagnostics, *checker) {
	key := tmplKey{kind, platform}
	r.failed[key] = name // until it passes
	if loc := scriptStyleRE.FindStringIndex(src); loc != nil {
		// html/template escapes values inside <script> as JavaScript and
		// inside <style> as CSS: "a<b" would reach the device as "\"a\u003cb\"".
		return diag.Diagnostics{{
			Severity: diag.Error,
			Pos:      diag.Pos{File: name, Line: 1 + strings.Count(src[:loc[0]], "\n")},
			Summary:  fmt.Sprintf("element %s cannot be templated: html/template escapes its content as script or style, not as XML text", strings.TrimRight(src[loc[0]:loc[1]], " \t\r\n/>")+">"),
			Detail:   "netrecon templates cannot render elements named script or style",
		}}, nil
	}
	// Missing keys are errors: a typo such as .Spec.peerAS must not render
	// an empty peer-as. Fragment gives every field the schema declares a
	// value (nil when the spec leaves it out), so an optional field can
	// still be tested with {{with}}.
	t, err := template.New(name).Option("missingkey=error").Funcs(fm).Parse(src)
	if err != nil {
		return diag.Diagnostics{templateDiag(name, err, "fix the template's syntax")}, nil
	}
	c := checkTemplate(t, name, src, kind, r.shapes[kind])
	if c.diags.HasErrors() {
		return c.diags, c
	}
	// Before the first execution, which escapes the trees: the ticks must be
	// in place when it runs, and a literal bomb must not run at all.
	for _, sub := range t.Templates() {
		if sub.Tree == nil {
			continue
		}
		if loc, err := checkRanges(sub.Tree, r.budget.Range); err != nil {
			d := templateDiag(name, fmt.Errorf("template: %s: %w", loc, err), "iterate over the service's data instead, or split the service")
			d.Summary = err.Error()
			return diag.Diagnostics{d}, c
		}
		addTicks(sub.Tree)
	}
	// Escaping happens on first execution; data errors are expected with empty
	// data and ignored, only *template.Error is an escaping problem.
	var (
		escErr *template.Error
		bErr   *BudgetError
	)
	empty, _ := fill(map[string]any{}, r.shapes[kind], 0).(map[string]any)
	err = execute(t, io.Discard, tmplData{Spec: empty}, r.budget)
	if errors.As(err, &bErr) {
		// Over budget with no data at all: it would be for every service.
		return diag.Diagnostics{templateDiag(name, err, "a template must not loop or recurse without bound")}, c
	}
	if errors.As(err, &escErr) {
		return diag.Diagnostics{templateDiag(name, err, "html/template cannot escape this template; keep actions in element text or in quoted attribute values")}, c
	}
	delete(r.failed, key)
	r.templates[key] = t
	r.sources[name] = src
	r.reads[key] = c.reads
	return c.diags, c
}

// listClashes reports lists a user-defined type declares that a built-in key
// table already defines with other keys: the built-in keys win (drivers parse
// device replies with them), so the type's entry would be silently ignored.
func listClashes(t *schema.ServiceType) diag.Diagnostics {
	var diags diag.Diagnostics
	for _, p := range sortedKeys(t.Lists) {
		for _, k := range []configtree.Keys{ietfKeys(), junosKeys()} {
			if b, ok := k[p]; ok && !slices.Equal(b, t.Lists[p]) {
				diags = diags.Append(diag.Diagnostic{
					Severity: diag.Error,
					Pos:      diag.Pos{File: path.Join(t.Dir, "type.yaml")},
					Field:    "lists",
					Summary:  fmt.Sprintf("list %s is built in with keys %v, not %v", p, b, t.Lists[p]),
					Detail:   "remove the entry: built-in lists need no declaration",
				})
			}
		}
	}
	return diags
}

// scriptStyleRE finds elements html/template gives a non-text context,
// whatever their case, as html/template matches them.
var scriptStyleRE = regexp.MustCompile(`(?i)<(script|style)[\s/>]`)

// templateErrRE matches the position text/template puts in its errors:
// "template: NAME:LINE: msg" or "template: NAME:LINE:COL: msg".
var templateErrRE = regexp.MustCompile(`^template: (.+?):(\d+):(?:\d+:)? ?`)

// templatePos finds the template line in an error of html/template or
// text/template; the name is the file's, also for {{define}}d templates,
// because text/template reports the name of the parse.
func templatePos(name string, err error) (int, string) {
	var escErr *template.Error
	if errors.As(err, &escErr) && escErr.Line > 0 {
		return escErr.Line, escErr.Description
	}
	msg := err.Error()
	if m := templateErrRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[2])
		return line, msg[len(m[0]):]
	}
	return 0, msg
}

func templateDiag(name string, err error, detail string) diag.Diagnostic {
	line, msg := templatePos(name, err)
	return diag.Diagnostic{
		Severity: diag.Error,
		Pos:      diag.Pos{File: name, Line: line},
		Summary:  msg,
		Detail:   detail,
	}
}

// tmplData is what a template sees (docs/intent-format.md). It copies only the
// documented fields: a template must not reach device credentials.
type tmplData struct {
	Service tmplService
	Spec    map[string]any
	Device  tmplDevice
	// IRR is the generated prefix list of the spec's import (bgp-customer);
	// zero for other kinds, and Missing when no file exists yet, so that the
	// filter renders deny-all, never permit-any.
	IRR tmplIRR
}

type tmplIRR struct {
	Object     string
	IPv4, IPv6 []string
	Missing    bool
}

type tmplService struct {
	Name, Customer, Kind string
	Labels               map[string]string
}

type tmplDevice struct {
	Name, Platform, Site, Role string
	Labels                     map[string]string
}

// Fragment renders one service for one device: the service's template for the
// device's platform, parsed back into a tree whose every node is owned by the
// service. Errors are *NoTemplateError, *ValueError or *TemplateError.
func (r *Renderer) Fragment(svc *schema.Service, dev *schema.Device) (*configtree.Tree, error) {
	key := tmplKey{svc.Kind, dev.Platform}
	if name, ok := r.failed[key]; ok {
		return nil, &BrokenTemplateError{Template: name, Service: svc.Name, Device: dev.Name}
	}
	t := r.templates[key]
	if t == nil {
		return nil, &NoTemplateError{Kind: svc.Kind, Platform: dev.Platform, Service: svc.Name, Device: dev.Name}
	}
	if err := checkValues(svc.Name, "spec", svc.Spec); err != nil {
		var ve *ValueError
		if errors.As(err, &ve) {
			ve.Device, ve.Template = dev.Name, r.writer(key, t.Name(), ve.Field)
		}
		return nil, err
	}
	data := r.data(svc, dev)
	buf := r.bufs.Get().(*bytes.Buffer)
	defer func() {
		// A huge one-off output should not stay pinned in the pool.
		if buf.Cap() <= 1<<20 {
			buf.Reset()
			r.bufs.Put(buf)
		}
	}()
	buf.Reset()
	name := t.Name()
	if err := execute(t, buf, data, r.budget); err != nil {
		line, msg := templatePos(name, err)
		return nil, &TemplateError{Template: name, Line: line, Service: svc.Name, Device: dev.Name, Err: errors.New(msg)}
	}
	tree, err := parseTree(name, buf.Bytes(), r.keysFor(dev.Platform))
	if err != nil {
		te := &TemplateError{Template: name, Service: svc.Name, Device: dev.Name, Err: err}
		if se, ok := asSyntaxError(err); ok {
			te.Err = errors.New(se.Msg)
			te.OutputLine = se.Line
			te.Snippet = snippet(buf.Bytes(), se.Line)
			te.Line = guessLine(r.sources[name], te.Snippet)
		}
		return nil, te
	}
	setOwner(tree, svc.Name)
	return tree, nil
}

// data is what the template of svc sees on dev.
func (r *Renderer) data(svc *schema.Service, dev *schema.Device) tmplData {
	spec, _ := fill(svc.Spec, r.shapes[svc.Kind], 0).(map[string]any)
	return tmplData{
		Service: tmplService{Name: svc.Name, Customer: svc.Customer, Kind: svc.Kind, Labels: svc.Labels},
		Spec:    spec,
		Device:  tmplDevice{Name: dev.Name, Platform: dev.Platform, Site: dev.Site, Role: dev.Role, Labels: dev.Labels},
		IRR:     r.irr(svc),
	}
}

// irr is the prefix list a bgp-customer's import expands to.
func (r *Renderer) irr(svc *schema.Service) tmplIRR {
	if svc.Kind != schema.KindBGPCustomer {
		return tmplIRR{}
	}
	obj, _ := svc.Spec["import"].(string)
	pl := r.intent.PrefixList(obj)
	if pl == nil {
		return tmplIRR{Object: obj, IPv4: []string{}, IPv6: []string{}, Missing: true}
	}
	return tmplIRR{Object: pl.Object, IPv4: pl.IPv4, IPv6: pl.IPv6}
}

// writer finds the template line that writes a spec field
// ("spec.routes[2].description"): the static check's first read of it, or of
// the closest field around it that is read. Without one, the template file.
func (r *Renderer) writer(key tmplKey, name, field string) diag.Pos {
	p := indexRE.ReplaceAllString(strings.TrimPrefix(strings.TrimPrefix(field, "spec"), "."), "[]")
	reads := r.reads[key]
	for {
		if pos, ok := reads[p]; ok {
			return pos
		}
		if p == "" {
			return diag.Pos{File: name}
		}
		p = parentPath(p)
	}
}

// indexRE matches a list index in a field path.
var indexRE = regexp.MustCompile(`\[[0-9]+\]`)

func (r *Renderer) keysFor(platform string) configtree.Keys {
	if k, ok := r.keys[platform]; ok {
		return k
	}
	// A device built after New (tests, the planner's what-ifs) on a platform
	// not seen there: compute, do not cache, to stay safe for concurrent use.
	return Keys(platform, r.intent.Types)
}

// snippet returns line n (1-based) of the rendered output, trimmed, shortened
// to what a diagnostic can show.
func snippet(out []byte, n int) string {
	if n <= 0 {
		return ""
	}
	lines := bytes.Split(out, []byte("\n"))
	if n > len(lines) {
		return ""
	}
	s := strings.TrimSpace(string(lines[n-1]))
	if len(s) > 120 {
		cut := 120
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// guessLine finds the template line that rendered the output line out: the
// one line of src whose literal text, with each action standing for any text,
// matches out. It returns 0 when no line or several lines match (an action
// that spans lines, a line repeated in the template): a wrong line would
// mislead more than none.
func guessLine(src, out string) int {
	if out == "" || strings.HasSuffix(out, "…") {
		return 0
	}
	found := 0
	for i, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		var pat strings.Builder
		pat.WriteString("^")
		literal := false
		for line != "" {
			open := strings.Index(line, "{{")
			if open < 0 {
				pat.WriteString(regexp.QuoteMeta(line))
				literal = true
				break
			}
			if open > 0 {
				pat.WriteString(regexp.QuoteMeta(line[:open]))
				literal = true
			}
			end := strings.Index(line[open:], "}}")
			if end < 0 {
				line = ""
				pat.WriteString(".*")
				break
			}
			pat.WriteString(".*")
			line = line[open+end+2:]
		}
		pat.WriteString("$")
		if !literal {
			continue
		}
		re, err := regexp.Compile(pat.String())
		if err != nil || !re.MatchString(out) {
			continue
		}
		if found != 0 {
			return 0
		}
		found = i + 1
	}
	return found
}

// checkValues rejects strings XML 1.0 cannot carry (invalid UTF-8, most
// control characters). html/template escapes markup characters but not these,
// so without this check the device, not the validator, would refuse them.
func checkValues(svc, field string, v any) error {
	if writable(v) {
		// Nearly every spec: no field names built, no keys sorted.
		return nil
	}
	return findBadValue(svc, field, v)
}

// writable reports whether every string in v is one XML can carry.
func writable(v any) bool {
	switch v := v.(type) {
	case string:
		for _, c := range v {
			if c == utf8.RuneError || !xmlChar(c) {
				return false
			}
		}
	case map[string]any:
		for k, x := range v {
			if !writable(k) || !writable(x) {
				return false
			}
		}
	case []any:
		for _, x := range v {
			if !writable(x) {
				return false
			}
		}
	}
	return true
}

// findBadValue is checkValues's slow path: the first bad value, in a stable
// order, with its field.
func findBadValue(svc, field string, v any) error {
	switch v := v.(type) {
	case string:
		if !utf8.ValidString(v) {
			return &ValueError{Service: svc, Field: field, Msg: "not valid UTF-8"}
		}
		for _, c := range v {
			if !xmlChar(c) {
				return &ValueError{Service: svc, Field: field, Msg: fmt.Sprintf("character %U cannot be written in XML", c)}
			}
		}
	case map[string]any:
		for _, k := range sortedKeys(v) {
			if err := findBadValue(svc, field+"."+k, k); err != nil {
				return err
			}
			if err := findBadValue(svc, field+"."+k, v[k]); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range v {
			if err := findBadValue(svc, fmt.Sprintf("%s[%d]", field, i), e); err != nil {
				return err
			}
		}
	}
	return nil
}

// xmlChar reports whether c is a Char of XML 1.0 (§2.2).
func xmlChar(c rune) bool {
	return c == 0x09 || c == 0x0A || c == 0x0D ||
		c >= 0x20 && c <= 0xD7FF ||
		c >= 0xE000 && c <= 0xFFFD ||
		c >= 0x10000 && c <= 0x10FFFF
}

// Device renders every service that names the device and merges the
// fragments into the device's desired tree. Nodes two services render alike
// are shared (both own them); a leaf they render differently is a Diagnostic
// naming both services' files and the path, and the later service's fragment
// is left out. The tree is returned even with errors, for display; callers
// must not apply it when the diagnostics have errors.
func (r *Renderer) Device(name string) (*configtree.Tree, diag.Diagnostics) {
	tree, diags, fails := r.device(name)
	diags = append(diags, r.failureDiags(fails)...)
	diags.Sort()
	return tree, diags
}

// failure is a service that did not render on a device.
type failure struct {
	svc *schema.Service
	dev string
	err error
}

// device is Device with the services that did not render apart, so that
// Devices can report the same template error of many services once.
func (r *Renderer) device(name string) (*configtree.Tree, diag.Diagnostics, []failure) {
	dev := r.intent.Device(name)
	if dev == nil {
		return nil, diag.Diagnostics{}.Errorf(diag.Pos{}, "", "unknown device %q", name), nil
	}
	tree := &configtree.Tree{Root: &configtree.Node{}}
	var (
		diags diag.Diagnostics
		fails []failure
		frags []*configtree.Tree
		svcs  []*schema.Service
	)
	for _, svc := range r.byDevice[name] {
		frag, err := r.Fragment(svc, dev)
		if err != nil {
			fails = append(fails, failure{svc, name, err})
			continue
		}
		frags, svcs = append(frags, frag), append(svcs, svc)
	}
	// One MergeAll is linear in the fragments; merging one at a time scans
	// each list of the tree per fragment, quadratic on a PE with a thousand
	// services. Only when there is a conflict are the fragments merged one
	// by one, to say which service's fragment met which.
	if err := configtree.MergeAll(tree, frags...); err != nil {
		tree = &configtree.Tree{Root: &configtree.Node{}}
		for i, frag := range frags {
			if err := mergeTree(tree, frag); err != nil {
				diags = append(diags, r.mergeDiags(svcs[i], dev, err)...)
			}
		}
	}
	return tree, diags, fails
}

// failureDiags reports services that did not render. The same template
// error (same template line, same message) of several services is one
// diagnostic that names them all: a broken template fails every service of
// its type alike, and a thousand copies would hide every other problem. The
// services of a template New refused are one diagnostic per template,
// unless the caller reports New's (quietBroken).
func (r *Renderer) failureDiags(fails []failure) diag.Diagnostics {
	type group struct {
		first diag.Diagnostic
		svcs  []*schema.Service
	}
	var (
		diags  diag.Diagnostics
		order  []string
		groups = map[string]*group{}
	)
	for _, f := range fails {
		var (
			te  *TemplateError
			be  *BrokenTemplateError
			key string
			d   diag.Diagnostic
		)
		switch {
		case errors.As(f.err, &be):
			if r.quietBroken {
				continue
			}
			key = "broken\x00" + be.Template
			d = diag.Diagnostic{Severity: diag.Error, Pos: diag.Pos{File: be.Template},
				Summary: fmt.Sprintf("service %q (%s) is not rendered: the template has errors", f.svc.Name, f.svc.Pos),
				Detail:  "fix the template's errors reported by validate"}
		case errors.As(f.err, &te) && te.Line > 0:
			d = r.errorDiag(f.svc, f.err)
			// Not the snippet of the output, which shows each service's
			// own values.
			key = fmt.Sprintf("%s\x00%d\x00%v\x00%d", te.Template, te.Line, te.Err, te.OutputLine)
		default:
			diags = append(diags, r.errorDiag(f.svc, f.err))
			continue
		}
		g := groups[key]
		if g == nil {
			g = &group{first: d}
			groups[key] = g
			order = append(order, key)
		}
		g.svcs = append(g.svcs, f.svc)
	}
	for _, k := range order {
		g := groups[k]
		d := g.first
		if others := g.svcs[1:]; len(others) > 0 {
			d.Summary += "; the same for " + serviceList(others)
		}
		diags = append(diags, d)
	}
	return diags
}

// serviceList names services with their files, the first few of them.
func serviceList(svcs []*schema.Service) string {
	const shown = 3
	var parts []string
	seen := map[string]bool{}
	for _, s := range svcs {
		if seen[s.Name] {
			continue // the same service on another device
		}
		seen[s.Name] = true
		if len(parts) < shown {
			parts = append(parts, fmt.Sprintf("service %q (%s)", s.Name, s.Pos))
		}
	}
	out := strings.Join(parts, ", ")
	if n := len(seen) - len(parts); n > 0 {
		out += fmt.Sprintf(" and %d more", n)
	}
	if len(seen) == 0 {
		return "the same service on other devices"
	}
	return out
}

// errorDiag places a Fragment error: a value error at the offending field of
// the service, a template error at the template's line (the service's file is
// in the summary, as only one position fits).
func (r *Renderer) errorDiag(svc *schema.Service, err error) diag.Diagnostic {
	var (
		ve *ValueError
		ne *NoTemplateError
		te *TemplateError
	)
	switch {
	case errors.As(err, &ve):
		detail := "remove control characters from the value"
		if ve.Template.File != "" {
			detail = fmt.Sprintf("%s writes it to device %q; %s", ve.Template, ve.Device, detail)
		}
		return diag.Diagnostic{
			Severity: diag.Error, Pos: svc.FieldPos(ve.Field), Field: ve.Field,
			Summary: fmt.Sprintf("%s (service %q)", ve.Msg, svc.Name),
			Detail:  detail,
		}
	case errors.As(err, &ne):
		return diag.Diagnostic{
			Severity: diag.Error, Pos: svc.FieldPos("kind"), Field: "kind",
			Summary: fmt.Sprintf("type %q has no template for platform %q of device %q", ne.Kind, ne.Platform, ne.Device),
			Detail:  fmt.Sprintf("add %s.xml.tmpl to the type, or move the service to a device of another platform", ne.Platform),
		}
	case errors.As(err, &te):
		d := diag.Diagnostic{
			Severity: diag.Error,
			Pos:      diag.Pos{File: te.Template, Line: te.Line},
			Summary:  fmt.Sprintf("rendering service %q (%s) for device %q: %v", svc.Name, svc.Pos, te.Device, te.Err),
		}
		if te.OutputLine > 0 {
			d.Detail = fmt.Sprintf("the output is not well-formed XML at rendered line %d: %s; a template must close exactly the elements it opens", te.OutputLine, te.Snippet)
		}
		return d
	}
	return diag.Diagnostic{Severity: diag.Error, Pos: svc.Pos, Summary: err.Error()}
}

// mergeDiags turns a merge failure into Diagnostics, one per conflicting
// leaf. A conflict names both services and both files, since either may be
// the one to change.
func (r *Renderer) mergeDiags(svc *schema.Service, dev *schema.Device, err error) diag.Diagnostics {
	ces := conflicts(err)
	if len(ces) == 0 {
		return diag.Diagnostics{}.Errorf(svc.Pos, "", "merging service %q into device %q: %v", svc.Name, dev.Name, err)
	}
	var diags diag.Diagnostics
	for _, ce := range ces {
		// Merge names the tree's owners (those merged before) and the
		// fragment's; put this service first whichever side it is on.
		mine, myVal, other, otherVal := ce.Other, ce.OtherValue, ce.Owner, ce.Value
		if ce.Owner == svc.Name {
			mine, myVal, other, otherVal = ce.Owner, ce.Value, ce.Other, ce.OtherValue
		}
		diags = diags.Append(diag.Diagnostic{
			Severity: diag.Error,
			Pos:      svc.Pos,
			Summary: fmt.Sprintf("on device %q, service %q (%s) sets %s to %s but %s sets it to %s",
				dev.Name, mine, svc.Pos, ce.Path, quoteValue(myVal), r.describeOwners(other), quoteValue(otherVal)),
			Detail: "two services may render the same node only with the same value; change one of them",
		})
	}
	return diags
}

// describeOwners names the services of an owner list ("a, b") with their
// files.
func (r *Renderer) describeOwners(owners string) string {
	var parts []string
	for _, o := range strings.Split(owners, ", ") {
		if s := r.services[o]; s != nil {
			parts = append(parts, fmt.Sprintf("service %q (%s)", o, s.Pos))
		} else {
			parts = append(parts, fmt.Sprintf("%q", o))
		}
	}
	return strings.Join(parts, " and ")
}

// quoteValue quotes a leaf value; Merge writes non-leaf sides ("namespace
// urn:…", "(container)") as descriptions, which read better unquoted.
func quoteValue(v string) string {
	if strings.HasPrefix(v, "namespace ") || v == "(container)" {
		return v
	}
	return strconv.Quote(v)
}

// Devices renders the named devices (nil: all of them) in parallel, with at
// most GOMAXPROCS at a time: rendering is CPU-bound. The planner passes only
// the devices a change touches. A cancelled ctx stops handing out devices and
// is reported as a Diagnostic; trees of devices already rendered are kept.
func (r *Renderer) Devices(ctx context.Context, names []string) (map[string]*configtree.Tree, diag.Diagnostics) {
	if names == nil {
		names = make([]string, len(r.intent.Devices))
		for i, d := range r.intent.Devices {
			names[i] = d.Name
		}
	}
	var (
		mu      sync.Mutex
		out     = make(map[string]*configtree.Tree, len(names))
		diags   diag.Diagnostics
		fails   []failure
		stopped error
	)
	pool.Pool{Limit: runtime.GOMAXPROCS(0)}.Run(ctx, len(names), func(ctx context.Context, _, i int) {
		if ctx.Err() != nil {
			mu.Lock()
			stopped = context.Cause(ctx)
			mu.Unlock()
			return
		}
		tree, ds, fs := r.device(names[i])
		mu.Lock()
		defer mu.Unlock()
		if tree != nil {
			out[names[i]] = tree
		}
		diags = append(diags, ds...)
		fails = append(fails, fs...)
	}, func(i int, err error) {
		// One bad device must not take the daemon down with it.
		mu.Lock()
		defer mu.Unlock()
		diags = diags.Errorf(diag.Pos{}, "", "rendering device %q: internal error: %v", names[i], err.(*pool.PanicError).Value)
	})
	if stopped != nil {
		diags = diags.Errorf(diag.Pos{}, "", "rendering stopped: %v", stopped)
	}
	// Devices finish in any order; the groups name their services in the
	// order of the intent.
	slices.SortFunc(fails, func(a, b failure) int {
		return cmp.Or(strings.Compare(a.svc.Name, b.svc.Name), strings.Compare(a.dev, b.dev))
	})
	diags = append(diags, r.failureDiags(fails)...)
	diags.Sort()
	return out, diags
}
