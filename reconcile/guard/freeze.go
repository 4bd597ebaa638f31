package guard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/schema"
)

// MaxRecurringDuration bounds a recurring window; a longer freeze is a one-off
// window with a start and an end.
const MaxRecurringDuration = 7 * 24 * time.Hour

// Window is a freeze window: while it is open, no device is changed. It is
// either one-off (Start and End) or recurring (At, Duration, Location and
// optionally Days). ParseWindow builds one from configuration; Validate checks
// one built by hand.
type Window struct {
	Name string

	// One-off: open from Start (inclusive) to End (exclusive).
	Start, End time.Time

	// Recurring: opens on each of Days (every day when empty) at the wall
	// clock time At in Location, and stays open for Duration of wall-clock
	// time. A window that starts Friday 22:00 for 6h covers Saturday up to
	// 04:00: Days are the days it opens.
	//
	// Duration is counted on the local clock, as a freeze calendar reads:
	// "00:00 for 4h" ends at 04:00 local even on the night the clocks go
	// back (5 hours) or forward (3 hours). A start or end time the clocks
	// skip that day (02:30 when they jump from 02:00 to 03:00) is taken as
	// the first moment the clock shows a later time (03:00); a time the
	// clocks show twice is taken the first time.
	Days     []time.Weekday
	At       Clock
	Duration time.Duration
	Location *time.Location
}

// Clock is a wall clock time of day.
type Clock struct {
	Hour, Minute int
}

// ParseClock reads "HH:MM" (24-hour, 00:00 to 23:59).
func ParseClock(s string) (Clock, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return Clock{}, fmt.Errorf("%q is not a time of day (want HH:MM, 00:00 to 23:59)", s)
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	c := Clock{Hour: hh, Minute: mm}
	if err1 != nil || err2 != nil || !c.valid() {
		return Clock{}, fmt.Errorf("%q is not a time of day (want HH:MM, 00:00 to 23:59)", s)
	}
	return c, nil
}

func (c Clock) valid() bool { return c.Hour >= 0 && c.Hour < 24 && c.Minute >= 0 && c.Minute < 60 }

// String writes "HH:MM".
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", c.Hour, c.Minute) }

// WindowError is a problem with one field of a freeze window's definition.
type WindowError struct {
	Window  string // the window's name, or "#N" (1-based) when it has none
	Field   string // the WindowSpec field (its YAML name)
	Problem string
}

func (e *WindowError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("freeze window %s: %s", e.Window, e.Problem)
	}
	return fmt.Sprintf("freeze window %s: %s: %s", e.Window, e.Field, e.Problem)
}

// OneOff reports whether w is a one-off window.
func (w Window) OneOff() bool { return !w.Start.IsZero() || !w.End.IsZero() }

// Validate reports every problem of w, each a *WindowError, joined.
func (w Window) Validate() error { return joinProblems(w.validate(quoteName(w.Name))) }

func joinProblems(ps []*WindowError) error {
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errors.Join(errs...)
}

func quoteName(name string) string { return strconv.Quote(name) }

