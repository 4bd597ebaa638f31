package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/netrecon/netrecon/api"
)

// StatusFormats are the formats of `netrecon status`, `devices` and `services`.
var StatusFormats = []string{"text", "json"}

func writeJSONDoc(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func unsupported(format string) error {
	return fmt.Errorf("output format %q is not supported. Supported formats are %q", format, StatusFormats)
}

func ago(t time.Time, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t).Round(time.Second)
	if d < 0 {
		return "in " + (-d).String()
	}
	return d.String() + " ago"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Status shows the daemon's status: JSON is the API's document as it came;
// text answers "is the network equal to the branch, and if not, where,
// why, and what do I do": the commits, the pass in progress and what it
// waits on, the counts, the alarms with their hints, and every device that
// is not in sync.
func Status(w io.Writer, format string, st *api.Status) error {
	switch format {
	case "json":
		return writeJSONDoc(w, st)
	case "text":
	default:
		return unsupported(format)
	}
	now := st.GeneratedAt
	ew := &errWriter{w: w}
	verdict := "IN SYNC: every device holds the intent of the branch head"
	if !st.InSync {
		verdict = "NOT IN SYNC"
	}
	fmt.Fprintf(ew, "%s\n", verdict)
	fmt.Fprintf(ew, "  branch     %s  head %s\n", st.Branch, orDash(short(st.Head)))
	fmt.Fprintf(ew, "  target     %s", orDash(short(st.TargetCommit)))
	if st.TargetCommit != st.Head && st.Head != "" {
		fmt.Fprint(ew, "  (the head is refused: see the alarms)")
	}
	fmt.Fprintln(ew)
	fmt.Fprintf(ew, "  applied    %s  (the last commit every device was brought to)\n", orDash(short(st.AppliedCommit)))
	last := "never"
	if st.LastSync != nil {
		last = ago(*st.LastSync, now)
	}
	fmt.Fprintf(ew, "  last sync  %s\n", last)
	if p := st.Pass; p != nil {
		fmt.Fprintf(ew, "\nPass %s running since %s (%s): step %s, commit %s\n", p.ID, ago(p.Started, now), p.Trigger, p.Step, orDash(short(p.Commit)))
		for _, dp := range p.Devices {
			line := fmt.Sprintf("  %-14s %s", dp.Device, dp.Phase)
			if dp.Waiting != nil {
				line += fmt.Sprintf(": waiting, %s; retry %s", dp.Waiting.Reason, ago(dp.Waiting.RetryAt, now))
			}
			fmt.Fprintln(ew, line)
		}
	}
	fmt.Fprintf(ew, "\nDevices:  %s\n", stateCounts(st.DevicesByState))
	fmt.Fprintf(ew, "Services: %s\n", stateCounts(st.ServicesByState))
	if len(st.Alarms) > 0 {
		fmt.Fprintf(ew, "\n%s:\n", nounN(len(st.Alarms), "alarm", "alarms"))
		for _, a := range st.Alarms {
			ack := ""
			if a.Acknowledged != nil {
				ack = fmt.Sprintf(" [acknowledged by %s: %s]", a.Acknowledged.By, a.Acknowledged.Reason)
			}
			fmt.Fprintf(ew, "  #%d %s %s since %s%s\n    %s\n", a.ID, a.Kind, orDash(a.Device), ago(a.Since, now), ack, a.Message)
			if a.Hint != "" {
				fmt.Fprintf(ew, "    what to do: %s\n", a.Hint)
			}
		}
	}
	if len(st.Upcoming) > 0 {
		fmt.Fprintln(ew, "\nUpcoming:")
		for _, u := range st.Upcoming {
			sign := "+"
			if u.Action == api.ScheduleDeactivate {
				sign = "-"
			}
			fmt.Fprintf(ew, "  at %s: %s %s (%s)\n", u.At.Format(WhenLayout), sign, u.Service, u.Action)
		}
	}
	if len(st.IRR) > 0 {
		fmt.Fprintln(ew, "\nIRR registration:")
		for _, r := range st.IRR {
			line := fmt.Sprintf("  %-10s %-28s %-10s %s", r.Database, r.Object, r.State, nounN(r.Attempts, "attempt", "attempts"))
			if r.NextTry != nil && r.State == api.IRRFailed {
				line += ", next " + ago(*r.NextTry, now)
			}
			fmt.Fprintln(ew, line)
			if r.Message != "" && r.State != api.IRRRegistered {
				fmt.Fprintf(ew, "    %s\n", strings.ReplaceAll(r.Message, "\n", "\n    "))
			}
		}
	}
	var bad []api.Device
	for _, d := range st.Devices {
		if d.State != api.StateInSync && d.State != api.StateApplied {
			bad = append(bad, d)
		}
	}
	if len(bad) > 0 {
		fmt.Fprintln(ew)
		deviceTable(ew, bad, now)
	}
	return ew.err
}

func stateCounts(m map[string]int) string {
	var parts []string
	for _, s := range api.States {
		if m[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[s], s))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// nounN is n with the noun in its number.
func nounN(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// why is a device's state in a few words: the guard and until when, the
// error and the next retry, who paused it, how many nodes drift.
func why(d api.Device, now time.Time) string {
	switch {
	case d.Paused != nil:
		return fmt.Sprintf("paused by %s: %s", d.Paused.By, d.Paused.Reason)
	case d.Deferral != nil:
		s := fmt.Sprintf("%s: %s", d.Deferral.Guard, d.Deferral.Reason)
		if d.Deferral.Until != nil {
			s += "; until " + d.Deferral.Until.Local().Format("2006-01-02 15:04")
		}
		return s
	case d.State == api.StateDrift:
		return nounN(d.DriftNodes, "node changed by hand", "nodes changed by hand") + " (netrecon devices --daemon ... " + d.Name + ")"
	case d.LastError != "":
		s := d.LastError
		if d.NextRetry != nil {
			s += "; retry " + ago(*d.NextRetry, now)
		}
		return s
	case d.State == api.StatePending:
		return "in sync with " + orDash(short(d.AppliedCommit)) + ", not yet with the target"
	}
	return ""
}

func deviceTable(w io.Writer, devs []api.Device, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tSTATE\tCOMMIT\tWHY")
	for _, d := range devs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Name, d.State, orDash(short(d.AppliedCommit)), why(d, now))
	}
	tw.Flush()
}

// DeviceRow is a device of the intent, with the daemon's view of it when
// one was asked (Live).
type DeviceRow struct {
	Name     string      `json:"name"`
	Platform string      `json:"platform"`
	Address  string      `json:"address"`
	Services int         `json:"services"`
	Live     *api.Device `json:"live,omitempty"`
}

// Devices lists the inventory's devices; with live state, one device's
// nodes too (detail).
func Devices(w io.Writer, format string, rows []DeviceRow, detail bool) error {
	switch format {
	case "json":
		return writeJSONDoc(w, struct {
			FormatVersion string      `json:"format_version"`
			Devices       []DeviceRow `json:"devices"`
		}{FormatVersion, append([]DeviceRow{}, rows...)})
	case "text":
	default:
		return unsupported(format)
	}
	ew := &errWriter{w: w}
	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	live := len(rows) > 0 && rows[0].Live != nil
	if live {
		fmt.Fprintln(tw, "DEVICE\tPLATFORM\tSERVICES\tSTATE\tCOMMIT\tWHY")
	} else {
		fmt.Fprintln(tw, "DEVICE\tPLATFORM\tADDRESS\tSERVICES")
	}
	now := time.Now()
	for _, r := range rows {
		if live && r.Live != nil {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", r.Name, r.Platform, r.Services, r.Live.State, orDash(short(r.Live.AppliedCommit)), why(*r.Live, now))
		} else if live {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t-\tnot known to the daemon\n", r.Name, r.Platform, r.Services, api.StateUnknown)
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", r.Name, r.Platform, r.Address, r.Services)
		}
	}
	tw.Flush()
	if detail {
		for _, r := range rows {
			if r.Live != nil && len(r.Live.Nodes) > 0 {
				fmt.Fprintf(ew, "\n%s differs from the intent on:\n", r.Name)
				nodes(ew, r.Live.Nodes)
			}
		}
	}
	return ew.err
}

func nodes(w io.Writer, ns []api.Node) {
	for _, n := range ns {
		fmt.Fprintf(w, "  %-7s %-6s %s", n.Kind, n.Action, n.Path)
		if len(n.Owners) > 0 {
			fmt.Fprintf(w, "  (%s)", strings.Join(n.Owners, ", "))
		}
		fmt.Fprintln(w)
		if n.Live != nil {
			fmt.Fprintf(w, "          live:    %q\n", *n.Live)
		}
		if n.Desired != nil {
			fmt.Fprintf(w, "          desired: %q\n", *n.Desired)
		}
	}
}

// ServiceRow is a service of the intent, with the daemon's view of it when
// one was asked (Live).
type ServiceRow struct {
	Name     string       `json:"name"`
	Type     string       `json:"type"`
	Customer string       `json:"customer,omitempty"`
	Devices  []string     `json:"devices"`
	Live     *api.Service `json:"live,omitempty"`
}

// Services lists the intent's services.
func Services(w io.Writer, format string, rows []ServiceRow) error {
	switch format {
	case "json":
		return writeJSONDoc(w, struct {
			FormatVersion string       `json:"format_version"`
			Services      []ServiceRow `json:"services"`
		}{FormatVersion, append([]ServiceRow{}, rows...)})
	case "text":
	default:
		return unsupported(format)
	}
	ew := &errWriter{w: w}
	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	live := len(rows) > 0 && rows[0].Live != nil
	if live {
		fmt.Fprintln(tw, "SERVICE\tTYPE\tDEVICES\tSTATE")
	} else {
		fmt.Fprintln(tw, "SERVICE\tTYPE\tCUSTOMER\tDEVICES")
	}
	for _, r := range rows {
		switch {
		case live && r.Live != nil:
			var on []string
			for _, d := range r.Live.Devices {
				on = append(on, d.Device+"="+d.State)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, r.Type, strings.Join(on, ","), r.Live.State)
		case live:
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, r.Type, strings.Join(r.Devices, ","), api.StateUnknown)
		default:
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, r.Type, orDash(r.Customer), strings.Join(r.Devices, ","))
		}
	}
	tw.Flush()
	return ew.err
}
