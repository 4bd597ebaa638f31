package render

import (
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/netrecon/netrecon/schema"
)

// Step is a manual step of one service (schema.ManualStep) with its data
// rendered from the service: the values a person types, ready to copy.
type Step struct {
	Service      string
	ID           string
	Title        string
	Instructions string
	Data         []StepValue // in the type's order (by name)
}

// StepValue is one rendered value of a step.
type StepValue struct {
	Name, Value string
}

// stepBudget bounds one value: a line or a few a person types into a form,
// not a configuration.
var stepBudget = Budget{Time: 200 * time.Millisecond, Output: 4 << 10, Range: 1000}

// stepData is what a step's template sees: the service, as a device
// template sees it, without a device (a step is per service).
type stepData struct {
	Service tmplService
	Spec    map[string]any
}

// Steps renders the manual steps of every service of in whose type declares
// any, in service order. A template that does not parse is the type's error
// (at its field in type.yaml); one that fails on a service is that
// service's, naming the field too.
func Steps(in *schema.Intent) ([]Step, schema.Diagnostics) {
	var out []Step
	var diags schema.Diagnostics
	parsed := map[string][]*template.Template{} // by kind, per step field
	broken := map[string]bool{}
	for _, s := range in.Services {
		t := in.Types[s.Kind]
		if t == nil || len(t.ManualSteps) == 0 || broken[s.Kind] {
			continue
		}
		tmpls, ok := parsed[s.Kind]
		if !ok {
			var ds schema.Diagnostics
			tmpls, ds = parseSteps(t)
			diags = append(diags, ds...)
			if ds.HasErrors() {
				broken[s.Kind] = true
				continue
			}
			parsed[s.Kind] = tmpls
		}
		spec, _ := fill(s.Spec, t.Shape, 0).(map[string]any)
		data := stepData{Service: tmplService{Name: s.Name, Customer: s.Customer, Kind: s.Kind, Labels: s.Labels}, Spec: spec}
		i := 0
		for _, ms := range t.ManualSteps {
			st := Step{Service: s.Name, ID: ms.ID, Title: ms.Title, Instructions: ms.Instructions}
			for _, f := range ms.Data {
				var b strings.Builder
				if err := executeText(tmpls[i], &b, data); err != nil {
					diags = diags.Append(schema.Diagnostic{Severity: schema.Error, Pos: s.Pos, Field: "kind",
						Summary: fmt.Sprintf("manual step %s: %s does not render for this service: %v", ms.ID, f.Name, err),
						Detail:  fmt.Sprintf("the template is at %s", f.Pos),
					})
				}
				st.Data = append(st.Data, StepValue{Name: f.Name, Value: strings.TrimSpace(b.String())})
				i++
			}
			out = append(out, st)
		}
	}
	return out, diags
}

// parseSteps parses every data template of t's steps, in order.
func parseSteps(t *schema.ServiceType) ([]*template.Template, schema.Diagnostics) {
	var out []*template.Template
	var diags schema.Diagnostics
	for _, ms := range t.ManualSteps {
		for _, f := range ms.Data {
			name := fmt.Sprintf("%s/type.yaml manual step %s data %s", t.Dir, ms.ID, f.Name)
			tm, err := template.New(name).Option("missingkey=error").Funcs(capped(funcs(), stepBudget)).Parse(f.Template)
			if err == nil {
				for _, sub := range tm.Templates() {
					if sub.Tree == nil {
						continue
					}
					if _, rerr := checkRanges(sub.Tree, stepBudget.Range); rerr != nil {
						err = rerr
						break
					}
					addTicks(sub.Tree)
				}
			}
			if err != nil {
				diags = diags.Append(schema.Diagnostic{Severity: schema.Error, Pos: f.Pos, Field: "data." + f.Name,
					Summary: fmt.Sprintf("manual step %s: %v", ms.ID, err), Detail: "fix the template's syntax"})
			}
			out = append(out, tm)
		}
	}
	return out, diags
}

// executeText runs a step's template under stepBudget: text, not XML, so
// nothing is escaped — the person copies the value as the intent holds it.
func executeText(t *template.Template, b *strings.Builder, data any) error {
	bw := newBudgetWriter(b, stepBudget)
	err := t.Execute(bw, data)
	if bw.err != nil {
		return bw.err
	}
	return err
}
