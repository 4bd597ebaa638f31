package guard

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("time zone %s: %v (tzdata missing?)", name, err)
	}
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err) // test data written here
	}
	return t
}

func mustParse(t *testing.T, spec WindowSpec) Window {
	t.Helper()
	w, err := ParseWindow(spec)
	if err != nil {
		t.Fatalf("ParseWindow(%+v): %v", spec, err)
	}
	return w
}

// TestFreezeWindows checks the guard at given instants. Recurring windows are
// checked across midnight, on both DST changes of New York in 2026 (Mar 8:
// 02:00 EST → 03:00 EDT; Nov 1: 02:00 EDT → 01:00 EST) and in two time zones
// at the same instant.
func TestFreezeWindows(t *testing.T) {
	late := WindowSpec{Name: "late", Days: []string{"fri"}, At: "22:00", Duration: "6h", Timezone: "UTC"}
	nightNY := WindowSpec{Name: "night-ny", Days: []string{"sun"}, At: "00:00", Duration: "4h", Timezone: "America/New_York"}
	gapNY := WindowSpec{Name: "gap-ny", Days: []string{"sun"}, At: "02:30", Duration: "1h", Timezone: "America/New_York"}
	twiceNY := WindowSpec{Name: "twice-ny", Days: []string{"sun"}, At: "01:30", Duration: "1h", Timezone: "America/New_York"}
	tokyo := WindowSpec{Name: "tokyo-evening", Days: []string{"fri"}, At: "18:00", Duration: "2h", Timezone: "Asia/Tokyo"}
	london := WindowSpec{Name: "london-evening", Days: []string{"fri"}, At: "18:00", Duration: "2h", Timezone: "Europe/London"}
	daily := WindowSpec{Name: "daily", At: "23:30", Duration: "1h", Timezone: "Asia/Tokyo"}
	yearEnd := WindowSpec{Name: "year-end", Start: "2026-12-28T00:00:00+09:00", End: "2027-01-04T00:00:00+09:00"}
	evening := WindowSpec{Name: "evening", At: "22:00", Duration: "2h", Timezone: "UTC"}
	earlyMorning := WindowSpec{Name: "early", At: "00:00", Duration: "3h", Timezone: "UTC"}
	longEvening := WindowSpec{Name: "long-evening", At: "22:00", Duration: "4h", Timezone: "UTC"}
	incident := WindowSpec{Name: "incident", Start: "2026-11-27T23:00:00Z", End: "2026-11-28T05:00:00Z"}

	for _, tc := range []struct {
		name    string
		windows []WindowSpec
		now     string // UTC
		open    string // the window named in the reason; "" when none is open
		retry   time.Duration
		until   string // in the reason
	}{
		{"friday night before", []WindowSpec{late}, "2026-11-27T21:59:00Z", "", 0, ""},
		{"friday night open", []WindowSpec{late}, "2026-11-27T23:00:00Z", "late", 5 * time.Hour, "2026-11-28 04:00 UTC"},
		{"past midnight, saturday", []WindowSpec{late}, "2026-11-28T03:59:00Z", "late", time.Minute, ""},
		{"closes at its end", []WindowSpec{late}, "2026-11-28T04:00:00Z", "", 0, ""},
		{"thursday night is not friday", []WindowSpec{late}, "2026-11-26T23:00:00Z", "", 0, ""},
		{"saturday night", []WindowSpec{late}, "2026-11-28T22:30:00Z", "", 0, ""},
		{"daily past midnight in Tokyo", []WindowSpec{daily}, "2026-11-27T15:15:00Z", "daily", 15 * time.Minute, "2026-11-28 00:30 JST"},

		// Fall back: 00:00 EDT (04:00Z) to 04:00 EST (09:00Z) is 5 hours.
		{"fall back: open in the extra hour", []WindowSpec{nightNY}, "2026-11-01T08:30:00Z", "night-ny", 30 * time.Minute, "2026-11-01 04:00 EST"},
		{"fall back: closes at 04:00 local", []WindowSpec{nightNY}, "2026-11-01T09:00:00Z", "", 0, ""},
		{"fall back: opened at 00:00 EDT", []WindowSpec{nightNY}, "2026-11-01T04:00:00Z", "night-ny", 5 * time.Hour, ""},
		// Spring forward: 00:00 EST (05:00Z) to 04:00 EDT (08:00Z) is 3 hours.
		{"spring forward: open", []WindowSpec{nightNY}, "2026-03-08T07:59:00Z", "night-ny", time.Minute, "2026-03-08 04:00 EDT"},
		{"spring forward: closes at 04:00 local", []WindowSpec{nightNY}, "2026-03-08T08:00:00Z", "", 0, ""},
		// 02:30 does not exist on Mar 8: the window opens when the clocks
		// jump (03:00 EDT, 07:00Z) and closes at 03:30 EDT (07:30Z).
		{"skipped start: before the jump", []WindowSpec{gapNY}, "2026-03-08T06:59:00Z", "", 0, ""},
		{"skipped start: open after the jump", []WindowSpec{gapNY}, "2026-03-08T07:10:00Z", "gap-ny", 20 * time.Minute, "03:30 EDT"},
		{"skipped start: ordinary sunday", []WindowSpec{gapNY}, "2026-03-15T06:45:00Z", "gap-ny", 45 * time.Minute, "03:30 EDT"},
		// 01:30 happens twice on Nov 1: the window opens the first time
		// (01:30 EDT, 05:30Z) and closes at 02:30 EST (07:30Z).
		{"doubled start: open at the first 01:30", []WindowSpec{twiceNY}, "2026-11-01T05:30:00Z", "twice-ny", 2 * time.Hour, ""},
		{"doubled start: still open at the second 01:45", []WindowSpec{twiceNY}, "2026-11-01T06:45:00Z", "twice-ny", 45 * time.Minute, ""},

		// 10:00Z is 19:00 in Tokyo and 10:00 in London.
		{"two zones: Tokyo open", []WindowSpec{tokyo, london}, "2026-11-27T10:00:00Z", "tokyo-evening", time.Hour, "2026-11-27 20:00 JST"},
		{"two zones: London only later", []WindowSpec{london}, "2026-11-27T10:00:00Z", "", 0, ""},
		{"two zones: London open at 18:30Z", []WindowSpec{tokyo, london}, "2026-11-27T18:30:00Z", "london-evening", 90 * time.Minute, "2026-11-27 20:00 GMT"},

		{"one-off before", []WindowSpec{yearEnd}, "2026-12-27T14:59:59Z", "", 0, ""},
		{"one-off open", []WindowSpec{yearEnd}, "2026-12-31T12:00:00Z", "year-end", 3*24*time.Hour + 3*time.Hour, "2027-01-04 00:00 +0900"},
		{"one-off closed at its end", []WindowSpec{yearEnd}, "2027-01-03T15:00:00Z", "", 0, ""},

		{"back-to-back windows: retry after both", []WindowSpec{evening, earlyMorning}, "2026-11-27T23:00:00Z", "evening", 4 * time.Hour, "2026-11-28 03:00 UTC"},
		{"overlapping windows: the later end", []WindowSpec{longEvening, incident}, "2026-11-27T23:00:00Z", "incident", 6 * time.Hour, "2026-11-28 05:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, err := ParseWindows(tc.windows)
			if err != nil {
				t.Fatal(err)
			}
			now := utc(tc.now)
			g, err := FreezeWindows(ws, func() time.Time { return now })
			if err != nil {
				t.Fatal(err)
			}
			err = g.Check(t.Context(), device("pe1"), nil)
			if tc.open == "" {
				if err != nil {
					t.Fatalf("at %s: %v; want no freeze", tc.now, err)
				}
				return
			}
			d := deferredBy(t, err, NameFreezeWindow, `"`+tc.open+`"`, tc.until)
			if d.RetryAfter != tc.retry {
				t.Errorf("RetryAfter = %s; want %s (%s)", d.RetryAfter, tc.retry, d.Reason)
			}
		})
	}
}

