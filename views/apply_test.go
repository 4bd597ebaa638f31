package views

import (
	"testing"
	"time"
)

func TestApplySummarySaysWhatHappened(t *testing.T) {
	dev := func(name, phase string, changes int, committed, fault bool) ApplyDevice {
		return ApplyDevice{Name: name, Phase: phase, Changes: changes, Committed: committed, AtFault: fault}
	}
	for _, tc := range []struct {
		name string
		r    ApplyResult
		want string
	}{
		{"one change, one device", ApplyResult{Outcome: "applied", Elapsed: 42 * time.Millisecond,
			Devices: []ApplyDevice{dev("pe1", "confirmed", 1, true, false)}},
			"applied 1 change on 1 device in 42 ms"},
		{"many", ApplyResult{Outcome: "applied", Elapsed: 1400 * time.Millisecond,
			Devices: []ApplyDevice{dev("pe1", "confirmed", 63, true, false), dev("pe2", "confirmed", 141, true, false)}},
			"applied 204 changes on 2 devices in 1.4 s"},
		{"lock timeout: nothing was committed", ApplyResult{Outcome: "rolled-back", Elapsed: 3 * time.Second,
			Devices: []ApplyDevice{dev("pe1", "cancelled", 2, false, false), dev("pe2", "failed", 3, false, true)}},
			"nothing applied in 3.0 s: 5 changes on 2 devices not committed; failed: pe2"},
		{"one committed, one refused", ApplyResult{Outcome: "rolled-back", Elapsed: 80 * time.Millisecond,
			Devices: []ApplyDevice{dev("pe1", "cancelled", 1, true, false), dev("pe3", "failed", 1, false, true)}},
			"rolled back in 80 ms: 1 change on 1 device committed and rolled back, 1 change on 1 device not committed; failed: pe3"},
		{"stopped", ApplyResult{Outcome: "rolled-back", Stopped: true, Elapsed: 2 * time.Second,
			Devices: []ApplyDevice{dev("pe1", "cancelled", 4, true, false), dev("pe2", "cancelled", 1, false, false)}},
			"stopped before the confirm step in 2.0 s: 4 changes on 1 device committed and rolled back, 1 change on 1 device not committed"},
		{"abandoned", ApplyResult{Outcome: "failed", Abandoned: true, Elapsed: 65 * time.Second,
			Devices: []ApplyDevice{dev("pe1", "cancelled", 4, true, false), dev("pe2", "pending", 1, false, false)}},
			"stopped at once after 1m05s: the run is left unfinished for recovery; unconfirmed commits on pe1 roll back at their confirm-timeout"},
		{"partial", ApplyResult{Outcome: "partial", Elapsed: time.Second,
			Devices: []ApplyDevice{dev("pe1", "confirmed", 2, true, false), dev("pe2", "failed", 1, false, true)}},
			"applied 2 changes on 1 device of 2 devices in 1.0 s; 1 change on 1 device not committed; failed: pe2"},
		{"mixed", ApplyResult{Outcome: "mixed", Elapsed: time.Second,
			Devices: []ApplyDevice{dev("pe1", "mixed", 2, true, false), dev("pe2", "failed", 1, false, true)}},
			"mixed after 1.0 s: pe1 on neither the old nor the new configuration (check by hand); back on the old: pe2; failed: pe2"},
		{"stopped device by device", ApplyResult{Outcome: "partial", Stopped: true, Elapsed: time.Second,
			Devices: []ApplyDevice{dev("pe1", "confirmed", 2, true, false), dev("pe2", "cancelled", 1, false, false)}},
			"stopped: applied 2 changes on 1 device of 2 devices in 1.0 s; 1 change on 1 device not committed"},
		{"none", ApplyResult{Outcome: "no-changes"}, "no changes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ApplySummary(tc.r); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestCountAndDuration(t *testing.T) {
	for n, want := range map[int]string{0: "0 changes", 1: "1 change", 2: "2 changes"} {
		if got := Count(n, "change"); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
	if got := Count(2, "pass"); got != "2 passes" {
		t.Errorf("Count(2, pass) = %q", got)
	}
	for d, want := range map[time.Duration]string{
		300 * time.Microsecond: "<1 ms", 40 * time.Millisecond: "40 ms", 1449 * time.Millisecond: "1.4 s",
		12 * time.Second: "12 s", 125 * time.Second: "2m05s",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%s) = %q, want %q", d, got, want)
		}
	}
}

// A guard's wait is no failure: a deferred apply names the devices held back
// and why, and says nothing changed.
func TestApplySummaryDeferred(t *testing.T) {
	r := ApplyResult{Outcome: "deferred", Elapsed: time.Second, Devices: []ApplyDevice{
		{Name: "pe001", Phase: "skipped", Changes: 1},
		{Name: "pe002", Phase: "skipped", Changes: 2, AtFault: true, Deferred: "operator alice logged in"},
	}}
	got := ApplySummary(r)
	if want := "deferred, nothing changed: held back by a guard: pe002 (operator alice logged in)"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}
