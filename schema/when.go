package schema

import (
	"fmt"
	"strings"
	"time"
)

// Window is when a service is configured: from Activate (zero: always was)
// until Deactivate (zero: for good). Each time keeps the zone it was written
// in, so that plans and status show it as the intent says it.
type Window struct {
	Activate   time.Time
	Deactivate time.Time
}

// Active reports whether a service with window w is configured at t: from
// activate on, and no longer from deactivate on.
func (w Window) Active(t time.Time) bool {
	if !w.Activate.IsZero() && t.Before(w.Activate) {
		return false
	}
	return w.Deactivate.IsZero() || t.Before(w.Deactivate)
}

// IsZero reports whether the window is "always".
func (w Window) IsZero() bool { return w.Activate.IsZero() && w.Deactivate.IsZero() }

// Window parses the service's metadata.activate and metadata.deactivate. The
// loader has checked both (checkWindow), so an error here means a Service
// not made by Load.
func (s *Service) Window() (Window, error) {
	var w Window
	var err error
	if s.Activate != "" {
		if w.Activate, err = ParseWhen(s.Activate); err != nil {
			return Window{}, fmt.Errorf("%s: metadata.activate: %w", s.Name, err)
		}
	}
	if s.Deactivate != "" {
		if w.Deactivate, err = ParseWhen(s.Deactivate); err != nil {
			return Window{}, fmt.Errorf("%s: metadata.deactivate: %w", s.Name, err)
		}
	}
	return w, nil
}

// Layouts of a local time followed by an IANA zone name.
var localLayouts = []string{"2006-01-02 15:04", "2006-01-02 15:04:05"}

// ParseWhen parses a moment as the intent writes it: RFC 3339 with an
// offset ("2026-12-05T09:00:00+09:00"), or a local time and an IANA zone
// ("2026-12-05 09:00 Asia/Tokyo"). The zone form follows the zone's rules
// (summer time included); a local time that a clock change skips is taken
// as time.Date normalises it, one that occurs twice as its first occurrence.
func ParseWhen(s string) (time.Time, error) {
	// The RFC 3339 form has its T right after the date; a zone name may hold
	// one anywhere ("Asia/Tokyo").
	if len(s) > 10 && s[10] == 'T' {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time with an offset, such as 2026-12-05T09:00:00+09:00", s)
		}
		return t, nil
	}
	i := strings.LastIndexByte(s, ' ')
	if i < 0 {
		return time.Time{}, fmt.Errorf("%q has no time zone: write 2026-12-05T09:00:00+09:00 or 2026-12-05 09:00 Asia/Tokyo", s)
	}
	local, zone := s[:i], s[i+1:]
	// "Local" would make the intent's meaning depend on the machine reading it.
	if zone == "" || zone == "Local" {
		return time.Time{}, fmt.Errorf("%q: time zone %q: name an IANA zone such as Asia/Tokyo", s, zone)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: unknown time zone %q: name an IANA zone such as Asia/Tokyo or UTC", s, zone)
	}
	for _, layout := range localLayouts {
		if t, err := time.ParseInLocation(layout, local, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q: %q is not a local time such as 2026-12-05 09:00", s, local)
}
