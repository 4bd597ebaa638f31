package views

import (
	"fmt"
	"io"
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
//
// An event rewrites its device's line alone (cursor up to it, rewrite, back
// down), and a new device adds one line: the cost of an event does not grow
// with the number of devices. Redrawing the whole block on every event was
// quadratic: at 1,000 devices and eight phases each, eight million lines.
// The whole block is redrawn only when a longer device name widens the name
// column, which happens at most once per distinct name length.
type Progress struct {
	w     io.Writer
	lines map[string]int
	state []ProgressEvent
	width int // of the name column
	buf   []byte
}

// Event shows e.
func (p *Progress) Event(e ProgressEvent) {
	if e.Device == "" {
		return
	}
	p.buf = p.buf[:0]
	i, ok := p.lines[e.Device]
	switch {
	case !ok && len(e.Device) > p.width:
		p.lines[e.Device] = len(p.state)
		p.state = append(p.state, e)
		p.width = len(e.Device)
		p.buf = fmt.Appendf(p.buf, "\x1b[%dA", len(p.state)-1) // back to the block's first line
		if len(p.state) == 1 {
			p.buf = p.buf[:0]
		}
		for _, e := range p.state {
			p.buf = p.line(p.buf, e)
		}
	case !ok:
		p.lines[e.Device] = len(p.state)
		p.state = append(p.state, e)
		p.buf = p.line(p.buf, e)
	default:
		p.state[i] = e
		up := len(p.state) - i // the cursor is on the line below the block
		p.buf = fmt.Appendf(p.buf, "\x1b[%dA", up)
		p.buf = p.line(p.buf, e)
		if up > 1 {
			p.buf = fmt.Appendf(p.buf, "\x1b[%dB", up-1)
		}
	}
	_, _ = p.w.Write(p.buf)
}

// line appends e's line, cleared first, and the newline that puts the
// cursor at the start of the next line.
func (p *Progress) line(b []byte, e ProgressEvent) []byte {
	color := ansiYellow
	switch e.Phase {
	case "confirmed", "done":
		color = ansiGreen
	case "failed", "cancelled", "undone":
		color = ansiRed
	}
	b = fmt.Appendf(b, "\x1b[2K  %-*s  %s%-10s%s %6.2fs", p.width, e.Device, color, e.Phase, ansiReset, e.Elapsed.Seconds())
	if e.Detail != "" {
		b = append(b, "  "+e.Detail...)
	}
	return append(b, '\n')
}
