package views

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// ProgressEvent is one step of an apply (apply.Event, which cmd converts).
type ProgressEvent struct {
	Device  string
	Phase   string
	Elapsed time.Duration
	Detail  string
}

// NewProgress returns the progress display of an apply on a terminal: one
// line per device (phase, elapsed, detail) redrawn in place. (Elsewhere cmd
// logs one structured line per event.)
func NewProgress(w io.Writer) *Progress {
	return &Progress{w: w, lines: map[string]int{}}
}

// Progress redraws a block of per-device lines. Apply serialises calls to
// Event, so no lock is needed.
type Progress struct {
	w     io.Writer
	order []string
	lines map[string]int
	state []ProgressEvent
	drawn int
}

// Event shows e.
func (p *Progress) Event(e ProgressEvent) {
	if e.Device == "" {
		return
	}
	i, ok := p.lines[e.Device]
	if !ok {
		i = len(p.order)
		p.lines[e.Device] = i
		p.order = append(p.order, e.Device)
		p.state = append(p.state, e)
	}
	p.state[i] = e
	p.redraw()
}

func (p *Progress) redraw() {
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", p.drawn) // back to the block's first line
	}
	width := 0
	for _, d := range p.order {
		width = max(width, len(d))
	}
	for _, e := range p.state {
		color := ansiYellow
		switch e.Phase {
		case "confirmed", "done":
			color = ansiGreen
		case "failed", "cancelled", "undone":
			color = ansiRed
		}
		line := fmt.Sprintf("  %-*s  %s%-10s%s %6.2fs", width, e.Device, color, e.Phase, ansiReset, e.Elapsed.Seconds())
		if e.Detail != "" {
			line += "  " + e.Detail
		}
		fmt.Fprintf(&b, "\x1b[2K%s\n", line)
	}
	p.drawn = len(p.state)
	io.WriteString(p.w, b.String())
}
