package views

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/plan"
)

// PlanFormats are the formats a plan can be shown in.
var PlanFormats = []string{"text", "markdown", "json"}

// PlanView shows a plan.
type PlanView interface {
	Plan(p *plan.Plan) error
}

// PlanOptions tune how a plan is shown.
type PlanOptions struct {
	// Color adds ANSI colours to text output; set it only when writing to a
	// terminal.
	Color bool
	// MaxMarkdown caps markdown output, in characters (bytes of UTF-8); 0 means
	// GitHubCommentLimit minus a margin for the sticky-comment marker.
	MaxMarkdown int
}

// GitHubCommentLimit is the largest body GitHub accepts for a comment.
const GitHubCommentLimit = 65536

// CommentMarker is the hidden line by which the plan comment of a pull request
// is found again and updated instead of duplicated.
const CommentMarker = "<!-- netrecon-plan -->"

// NewPlan returns the view for a format.
func NewPlan(format string, w io.Writer, opts PlanOptions) (PlanView, error) {
	switch format {
	case "text":
		return &PlanHuman{w: w, color: opts.Color}, nil
	case "markdown":
		max := opts.MaxMarkdown
		if max <= 0 {
			max = GitHubCommentLimit - 1024
		}
		return &PlanMarkdown{w: w, max: max}, nil
	case "json":
		return &PlanJSON{w: w}, nil
	}
	return nil, fmt.Errorf("output format %q is not supported. Supported formats are %q", format, PlanFormats)
}

// SummaryLine is the one-line count of a plan, as Terraform words it.
func SummaryLine(p *plan.Plan) string {
	s := p.Summary()
	held := ""
	if s.Adopted+s.Kept > 0 {
		held = fmt.Sprintf(" (pre-existing: %d adopted, %d kept)", s.Adopted, s.Kept)
	}
	if !s.HasChanges() && s.Failed == 0 {
		return "No changes. The devices match the intent." + held
	}
	line := fmt.Sprintf("%s, %d to add, %d to change, %d to destroy", Count(s.Devices, "device"), s.Create, s.Update, s.Delete)
	if s.Failed > 0 {
		line += fmt.Sprintf("; %s could not be planned", Count(s.Failed, "device"))
	}
	return line + held + "."
}

// PlanHuman prints a plan for a terminal: per device, one line per change.
type PlanHuman struct {
	w     io.Writer
	color bool
}

const (
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiRed    = "\x1b[31m"
	ansiBold   = "\x1b[1m"
	ansiReset  = "\x1b[0m"
)

func (v *PlanHuman) paint(code, s string) string {
	if !v.color {
		return s
	}
	return code + s + ansiReset
}