func (w Window) validate(id string) []*WindowError {
	var errs []*WindowError
	bad := func(field, format string, args ...any) {
		errs = append(errs, &WindowError{Window: id, Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if w.Name == "" {
		bad("name", "required: deferrals report it")
	}
	recurring := len(w.Days) > 0 || w.At != (Clock{}) || w.Duration != 0 || w.Location != nil
	switch {
	case w.OneOff() && recurring:
		bad("", "either one-off (start, end) or recurring (days, at, duration, timezone), not both")
	case w.OneOff():
		if w.Start.IsZero() {
			bad("start", "required with end")
		}
		if w.End.IsZero() {
			bad("end", "required with start")
		}
		if !w.Start.IsZero() && !w.End.IsZero() && !w.End.After(w.Start) {
			bad("end", "%s is not after start %s", w.End.Format(time.RFC3339), w.Start.Format(time.RFC3339))
		}
	case !recurring:
		bad("", "set start and end for a one-off window, or at, duration and timezone for a recurring one")
	default:
		if !w.At.valid() {
			bad("at", "%02d:%02d is not a time of day", w.At.Hour, w.At.Minute)
		}
		switch {
		case w.Duration <= 0:
			bad("duration", "required and positive, e.g. 4h")
		case w.Duration%time.Minute != 0:
			bad("duration", "%s is not a whole number of minutes", w.Duration)
		case w.Duration > MaxRecurringDuration:
			bad("duration", "%s is longer than a week: use a one-off window with start and end", w.Duration)
		}
		if w.Location == nil {
			bad("timezone", "required for a recurring window, e.g. Asia/Tokyo or UTC")
		}
		for _, d := range w.Days {
			if d < time.Sunday || d > time.Saturday {
				bad("days", "%d is not a weekday", int(d))
			}
		}
	}
	return errs
}

// ActiveAt reports whether w is open at t, and if so when it closes.
func (w Window) ActiveAt(t time.Time) (end time.Time, open bool) {
	if w.OneOff() {
		if !t.Before(w.Start) && t.Before(w.End) {
			return w.End, true
		}
		return time.Time{}, false
	}
	if w.Location == nil || w.Duration <= 0 {
		return time.Time{}, false
	}
	local := t.In(w.Location)
	minutes := int(w.Duration / time.Minute)
	// A window that opened up to Duration ago (plus a day for the local
	// date's offset) may still be open; later openings have not started.
	back := int(w.Duration/(24*time.Hour)) + 1
	y, m, d := local.Date()
	for k := 0; k <= back; k++ {
		day := time.Date(y, m, d-k, 12, 0, 0, 0, w.Location) // noon: never in a DST change
		if len(w.Days) > 0 && !slices.Contains(w.Days, day.Weekday()) {
			continue
		}
		dy, dm, dd := day.Date()
		start := wallTime(dy, dm, dd, w.At.Hour, w.At.Minute, w.Location)
		stop := wallTime(dy, dm, dd, w.At.Hour, w.At.Minute+minutes, w.Location)
		if !t.Before(start) && t.Before(stop) && stop.After(end) {
			end, open = stop, true
		}
	}
	return end, open
}

// wallTime is the first instant at which the clock in loc shows the given
// date and time (normalised as time.Date does, so minute 1500 is the next
// day), or a later time when the clocks skip it.
//
// time.Date leaves the choice for a skipped or doubled time unspecified, so
// the offsets in force before and after are tried explicitly.
func wallTime(y int, mo time.Month, d, h, mi int, loc *time.Location) time.Time {
	// The wall clock as if it were UTC: the instant is this minus the offset.
	naive := time.Date(y, mo, d, h, mi, 0, 0, time.UTC)
	var found time.Time
	var skipped []time.Time // the wall time read with an offset not in force then
	seen := map[int]bool{}
	for _, probe := range []time.Duration{-36 * time.Hour, 36 * time.Hour} {
		_, off := naive.Add(probe).In(loc).Zone()
		if seen[off] {
			continue
		}
		seen[off] = true
		u := naive.Add(-time.Duration(off) * time.Second)
		if _, got := u.In(loc).Zone(); got != off {
			skipped = append(skipped, u)
			continue
		}
		if found.IsZero() || u.Before(found) {
			found = u
		}
	}
	if !found.IsZero() {
		return found.In(loc)
	}
	if len(skipped) != 2 {
		return time.Date(y, mo, d, h, mi, 0, 0, loc)
	}
	lo, hi := skipped[0], skipped[1]
	if hi.Before(lo) {
		lo, hi = hi, lo
	}
	// The clocks skip this time: find the change, the first instant in
	// [lo, hi] whose clock shows the wall time or later.
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2)
		if wallOf(mid.In(loc)).Before(naive) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi.Truncate(time.Second).In(loc)
}

// wallOf is t's local clock reading as if it were UTC.
func wallOf(t time.Time) time.Time {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, mo, d, h, mi, s, t.Nanosecond(), time.UTC)
}

// WindowSpec is a freeze window as configuration writes it. A one-off window:
//
//	name: year-end
//	start: 2026-12-28T00:00:00+09:00
//	end: 2027-01-04T00:00:00+09:00
//
// A recurring one (days omitted: every day):
//
//	name: tokyo-evening
//	days: [mon, tue, wed, thu, fri]
//	at: "18:00"
//	duration: 4h
//	timezone: Asia/Tokyo
type WindowSpec struct {
	Name     string   `yaml:"name" json:"name"`
	Start    string   `yaml:"start,omitempty" json:"start,omitempty"`
	End      string   `yaml:"end,omitempty" json:"end,omitempty"`
	Days     []string `yaml:"days,omitempty" json:"days,omitempty"`
	At       string   `yaml:"at,omitempty" json:"at,omitempty"`
	Duration string   `yaml:"duration,omitempty" json:"duration,omitempty"`
	Timezone string   `yaml:"timezone,omitempty" json:"timezone,omitempty"`
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseWindow checks spec and builds its Window. The error joins every
// problem, each a *WindowError naming the field.
func ParseWindow(spec WindowSpec) (Window, error) {
	id := quoteName(spec.Name)
	if spec.Name == "" {
		id = "(unnamed)"
	}
	var errs []*WindowError
	bad := func(field, format string, args ...any) {
		errs = append(errs, &WindowError{Window: id, Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	w := Window{Name: spec.Name}
	oneOff := spec.Start != "" || spec.End != ""
	recurring := len(spec.Days) > 0 || spec.At != "" || spec.Duration != "" || spec.Timezone != ""
	switch {
	case oneOff && recurring:
		bad("", "either one-off (start, end) or recurring (days, at, duration, timezone), not both; a one-off time carries its own offset")
	case oneOff:
		for _, f := range []struct {
			field, value string
			dst          *time.Time
		}{{"start", spec.Start, &w.Start}, {"end", spec.End, &w.End}} {
			if f.value == "" {
				continue // Validate reports it
			}
			t, err := time.Parse(time.RFC3339, f.value)
			if err != nil {
				bad(f.field, "%q is not an RFC 3339 time (want e.g. 2026-12-28T00:00:00+09:00)", f.value)
				continue
			}
			*f.dst = t
		}
	case recurring:
		for _, s := range spec.Days {
			d, ok := weekdays[strings.ToLower(strings.TrimSpace(s))]
			if !ok {
				bad("days", "%q is not a day (want one of sun, mon, tue, wed, thu, fri, sat)", s)
				continue
			}
			if !slices.Contains(w.Days, d) {
				w.Days = append(w.Days, d)
			}
		}
		if spec.At == "" {
			bad("at", "required for a recurring window, e.g. \"22:00\"")
		} else if c, err := ParseClock(spec.At); err != nil {
			bad("at", "%v", err)
		} else {
			w.At = c
		}
		if spec.Duration != "" {
			d, err := time.ParseDuration(spec.Duration)
			if err != nil {
				bad("duration", "%q is not a duration (want e.g. 4h or 90m)", spec.Duration)
			} else {
				w.Duration = d
			}
		}
		if spec.Timezone != "" {
			loc, err := time.LoadLocation(spec.Timezone)
			if err != nil {
				bad("timezone", "%q is not a known time zone (want an IANA name such as Asia/Tokyo, or UTC)", spec.Timezone)
			} else {
				w.Location = loc
			}
		}
	}
	// The checks of the parsed window add what parsing could not see (a
	// missing field, an end before the start); a field already reported
	// is not reported twice.
	for _, p := range w.validate(id) {
		if !slices.ContainsFunc(errs, func(e *WindowError) bool { return e.Field == p.Field }) {
			errs = append(errs, p)
		}
	}
	if len(errs) > 0 {
		return Window{}, joinProblems(errs)
	}
	return w, nil
}

// ParseWindows parses every spec and checks that names are unique; the error
// joins every problem of every window.
func ParseWindows(specs []WindowSpec) ([]Window, error) {
	var errs []error
	out := make([]Window, 0, len(specs))
	seen := map[string]bool{}
	for _, s := range specs {
		w, err := ParseWindow(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[w.Name] {
			errs = append(errs, &WindowError{Window: quoteName(w.Name), Field: "name", Problem: "defined twice"})
		}
		seen[w.Name] = true
		out = append(out, w)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// FreezeWindows defers every device while one of windows is open, with
// RetryAfter the time until it closes (until the last of overlapping or
// back-to-back windows closes). now is the clock (nil: time.Now).
func FreezeWindows(windows []Window, now func() time.Time) (Guard, error) {
	var errs []error
	ws := make([]Window, len(windows))
	for i, w := range windows {
		if err := w.Validate(); err != nil {
			errs = append(errs, err)
		}
		w.Days = slices.Clone(w.Days)
		ws[i] = w
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if now == nil {
		now = time.Now
	}
	return Func(func(_ context.Context, dev *schema.Device, _ reconcile.Monitor) error {
		if dev == nil {
			return errNoDevice(NameFreezeWindow)
		}
		t := now()
		first, firstEnd, open := openWindow(ws, t)
		if !open {
			return nil
		}
		// Follow overlapping and back-to-back windows to the moment the
		// freeze really ends; bounded, as windows could chain for ever.
		end := firstEnd
		for range 64 {
			_, next, ok := openWindow(ws, end)
			if !ok {
				break
			}
			end = next
		}
		loc := first.Location
		if loc == nil {
			loc = firstEnd.Location()
		}
		return &DeferredError{
			Guard: NameFreezeWindow, Device: dev.Name,
			Reason:     fmt.Sprintf("freeze window %q open until %s", first.Name, end.In(loc).Format("2006-01-02 15:04 MST")),
			RetryAfter: end.Sub(t),
		}
	}), nil
}

// openWindow returns the open window at t that closes last.
func openWindow(ws []Window, t time.Time) (Window, time.Time, bool) {
	var best Window
	var bestEnd time.Time
	open := false
	for _, w := range ws {
		if end, ok := w.ActiveAt(t); ok && (!open || end.After(bestEnd)) {
			best, bestEnd, open = w, end, true
		}
	}
	return best, bestEnd, open
}
