package views

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

var testKeys = configtree.Keys{
	"/interfaces/interface": {"name"},
}

func tree(t *testing.T, owner, xml string) *configtree.Tree {
	t.Helper()
	tr, err := configtree.Parse(strings.NewReader(xml), "test", testKeys)
	if err != nil {
		t.Fatal(err)
	}
	if owner != "" {
		tr.SetOwner(owner)
	}
	return tr
}

const ifNS = `xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces"`

// samplePlan has a create, an update, a deletion of a whole entry, a device
// without changes and a device that could not be planned.
func samplePlan(t *testing.T) *plan.Plan {
	from := tree(t, "acme-tokyo", `<interfaces `+ifNS+`>
	  <interface><name>ge-0/0/1.100</name><description>ACME</description><enabled>true</enabled></interface>
	  <interface><name>ge-0/0/1.200</name><description>Globex "old" `+"```"+`</description></interface>
	</interfaces>`)
	to := tree(t, "acme-tokyo", `<interfaces `+ifNS+`>
	  <interface><name>ge-0/0/1.100</name><description>ACME &amp; Co &lt;HQ&gt;</description><enabled>true</enabled></interface>
	  <interface><name>ge-0/0/2.300</name><description>Initech</description></interface>
	</interfaces>`)
	return &plan.Plan{
		Mode: plan.Offline,
		Base: plan.Source{Rev: "main", Commit: "4c1f0e9d2b7a4c1f0e9d2b7a4c1f0e9d2b7a4c1f"},
		Head: plan.Source{Rev: "HEAD", Commit: "9a07aa11bb22cc33dd44ee55ff6677889900aabb"},
		Devices: []*plan.Device{
			plan.DiffDevice("pe1-tyo", "ietf", from, to, plan.Offline),
			plan.DiffDevice("pe2-osa", "ietf", from, from, plan.Offline),
			{Name: "pe3-sin", Platform: "junos", Err: errors.New("dial 127.0.0.1:8303: connection refused")},
		},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./views -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./views -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestPlanGolden(t *testing.T) {
	for _, format := range PlanFormats {
		for _, color := range []bool{false, true} {
			if color && format != "text" {
				continue
			}
			name := fmt.Sprintf("plans/sample.%s", format)
			if color {
				name += ".color"
			}
			t.Run(name, func(t *testing.T) {
				var b bytes.Buffer
				v, err := NewPlan(format, &b, PlanOptions{Color: color})
				if err != nil {
					t.Fatal(err)
				}
				if err := v.Plan(samplePlan(t)); err != nil {
					t.Fatal(err)
				}
				golden(t, name, b.Bytes())
			})
		}
	}
}

func TestPlanTextHasNoColorUnlessAsked(t *testing.T) {
	var b bytes.Buffer
	v, _ := NewPlan("text", &b, PlanOptions{})
	if err := v.Plan(samplePlan(t)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "\x1b[") {
		t.Error("plain text output contains ANSI escapes")
	}
	if !strings.Contains(b.String(), "1 device, 2 to add, 1 to change, 1 to destroy; 1 device could not be planned.") {
		t.Errorf("summary line missing:\n%s", b.String())
	}
}

func TestPlanJSONSchema(t *testing.T) {
	var b bytes.Buffer
	v, _ := NewPlan("json", &b, PlanOptions{})
	if err := v.Plan(samplePlan(t)); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		FormatVersion string `json:"format_version"`
		Base          struct{ Commit string }
		Devices       []struct {
			Name    string
			Error   string
			Changes []struct {
				Action        string
				Path          string
				Before, After *string
				Owners        []string
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.FormatVersion != FormatVersion || doc.Base.Commit == "" || len(doc.Devices) != 3 {
		t.Fatalf("unexpected document: %+v", doc)
	}
	for _, c := range doc.Devices[0].Changes {
		if c.Action == "update" && (c.Before == nil || c.After == nil) {
			t.Errorf("update %s lacks before/after", c.Path)
		}
		if len(c.Owners) == 0 {
			t.Errorf("change %s has no owners", c.Path)
		}
	}
	if doc.Devices[2].Error == "" {
		t.Error("the failed device's error is missing")
	}
}

// A plan that touches a thousand devices must still fit one GitHub comment,
// and say what it left out.
func TestPlanMarkdownStaysUnderCommentLimit(t *testing.T) {
	p := &plan.Plan{Mode: plan.Offline, Base: plan.Source{Commit: "aa"}, Head: plan.Source{Commit: "bb"}}
	for i := range 1000 {
		var b strings.Builder
		b.WriteString(`<interfaces ` + ifNS + `>`)
		for j := range 60 {
			fmt.Fprintf(&b, `<interface><name>ge-0/0/%d.%d</name><description>customer %d circuit %d with a long description</description></interface>`, j, i, i, j)
		}
		b.WriteString(`</interfaces>`)
		p.Devices = append(p.Devices, plan.DiffDevice(fmt.Sprintf("pe%04d", i), "ietf", nil, tree(t, fmt.Sprintf("svc-%d", i), b.String()), plan.Offline))
	}
	var out bytes.Buffer
	v, _ := NewPlan("markdown", &out, PlanOptions{})
	if err := v.Plan(p); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if len(s) >= GitHubCommentLimit {
		t.Fatalf("markdown is %d characters, over GitHub's limit of %d", len(s), GitHubCommentLimit)
	}
	if !strings.HasPrefix(s, CommentMarker) {
		t.Error("the sticky-comment marker must come first")
	}
	if !strings.Contains(s, "more devices") || !strings.Contains(s, "JSON plan artifact") {
		t.Error("truncation is not explained")
	}
	if !strings.Contains(s, "1000 devices, 120000 to add") {
		t.Errorf("the summary must count the whole plan: %.300s", s)
	}
	// Sections that were cut keep their code fences and details balanced.
	if strings.Count(s, "<details>") != strings.Count(s, "</details>") {
		t.Error("unbalanced <details>")
	}
}

func TestPlanMarkdownCutsOneHugeDevice(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<interfaces ` + ifNS + `>`)
	for j := range 5000 {
		fmt.Fprintf(&b, `<interface><name>ge-0/0/%d</name><description>d</description></interface>`, j)
	}
	b.WriteString(`</interfaces>`)
	p := &plan.Plan{Mode: plan.Offline, Devices: []*plan.Device{
		plan.DiffDevice("big", "ietf", nil, tree(t, "s", b.String()), plan.Offline),
		plan.DiffDevice("small", "ietf", nil, tree(t, "s", `<interfaces `+ifNS+`><interface><name>x</name></interface></interfaces>`), plan.Offline),
	}}
	var out bytes.Buffer
	v, _ := NewPlan("markdown", &out, PlanOptions{})
	if err := v.Plan(p); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if len(s) >= GitHubCommentLimit {
		t.Fatalf("%d characters", len(s))
	}
	if !strings.Contains(s, "more lines not shown") {
		t.Error("the huge device's cut is not explained")
	}
	if !strings.Contains(s, "+ /interfaces/interface[name=x]") {
		t.Error("the small device must still be shown in full")
	}
}

func TestUnknownFormat(t *testing.T) {
	if _, err := NewPlan("yaml", &bytes.Buffer{}, PlanOptions{}); err == nil || !strings.Contains(err.Error(), `"text"`) {
		t.Errorf("err = %v, want the list of supported formats", err)
	}
}