// Plan implements PlanView.
func (v *PlanHuman) Plan(p *plan.Plan) error {
	w := &errWriter{w: v.w}
	fmt.Fprintf(w, "netrecon %s plan: %s\n", p.Mode, sources(p))
	for _, d := range p.Devices {
		if d.Err != nil {
			fmt.Fprintf(w, "\n%s\n  %s\n", v.paint(ansiBold, deviceTitle(d)), v.paint(ansiRed, "! could not plan: "+d.Err.Error()))
			continue
		}
		if len(d.Changes)+len(d.Adopted)+len(d.Kept)+len(d.Claimed) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s\n", v.paint(ansiBold, deviceTitle(d)))
		for _, c := range d.Changes {
			fmt.Fprintf(w, "  %s\n", v.changeLine(c))
			for _, l := range deletedLeaves(c) {
				fmt.Fprintf(w, "  %s\n", v.paint(ansiRed, "-     "+l))
			}
		}
		for _, l := range heldLines(d) {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	fmt.Fprintf(w, "\n%s\n", SummaryLine(p))
	if len(p.Held) > 0 {
		fmt.Fprintf(w, "\n%s\n", v.paint(ansiBold, HeldTitle))
		for _, h := range p.Held {
			fmt.Fprintf(w, "  %s\n", HeldLine(h))
		}
	}
	for _, b := range p.Boundaries {
		fmt.Fprintf(w, "\n%s\n", v.paint(ansiBold, BoundaryTitle(b)))
		for _, d := range b.Devices {
			if len(d.Changes) == 0 {
				continue
			}
			fmt.Fprintf(w, "  %s\n", deviceTitle(d))
			for _, c := range d.Changes {
				fmt.Fprintf(w, "    %s\n", v.changeLine(c))
			}
		}
	}
	return w.err
}

// HeldTitle heads the services a plan leaves out for their manual steps.
const HeldTitle = "Held back by manual steps (planned as absent until each is done; netrecon tasks shows the values to type):"

// HeldLine is one held service: "acme-inet: jpnic-registration".
func HeldLine(h plan.HeldService) string {
	return h.Service + ": " + strings.Join(h.Steps, ", ")
}

// WhenLayout is how plans and status show a scheduled moment: in the zone
// the intent wrote it in, with its offset.
const WhenLayout = "2006-01-02 15:04 -07:00"

// BoundaryTitle is a boundary section's first line:
// "at 2026-12-05 09:00 +09:00: + acme-tokyo (activate); - old (deactivate)".
func BoundaryTitle(b plan.Boundary) string {
	var parts []string
	for _, s := range b.Activate {
		parts = append(parts, "+ "+s+" (activate)")
	}
	for _, s := range b.Deactivate {
		parts = append(parts, "- "+s+" (deactivate)")
	}
	return fmt.Sprintf("at %s: %s", b.At.Format(WhenLayout), strings.Join(parts, "; "))
}

func (v *PlanHuman) changeLine(c plan.Change) string {
	owners := ""
	if len(c.Owners) > 0 {
		owners = "  # " + strings.Join(c.Owners, ", ")
	}
	switch c.Action {
	case configtree.Create:
		return v.paint(ansiGreen, "+ "+string(c.Path)+leafValue(c.Leaf, c.After)) + owners
	case configtree.Update:
		return v.paint(ansiYellow, fmt.Sprintf("~ %s: %s → %s", c.Path, quote(c.Before), quote(c.After))) + owners
	}
	return v.paint(ansiRed, "- "+string(c.Path)+leafValue(c.Leaf, c.Before)) + owners
}

// heldLines shows the pre-existing nodes a plan adopts or keeps: they change
// nothing on the device now, but they say what a later removal will leave.
func heldLines(d *plan.Device) []string {
	var out []string
	for _, h := range d.Adopted {
		out = append(out, "~ adopt "+string(h.Path)+leafValue(h.Leaf, h.Value)+"  (pre-existing, kept on removal)"+ownersNote(h.Owners))
	}
	for _, h := range d.Kept {
		out = append(out, "= keep "+string(h.Path)+"  (pre-existing, not created by netrecon)"+ownersNote(h.Owners))
	}
	for _, h := range d.Claimed {
		out = append(out, "~ share "+string(h.Path)+leafValue(h.Leaf, h.Value)+"  (already rendered by "+strings.Join(h.Holders, ", ")+"; goes with the last of them)"+ownersNote(h.Owners))
	}
	return out
}

func ownersNote(owners []string) string {
	if len(owners) == 0 {
		return ""
	}
	return "  # " + strings.Join(owners, ", ")
}

// deletedLeaves lists, for the deletion of a list entry or container, the
// leaves that go with it, so a reviewer sees what a one-line deletion removes.
// Key leaves are left out: they are already in the entry's path.
func deletedLeaves(c plan.Change) []string {
	if c.Action != configtree.Delete || c.Leaf || c.Node == nil {
		return nil
	}
	var out []string
	var walk func(n *configtree.Node, prefix string)
	walk = func(n *configtree.Node, prefix string) {
		for _, ch := range n.Children {
			if ch.Leaf && slices.Contains(n.Keys, ch.Name) {
				continue
			}
			p := prefix + ch.PathStep()
			switch {
			case ch.Leaf:
				out = append(out, p+" = "+quote(ch.Value))
			case ch.IsEntry() && onlyKeyLeaves(ch):
				out = append(out, p) // an entry that is all key, e.g. an address
			default:
				walk(ch, p+"/")
			}
		}
	}
	walk(c.Node, "")
	return out
}

func onlyKeyLeaves(n *configtree.Node) bool {
	for _, c := range n.Children {
		if !c.Leaf || !slices.Contains(n.Keys, c.Name) {
			return false
		}
	}
	return true
}

func leafValue(leaf bool, v string) string {
	if !leaf {
		return ""
	}
	return " = " + quote(v)
}

// quote shows a leaf value unambiguously: quoted, with control characters
// escaped, so a value cannot forge plan lines.
func quote(s string) string { return fmt.Sprintf("%q", s) }

func deviceTitle(d *plan.Device) string {
	if d.Platform == "" {
		return d.Name
	}
	return fmt.Sprintf("%s (%s)", d.Name, d.Platform)
}

func sources(p *plan.Plan) string {
	if p.Mode == plan.Live {
		s := "intent " + p.Head.String() + " against the devices' running configuration"
		return s + dirtyNote(p.Head)
	}
	return fmt.Sprintf("base %s → head %s%s", p.Base, p.Head, dirtyNote(p.Head))
}

func dirtyNote(s plan.Source) string {
	if len(s.Dirty) == 0 {
		return ""
	}
	return fmt.Sprintf(" (with uncommitted changes to %s)", Count(len(s.Dirty), "file"))
}

// errWriter keeps the first write error so printing code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}

// PlanJSON writes the plan as the versioned JSON document of docs/json-output.md.
type PlanJSON struct{ w io.Writer }

type jsonSource struct {
	Rev    string   `json:"rev,omitempty"`
	Commit string   `json:"commit,omitempty"`
	Dirty  []string `json:"dirty,omitempty"`
}

type jsonSummary struct {
	Devices int `json:"devices"`
	Create  int `json:"create"`
	Update  int `json:"update"`
	Delete  int `json:"delete"`
	Failed  int `json:"failed"`
}

type jsonChange struct {
	Action string   `json:"action"`
	Path   string   `json:"path"`
	Leaf   bool     `json:"leaf"`
	Before *string  `json:"before"`
	After  *string  `json:"after"`
	Owners []string `json:"owners"`
	Reason string   `json:"reason,omitempty"`
}

type jsonDevice struct {
	Name        string       `json:"name"`
	Platform    string       `json:"platform,omitempty"`
	Error       string       `json:"error,omitempty"`
	Fingerprint string       `json:"fingerprint,omitempty"`
	Changes     []jsonChange `json:"changes"`
	Adopted     []jsonHeld   `json:"adopted,omitempty"`
	Kept        []jsonHeld   `json:"kept,omitempty"`
	Claimed     []jsonHeld   `json:"claimed,omitempty"`
}

type jsonHeld struct {
	Path   string   `json:"path"`
	Leaf   bool     `json:"leaf"`
	Value  *string  `json:"value"`
	Owners []string `json:"owners"`
	// Holders: claimed only, the services that rendered the node already.
	Holders []string `json:"holders,omitempty"`
}

func heldJSON(hs []configtree.Held) []jsonHeld {
	var out []jsonHeld
	for _, h := range hs {
		j := jsonHeld{Path: string(h.Path), Leaf: h.Leaf, Owners: h.Owners, Holders: h.Holders}
		if h.Leaf {
			j.Value = &h.Value
		}
		if j.Owners == nil {
			j.Owners = []string{}
		}
		out = append(out, j)
	}
	return out
}

type jsonPlan struct {
	FormatVersion string       `json:"format_version"`
	Mode          string       `json:"mode"`
	Base          *jsonSource  `json:"base,omitempty"`
	Head          jsonSource   `json:"head"`
	Summary       jsonSummary  `json:"summary"`
	Devices       []jsonDevice `json:"devices"`
	// At and Boundaries: a plan of an intent that schedules services.
	At         string         `json:"at,omitempty"`
	Boundaries []jsonBoundary `json:"boundaries,omitempty"`
	// Held: the services left out for their open manual steps.
	Held []jsonHeldService `json:"held,omitempty"`
}

// jsonHeldService is a service its open manual steps keep out of the plan.
type jsonHeldService struct {
	Service string   `json:"service"`
	Steps   []string `json:"steps"`
}

// jsonBoundary is what the head does by itself at a scheduled moment.
type jsonBoundary struct {
	At         string       `json:"at"` // RFC 3339, in the intent's zone
	Activate   []string     `json:"activate"`
	Deactivate []string     `json:"deactivate"`
	Devices    []jsonDevice `json:"devices"`
}

var actionNames = map[configtree.Action]string{
	configtree.Create: "create",
	configtree.Update: "update",
	configtree.Delete: "delete",
}

// Plan implements PlanView.
func (v *PlanJSON) Plan(p *plan.Plan) error {
	s := p.Summary()
	out := jsonPlan{
		FormatVersion: FormatVersion,
		Mode:          string(p.Mode),
		Head:          jsonSource(p.Head),
		Summary:       jsonSummary{Devices: s.Devices, Create: s.Create, Update: s.Update, Delete: s.Delete, Failed: s.Failed},
		Devices:       []jsonDevice{},
	}
	if p.Mode == plan.Offline {
		b := jsonSource(p.Base)
		out.Base = &b
	}
	out.Devices = jsonDevices(p.Devices)
	if !p.At.IsZero() {
		out.At = p.At.Format(time.RFC3339)
	}
	for _, b := range p.Boundaries {
		jb := jsonBoundary{At: b.At.Format(time.RFC3339), Activate: orEmpty(b.Activate), Deactivate: orEmpty(b.Deactivate), Devices: jsonDevices(b.Devices)}
		out.Boundaries = append(out.Boundaries, jb)
	}
	for _, h := range p.Held {
		out.Held = append(out.Held, jsonHeldService{Service: h.Service, Steps: orEmpty(h.Steps)})
	}
	enc := json.NewEncoder(v.w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func orEmpty(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

func jsonDevices(ds []*plan.Device) []jsonDevice {
	out := []jsonDevice{}
	for _, d := range ds {
		jd := jsonDevice{Name: d.Name, Platform: d.Platform, Fingerprint: d.Fingerprint, Changes: []jsonChange{},
			Adopted: heldJSON(d.Adopted), Kept: heldJSON(d.Kept), Claimed: heldJSON(d.Claimed)}
		if d.Err != nil {
			jd.Error = d.Err.Error()
		}
		for _, c := range d.Changes {
			jc := jsonChange{Action: actionNames[c.Action], Path: string(c.Path), Leaf: c.Leaf, Owners: c.Owners, Reason: c.Reason}
			if jc.Owners == nil {
				jc.Owners = []string{}
			}
			if c.Leaf && c.Action != configtree.Create {
				jc.Before = &c.Before
			}
			if c.Leaf && c.Action != configtree.Delete {
				jc.After = &c.After
			}
			jd.Changes = append(jd.Changes, jc)
		}
		out = append(out, jd)
	}
	return out
}
