package views

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/api"
)

func sampleRun() Run {
	t0 := time.Date(2026, 11, 27, 3, 0, 0, 0, time.Local)
	finished := t0.Add(1400 * time.Millisecond)
	return Run{
		ID: 7, IntentCommit: "9a07aa11bb22cc33dd44ee55ff6677889900aabb", StartedBy: "cli:noc", Atomic: true,
		Plan:      []byte(`{"format_version":"1.0"}`),
		StartedAt: t0, FinishedAt: &finished, Outcome: "rolled-back",
		Summary: "rolled back: pe2-osa rejected the commit",
		Devices: []api.RunDevice{
			{Device: "pe1-tyo", Phase: "cancelled", PersistID: "nr-7-pe1", Transitions: []api.Transition{
				{Phase: "locked", At: t0}, {Phase: "edited", At: t0.Add(20 * time.Millisecond)},
				{Phase: "committed", At: t0.Add(35 * time.Millisecond)}, {Phase: "cancelled", At: t0.Add(900 * time.Millisecond), Detail: "pe2-osa failed"},
			}},
			{Device: "pe2-osa", Phase: "failed", Error: "commit: operation-failed: rejected", Transitions: []api.Transition{
				{Phase: "locked", At: t0}, {Phase: "failed", At: t0.Add(40 * time.Millisecond), Detail: "commit: operation-failed: rejected"},
			}},
		},
	}
}

func TestHistoryText(t *testing.T) {
	var b bytes.Buffer
	if err := History(&b, "text", []Run{sampleRun()}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"RUN", "7", "cli:noc", "9a07aa11bb22", "rolled-back", "2026-11-27 03:00:00"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("history lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	History(&b, "text", nil)
	if !strings.Contains(b.String(), "No runs") {
		t.Error(b.String())
	}
}

func TestRunDetail(t *testing.T) {
	r := sampleRun()
	var b bytes.Buffer
	if err := RunDetail(&b, "text", &r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Run 7: rolled-back", "took           1.4 s", "pe1-tyo: cancelled (persist id nr-7-pe1)", "committed", "865 ms", "pe2-osa failed", "error: commit: operation-failed"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("detail lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if err := RunDetail(&b, "json", &r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		FormatVersion string `json:"format_version"`
		ID            int64
		Plan          map[string]any
		Devices       []struct{ Transitions []struct{ Phase string } }
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.FormatVersion != FormatVersion || doc.ID != 7 || doc.Plan == nil || len(doc.Devices[0].Transitions) != 4 {
		t.Errorf("json detail: %+v", doc)
	}
}

// TestRunDetailMixed: a device a rollback could not bring back is named up
// front, and its phase and nodes show; the run is never called rolled back.
func TestRunDetailMixed(t *testing.T) {
	r := sampleRun()
	r.Outcome, r.Summary = "mixed", "mixed after 1.4 s: pe1-tyo on neither the old nor the new configuration (check by hand); back on the old: pe2-osa; failed: pe2-osa"
	d := &r.Devices[0]
	d.Phase = "mixed"
	d.Transitions = append(d.Transitions, api.Transition{Phase: "mixed", At: *r.FinishedAt,
		Detail: "pe1-tyo: mixed: running is not its configuration before the run after cancel and undo (1 differences; - /interfaces/interface[name=ge-0/0/7])"})
	var b bytes.Buffer
	if err := RunDetail(&b, "text", &r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Run 7: mixed", "MIXED          pe1-tyo: on neither", "pe1-tyo: mixed (persist id", "interface[name=ge-0/0/7]"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("detail lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "rolled") {
		t.Errorf("a mixed run reads as rolled back:\n%s", b.String())
	}
}

// history show shows what the run was about: each device's planned changes
// under its phases.
func TestRunDetailShowsChanges(t *testing.T) {
	r := sampleRun()
	acme := "acme"
	r.Devices[0].Changes = []api.Change{{Action: "create", Path: "/interfaces/interface[name=ge-0/0/1]/description", Owners: []string{"acme-tokyo"}, After: &acme}}
	var b bytes.Buffer
	if err := RunDetail(&b, "text", &r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	want := "  planned: 1 change\n    + /interfaces/interface[name=ge-0/0/1]/description = \"acme\"  # acme-tokyo\n"
	if !strings.Contains(out, want) || strings.Index(out, want) < strings.Index(out, "pe1-tyo: cancelled") {
		t.Errorf("detail lacks pe1-tyo's change under its phases:\n%s", out)
	}
	if strings.Contains(out, "plan is not in the journal") {
		t.Errorf("says the plan is missing:\n%s", out)
	}
}

// A run from a work tree reads "worktree", never a blank commit.
func TestCommitLabel(t *testing.T) {
	for ref, want := range map[string]string{
		"9a07aa11bb22cc33dd44ee55ff6677889900aabb": "9a07aa11bb22",
		"worktree": "worktree",
		"worktree 9a07aa11bb22cc33dd44ee55ff6677889900aabb+dirty": "worktree 9a07aa11bb22+dirty",
		"": "unknown",
	} {
		if got := CommitLabel(ref); got != want {
			t.Errorf("CommitLabel(%q) = %q, want %q", ref, got, want)
		}
	}
	r := sampleRun()
	r.IntentCommit = "worktree"
	var b bytes.Buffer
	History(&b, "text", []Run{r})
	if !strings.Contains(b.String(), "cli:noc  worktree") {
		t.Errorf("history:\n%s", b.String())
	}
}
