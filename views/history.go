package views

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/netrecon/netrecon/api"
)

// HistoryFormats are the formats of `netrecon history`.
var HistoryFormats = []string{"text", "json"}

// Run is one apply as history shows it: the daemon API's document
// (api.Run), so that a run reads the same from the daemon and from the state
// folder; cmd fills it from the journal, with what only the state folder's
// owner may read (persist ids, transition details, the plan).
type Run = api.Run

func toJSONRun(r Run, withPlan bool) Run {
	if r.FinishedAt != nil {
		r.Seconds = r.FinishedAt.Sub(r.StartedAt).Seconds()
	}
	if r.Devices == nil {
		r.Devices = []api.RunDevice{}
	}
	if !withPlan || !json.Valid(r.Plan) {
		r.Plan = nil
	}
	return r
}

// History lists runs, newest first, as the journal returns them.
func History(w io.Writer, format string, runs []Run) error {
	switch format {
	case "json":
		doc := struct {
			FormatVersion string `json:"format_version"`
			Runs          []Run  `json:"runs"`
		}{FormatVersion: FormatVersion, Runs: []Run{}}
		for _, r := range runs {
			doc.Runs = append(doc.Runs, toJSONRun(r, false))
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	case "text":
		if len(runs) == 0 {
			_, err := fmt.Fprintln(w, "No runs recorded yet.")
			return err
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "RUN\tSTARTED\tBY\tCOMMIT\tDEVICES\tOUTCOME\tSUMMARY")
		for _, r := range runs {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", r.ID, r.StartedAt.Local().Format("2006-01-02 15:04:05"),
				r.StartedBy, CommitLabel(r.IntentCommit), len(r.Devices), r.Outcome, r.Summary)
		}
		return tw.Flush()
	}
	return fmt.Errorf("output format %q is not supported. Supported formats are %q", format, HistoryFormats)
}

// RunDetail shows one run: its outcome, and per device the phases it went
// through with the time each took.
func RunDetail(w io.Writer, format string, r *Run) error {
	switch format {
	case "json":
		doc := struct {
			FormatVersion string `json:"format_version"`
			Run
		}{FormatVersion, toJSONRun(*r, true)}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	case "text":
	default:
		return fmt.Errorf("output format %q is not supported. Supported formats are %q", format, HistoryFormats)
	}
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "Run %d: %s\n", r.ID, r.Outcome)
	fmt.Fprintf(ew, "  intent commit  %s\n", cmp.Or(r.IntentCommit, "unknown"))
	fmt.Fprintf(ew, "  started by     %s\n", r.StartedBy)
	fmt.Fprintf(ew, "  started        %s\n", r.StartedAt.Local().Format(time.RFC3339))
	if r.FinishedAt != nil {
		fmt.Fprintf(ew, "  took           %s\n", Duration(r.FinishedAt.Sub(r.StartedAt)))
	}
	mode := "atomic (all devices or none)"
	if !r.Atomic {
		mode = "device by device"
	}
	fmt.Fprintf(ew, "  mode           %s\n", mode)
	if r.Summary != "" {
		fmt.Fprintf(ew, "  summary        %s\n", r.Summary)
	}
	// A device left on neither side is the one thing in a run a reader must
	// not miss: named up front, never folded into "rolled back".
	var mixed []string
	for _, d := range r.Devices {
		if d.Phase == "mixed" { // journal.PhaseMixed
			mixed = append(mixed, d.Device)
		}
	}
	if len(mixed) > 0 {
		fmt.Fprintf(ew, "  MIXED          %s: on neither the old nor the new configuration; check by hand (nodes below)\n", strings.Join(mixed, ", "))
	}
	for _, d := range r.Devices {
		fmt.Fprintf(ew, "\n%s: %s", d.Device, d.Phase)
		if d.PersistID != "" {
			fmt.Fprintf(ew, " (persist id %s)", d.PersistID)
		}
		fmt.Fprintln(ew)
		if d.Error != "" {
			fmt.Fprintf(ew, "  error: %s\n", d.Error)
		}
		for i, t := range d.Transitions {
			took := ""
			if i+1 < len(d.Transitions) {
				took = Duration(d.Transitions[i+1].At.Sub(t.At))
			}
			line := fmt.Sprintf("  %-10s %s %8s", t.Phase, t.At.Local().Format("15:04:05.000"), took)
			if t.Detail != "" {
				line += "  " + t.Detail
			}
			fmt.Fprintln(ew, line)
		}
		runChanges(ew, d.Changes, len(r.Plan) > 0)
	}
	if len(r.Plan) == 0 && len(r.Devices) > 0 {
		fmt.Fprintln(ew, "\n(The run's plan is not in the journal: its changes cannot be shown.)")
	}
	return ew.err
}

// runChanges lists the changes the run's plan had for a device (havePlan:
// the run holds a plan), as plan shows them, secret values redacted: what
// the phases above were about.
func runChanges(w io.Writer, changes []api.Change, havePlan bool) {
	if !havePlan {
		return
	}
	fmt.Fprintf(w, "  planned: %s\n", Count(len(changes), "change"))
	for _, c := range changes {
		fmt.Fprintf(w, "    %s\n", runChangeLine(c))
	}
}

// runChangeLine is a planned change as PlanHuman's changeLine words it,
// from the API's form (a leaf has a value on the side it exists).
func runChangeLine(c api.Change) string {
	owners := ""
	if len(c.Owners) > 0 {
		owners = "  # " + strings.Join(c.Owners, ", ")
	}
	switch c.Action {
	case "create":
		return "+ " + c.Path + leafPtr(c.After) + owners
	case "update":
		return fmt.Sprintf("~ %s: %s → %s", c.Path, quote(deref(c.Before)), quote(deref(c.After))) + owners
	}
	return "- " + c.Path + leafPtr(c.Before) + owners
}

func leafPtr(v *string) string { return leafValue(v != nil, deref(v)) }

func deref(v *string) string {
	if v == nil {
		return ""
	}
	return *v
}

// CommitLabel is a run's intent commit for a table: a commit shortened; a
// run from a work tree as "worktree", with its HEAD commit and "+dirty" when
// its intent files differed from it (cmd records "worktree COMMIT+dirty").
// A run that recorded nothing says "unknown", never a blank.
func CommitLabel(ref string) string {
	switch {
	case ref == "":
		return "unknown"
	case strings.HasPrefix(ref, "worktree "):
		commit, dirty := strings.CutSuffix(strings.TrimPrefix(ref, "worktree "), "+dirty")
		if dirty {
			return "worktree " + short(commit) + "+dirty"
		}
		return "worktree " + short(commit)
	}
	return short(ref)
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
