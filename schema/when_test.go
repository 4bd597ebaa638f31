package schema

import (
	"strings"
	"testing"
	"time"
)

func scheduled(activate, deactivate string) string {
	s := "apiVersion: netrecon.io/v1\nkind: attachment-circuit\nmetadata:\n  name: sched-1\n  customer: acme\n"
	if activate != "" {
		s += "  activate: " + activate + "\n"
	}
	if deactivate != "" {
		s += "  deactivate: " + deactivate + "\n"
	}
	return s + "spec:\n  device: pe2-tyo\n  interface: ge-0/0/7\n  vlan: 707\n  ipv4: 192.0.2.201/30\n"
}

func TestWindowLoads(t *testing.T) {
	in, diags := Load(validPlus(t, map[string]string{
		"services/zz/sched.yaml": scheduled("2026-12-05T09:00:00+09:00", `"2027-01-31 18:30 Asia/Tokyo"`),
	}), Options{})
	if diags.HasErrors() {
		t.Fatalf("want valid; got:\n%s", diagText(diags))
	}
	var s *Service
	for _, x := range in.Services {
		if x.Name == "sched-1" {
			s = x
		}
	}
	w, err := s.Window()
	if err != nil {
		t.Fatal(err)
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	if want := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC); !w.Activate.Equal(want) {
		t.Errorf("activate = %v, want %v", w.Activate, want)
	}
	if want := time.Date(2027, 1, 31, 18, 30, 0, 0, tokyo); !w.Deactivate.Equal(want) || w.Deactivate.Location().String() != "Asia/Tokyo" {
		t.Errorf("deactivate = %v, want %v in Asia/Tokyo", w.Deactivate, want)
	}
	if w.Active(w.Activate.Add(-time.Nanosecond)) || !w.Active(w.Activate) || w.Active(w.Deactivate) {
		t.Error("the window must run from activate (included) to deactivate (excluded)")
	}
}

func TestWindowErrors(t *testing.T) {
	tests := []struct{ name, activate, deactivate, field, text string }{
		{"no-zone", "2026-12-05T09:00:00", "", "metadata.activate", "must be a time with its zone"},
		{"bad-form", "tomorrow", "", "metadata.activate", "must be a time with its zone"},
		{"unknown-zone", `"2026-12-05 09:00 Asia/Tokio"`, "", "metadata.activate", `unknown time zone "Asia/Tokio"`},
		{"local-zone", "", `"2026-12-05 09:00 Local"`, "metadata.deactivate", `time zone "Local"`},
		{"bad-date", "2026-13-05T09:00:00+09:00", "", "metadata.activate", "not an RFC 3339 time"},
		{"order", "2026-12-05T09:00:00+09:00", `"2026-12-05 08:59 Asia/Tokyo"`, "metadata.deactivate", "must be after activate"},
		{"equal", "2026-12-05T00:00:00Z", `"2026-12-05 09:00 Asia/Tokyo"`, "metadata.deactivate", "must be after activate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := Load(validPlus(t, map[string]string{"services/zz/sched.yaml": scheduled(tt.activate, tt.deactivate)}), Options{})
			checkDiags(t, diags)
			for _, d := range diags {
				if d.Pos.File == "services/zz/sched.yaml" && d.Field == tt.field && d.Pos.Line > 3 && strings.Contains(d.Summary, tt.text) {
					return
				}
			}
			t.Fatalf("want an error at %s containing %q; got:\n%s", tt.field, tt.text, diagText(diags))
		})
	}
}

// FuzzParseWhen: any string is a time or an error, never a panic, and a
// time parsed from the RFC 3339 form prints back to the same instant.
func FuzzParseWhen(f *testing.F) {
	for _, s := range []string{"2026-12-05T09:00:00+09:00", "2026-12-05 09:00 Asia/Tokyo", "2026-12-05 09:00:30 UTC", "x y", "T", "2026-03-29 02:30 Europe/Berlin"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseWhen(s)
		if err != nil {
			return
		}
		if len(s) > 10 && s[10] == 'T' {
			back, err := ParseWhen(tm.Format(time.RFC3339Nano))
			if err != nil || !back.Equal(tm) {
				t.Fatalf("%q: parsed %v, which does not parse back (%v)", s, tm, err)
			}
		}
	})
}
