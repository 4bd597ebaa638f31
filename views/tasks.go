package views

import (
	"fmt"
	"io"
	"time"

	"github.com/netrecon/netrecon/api"
)

// Tasks shows the daemon's manual steps (GET /api/v1/tasks): each open one
// with the values to type, ready to copy, then the done ones in a line each.
func Tasks(w io.Writer, format string, l *api.TaskList, now time.Time) error {
	switch format {
	case "json":
		return writeJSONDoc(w, l)
	case "text":
	default:
		return unsupported(format)
	}
	ew := &errWriter{w: w}
	open := 0
	for _, t := range l.Tasks {
		if t.State == api.TaskStateOpen {
			open++
		}
	}
	fmt.Fprintf(ew, "%s open, %d done\n", nounN(open, "manual step", "manual steps"), len(l.Tasks)-open)
	for _, t := range l.Tasks {
		if t.State != api.TaskStateOpen {
			continue
		}
		note := ""
		switch {
		case t.Holds:
			note = "; the service is not configured until it is done"
		case t.Reopened > 0:
			note = "; reopened: the intent changed its values"
		}
		if t.Overdue {
			note += "; OVERDUE"
		}
		fmt.Fprintf(ew, "\n%s / %s: %s\n  open since %s%s\n", t.Service, t.Step, t.Title, ago(t.OpenedAt, now), note)
		if t.Instructions != "" {
			fmt.Fprintf(ew, "  %s\n", t.Instructions)
		}
		width := 0
		for _, v := range t.Data {
			width = max(width, len(v.Name))
		}
		for _, v := range t.Data {
			fmt.Fprintf(ew, "    %-*s  %s\n", width, v.Name, v.Value)
		}
		fmt.Fprintf(ew, "  when done: netrecon tasks done %s %s --ref \"...\"\n", t.Service, t.Step)
	}
	if open < len(l.Tasks) {
		fmt.Fprintln(ew, "\nDone:")
		for _, t := range l.Tasks {
			if t.State == api.TaskStateDone {
				fmt.Fprintf(ew, "  %s / %s by %s %s, ref %s\n", t.Service, t.Step, orDash(t.DoneBy), ago(t.DoneAt, now), orDash(t.Reference))
			}
		}
	}
	return ew.err
}
