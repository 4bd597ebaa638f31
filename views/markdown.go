package views

import (
	"fmt"
	"io"
	"strings"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/plan"
)

// PlanMarkdown writes a plan as a pull-request comment: a summary table and one
// collapsible section per device. GitHub refuses comments over 65,536
// characters, so when the plan is larger each device's section is cut to a fair
// share of what is left, with a note saying how many changes are not shown and
// where to find them (the JSON plan artifact).
type PlanMarkdown struct {
	w   io.Writer
	max int
}

// maxTableRows bounds the summary table: a change to a thousand devices would
// otherwise spend the whole comment on the table.
const maxTableRows = 100

// Plan implements PlanView.
func (v *PlanMarkdown) Plan(p *plan.Plan) error {
	var head strings.Builder
	head.WriteString(CommentMarker + "\n")
	fmt.Fprintf(&head, "### netrecon plan: %s\n\n", strings.TrimSuffix(SummaryLine(p), "."))
	fmt.Fprintf(&head, "%s\n\n", mdEscape(sources(p)))
	if len(p.Held) > 0 {
		fmt.Fprintf(&head, "%s\n\n", mdEscape(HeldTitle))
		for _, h := range p.Held {
			fmt.Fprintf(&head, "- %s\n", mdEscape(HeldLine(h)))
		}
		head.WriteString("\n")
	}

	var changed []*plan.Device
	for _, d := range p.Devices {
		if d.Err != nil || len(d.Changes)+len(d.Adopted)+len(d.Kept)+len(d.Claimed) > 0 {
			changed = append(changed, d)
		}
	}
	if len(changed) == 0 {
		_, err := io.WriteString(v.w, head.String()+boundariesMarkdown(p, v.max/4))
		return err
	}
	head.WriteString("| device | platform | add | change | destroy | services |\n|---|---|--:|--:|--:|---|\n")
	for i, d := range changed {
		if i == maxTableRows {
			fmt.Fprintf(&head, "| … and %s | | | | | |\n", Count(len(changed)-maxTableRows, "more device"))
			break
		}
		c, u, del := counted(d)
		if d.Err != nil {
			fmt.Fprintf(&head, "| %s | %s | – | – | – | could not be planned |\n", mdEscape(d.Name), mdEscape(d.Platform))
			continue
		}
		fmt.Fprintf(&head, "| %s | %s | %d | %d | %d | %s |\n", mdEscape(d.Name), mdEscape(d.Platform), c, u, del, mdEscape(strings.Join(d.Services(), ", ")))
	}
	head.WriteString("\n")

	const footer = "\n<sub>Each device's changes are in the JSON plan artifact too. netrecon applies them after merge.</sub>\n"
	budget := v.max - head.Len() - len(footer)
	var body strings.Builder
	for i, d := range changed {
		// Fair share of what remains, so one huge device cannot hide the others.
		share := budget / (len(changed) - i)
		sec := deviceSection(d, share)
		if len(sec) > share {
			sec = fmt.Sprintf("<details><summary><b>%s</b>: not shown, the comment is full</summary></details>\n", mdEscape(d.Name))
			if len(sec) > budget {
				fmt.Fprintf(&body, "\n… %s not shown: see the JSON plan artifact.\n", Count(len(changed)-i, "more device"))
				break
			}
		}
		body.WriteString(sec)
		budget -= len(sec)
	}
	_, err := io.WriteString(v.w, head.String()+body.String()+boundariesMarkdown(p, v.max/4)+footer)
	return err
}

// boundariesMarkdown is what the head will do by itself at each scheduled
// moment, one collapsible section per moment, within max characters.
func boundariesMarkdown(p *plan.Plan, max int) string {
	var b strings.Builder
	for i, bd := range p.Boundaries {
		var lines []string
		for _, d := range bd.Devices {
			for _, c := range d.Changes {
				lines = append(lines, changeSign(c)+" "+d.Name+": "+string(c.Path)+leafValue(c.Leaf, changeValue(c)))
			}
		}
		fence := codeFence(lines)
		sec := fmt.Sprintf("\n<details><summary><b>%s</b></summary>\n\n%sdiff\n%s\n%s\n</details>\n",
			mdEscape(BoundaryTitle(bd)), fence, strings.Join(lines, "\n"), fence)
		if b.Len()+len(sec) > max {
			fmt.Fprintf(&b, "\n… %s not shown: see the JSON plan artifact.\n", Count(len(p.Boundaries)-i, "more scheduled change"))
			break
		}
		b.WriteString(sec)
	}
	return b.String()
}

func counted(d *plan.Device) (c, u, del int) {
	for _, ch := range d.Changes {
		switch ch.Action {
		case configtree.Create:
			c++
		case configtree.Update:
			u++
		default:
			del++
		}
	}
	return c, u, del
}

// deviceSection renders one device within about max bytes, cutting its change
// list with a note when it does not fit.
func deviceSection(d *plan.Device, max int) string {
	var lines []string
	if d.Err != nil {
		lines = []string{"! could not plan: " + d.Err.Error()}
	}
	for _, c := range d.Changes {
		switch c.Action {
		case configtree.Create:
			lines = append(lines, "+ "+string(c.Path)+leafValue(c.Leaf, c.After))
		case configtree.Update:
			lines = append(lines, "- "+string(c.Path)+leafValue(true, c.Before), "+ "+string(c.Path)+leafValue(true, c.After))
		default:
			lines = append(lines, "- "+string(c.Path)+leafValue(c.Leaf, c.Before))
			for _, l := range deletedLeaves(c) {
				lines = append(lines, "-     "+l)
			}
		}
	}
	lines = append(lines, heldLines(d)...)
	fence := codeFence(lines)
	c, u, del := counted(d)
	summary := fmt.Sprintf("<b>%s</b> (%s): %d to add, %d to change, %d to destroy", mdEscape(d.Name), mdEscape(d.Platform), c, u, del)
	if svcs := d.Services(); len(svcs) > 0 {
		summary += " — " + mdEscape(strings.Join(svcs, ", "))
	}
	open := "<details><summary>" + summary + "</summary>\n\n" + fence + "diff\n"
	closing := fence + "\n</details>\n"
	var b strings.Builder
	b.WriteString(open)
	room := max - len(open) - len(closing) - 120 // the truncation note
	for i, l := range lines {
		if b.Len()-len(open)+len(l)+1 > room {
			fmt.Fprintf(&b, "… %s not shown (the comment is limited to %d characters): see the JSON plan artifact\n", Count(len(lines)-i, "more line"), GitHubCommentLimit)
			break
		}
		b.WriteString(l)
		b.WriteString("\n")
	}
	b.WriteString(closing)
	return b.String()
}

// codeFence returns a backtick fence longer than any run of backticks in the
// lines, so a value holding ``` cannot end the code block early.
func codeFence(lines []string) string {
	longest := 0
	for _, l := range lines {
		run := 0
		for _, r := range l {
			if r == '`' {
				run++
				longest = max(longest, run)
			} else {
				run = 0
			}
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// mdEscape keeps text outside code blocks from being read as markup or HTML.
func mdEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "|", "\\|", "`", "\\`", "*", "\\*", "_", "\\_", "[", "\\[", "]", "\\]").Replace(s)
}

// changeSign is a change's diff sign; an update shows as its new value.
func changeSign(c plan.Change) string {
	if c.Action == configtree.Delete {
		return "-"
	}
	return "+"
}

func changeValue(c plan.Change) string {
	if c.Action == configtree.Delete {
		return c.Before
	}
	return c.After
}