func TestParseWindow(t *testing.T) {
	tokyo := mustLoc(t, "Asia/Tokyo")
	w := mustParse(t, WindowSpec{Name: "w", Days: []string{"mon", "FRI", " fri"}, At: "22:05", Duration: "4h30m", Timezone: "Asia/Tokyo"})
	if w.OneOff() || len(w.Days) != 2 || w.Days[0] != time.Monday || w.Days[1] != time.Friday ||
		w.At != (Clock{22, 5}) || w.Duration != 270*time.Minute || w.Location.String() != tokyo.String() {
		t.Errorf("recurring = %+v", w)
	}
	w = mustParse(t, WindowSpec{Name: "o", Start: "2026-12-28T00:00:00+09:00", End: "2027-01-04T00:00:00Z"})
	if !w.OneOff() || !w.Start.Equal(utc("2026-12-27T15:00:00Z")) || !w.End.Equal(utc("2027-01-04T00:00:00Z")) {
		t.Errorf("one-off = %+v", w)
	}

	for _, tc := range []struct {
		name string
		spec WindowSpec
		want []string // each a problem the error must name
	}{
		{"empty", WindowSpec{}, []string{"(unnamed): name: required", "set start and end for a one-off window, or at, duration and timezone"}},
		{"both kinds", WindowSpec{Name: "x", Start: "2026-12-28T00:00:00Z", At: "10:00"}, []string{`"x": either one-off`}},
		{"bad times", WindowSpec{Name: "x", Start: "2026-12-28", End: "tomorrow"}, []string{`start: "2026-12-28" is not an RFC 3339 time`, `end: "tomorrow" is not an RFC 3339 time`}},
		{"end first", WindowSpec{Name: "x", Start: "2026-12-28T00:00:00Z", End: "2026-12-27T00:00:00Z"}, []string{"end: 2026-12-27T00:00:00Z is not after start"}},
		{"only start", WindowSpec{Name: "x", Start: "2026-12-28T00:00:00Z"}, []string{"end: required with start"}},
		{"bad fields", WindowSpec{Name: "x", Days: []string{"funday", "mon"}, At: "25:00", Duration: "4 hours", Timezone: "Mars/Olympus"},
			[]string{`days: "funday" is not a day`, `at: "25:00" is not a time of day`, `duration: "4 hours" is not a duration`, `timezone: "Mars/Olympus" is not a known time zone`}},
		{"short clock", WindowSpec{Name: "x", At: "7:00", Duration: "1h", Timezone: "UTC"}, []string{`at: "7:00" is not a time of day (want HH:MM`}},
		{"missing recurring fields", WindowSpec{Name: "x", Days: []string{"sun"}}, []string{"at: required", "duration: required and positive", "timezone: required for a recurring window"}},
		{"zero duration", WindowSpec{Name: "x", At: "01:00", Duration: "0s", Timezone: "UTC"}, []string{"duration: required and positive"}},
		{"seconds", WindowSpec{Name: "x", At: "01:00", Duration: "90s", Timezone: "UTC"}, []string{"not a whole number of minutes"}},
		{"too long", WindowSpec{Name: "x", At: "01:00", Duration: "200h", Timezone: "UTC"}, []string{"longer than a week: use a one-off window"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseWindow(tc.spec)
			if err == nil {
				t.Fatal("no error")
			}
			var we *WindowError
			if !errors.As(err, &we) {
				t.Errorf("error %v holds no *WindowError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestParseWindowsDuplicate(t *testing.T) {
	s := WindowSpec{Name: "same", At: "01:00", Duration: "1h", Timezone: "UTC"}
	_, err := ParseWindows([]WindowSpec{s, s, {Name: "bad"}})
	if err == nil || !strings.Contains(err.Error(), `"same": name: defined twice`) || !strings.Contains(err.Error(), `"bad"`) {
		t.Errorf("err = %v", err)
	}
}

// TestFreezeWindowsValidates: a hand-built window is checked as a parsed one.
func TestFreezeWindowsValidates(t *testing.T) {
	for _, tc := range []struct {
		name string
		w    Window
		want string
	}{
		{"no location", Window{Name: "a", At: Clock{1, 0}, Duration: time.Hour}, "timezone: required"},
		{"bad clock", Window{Name: "a", At: Clock{24, 0}, Duration: time.Hour, Location: time.UTC}, "at: 24:00 is not a time of day"},
		{"bad weekday", Window{Name: "a", Days: []time.Weekday{7}, Duration: time.Hour, Location: time.UTC}, "days: 7 is not a weekday"},
		{"empty", Window{Name: "a"}, "set start and end"},
		{"no name", Window{Start: utc("2026-01-01T00:00:00Z"), End: utc("2026-01-02T00:00:00Z")}, "name: required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FreezeWindows([]Window{tc.w}, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v; want %q", err, tc.want)
			}
		})
	}
	g, err := FreezeWindows(nil, nil)
	if err != nil || g.Check(t.Context(), device("pe1"), nil) != nil {
		t.Errorf("no windows: %v", err)
	}
}

func TestParseClock(t *testing.T) {
	for in, want := range map[string]string{"00:00": "00:00", "23:59": "23:59", "09:05": "09:05", "24:00": "", "12:60": "", "1200": "", "-1:00": "", "ab:cd": "", "": ""} {
		c, err := ParseClock(in)
		if want == "" {
			if err == nil {
				t.Errorf("ParseClock(%q) = %v; want an error", in, c)
			}
			continue
		}
		if err != nil || c.String() != want {
			t.Errorf("ParseClock(%q) = %v, %v", in, c, err)
		}
	}
}
