package schedule

import (
	"slices"
	"time"

	"github.com/netrecon/netrecon/schema"
)

// Gate says whether a service waits for something besides its window (its
// open manual steps); nil holds none.
type Gate func(s *schema.Service) (held bool)

// At returns the intent as it is configured at t: the services whose window
// is open at t and that gate does not hold. Devices and types are shared
// with in; a service whose window does not parse (one not made by
// schema.Load) is kept, as the intent wrote it.
func At(in *schema.Intent, t time.Time, gate Gate) *schema.Intent {
	out := *in
	out.Services = make([]*schema.Service, 0, len(in.Services))
	for _, s := range in.Services {
		if Active(s, t) && (gate == nil || !gate(s)) {
			out.Services = append(out.Services, s)
		}
	}
	return &out
}

// Active reports whether the service's window is open at t.
func Active(s *schema.Service, t time.Time) bool {
	w, err := s.Window()
	return err != nil || w.Active(t)
}

// Scheduled reports whether any service of in has a window, that is whether
// its desired state depends on the moment at all.
func Scheduled(in *schema.Intent) bool {
	for _, s := range in.Services {
		if s.Activate != "" || s.Deactivate != "" {
			return true
		}
	}
	return false
}

// Event is one service starting or stopping at a boundary.
type Event struct {
	At       time.Time // in the zone the intent wrote it in
	Service  string
	Activate bool // false: deactivate
}

// Boundary is a moment after which a different set of services is
// configured, with what starts and stops then.
type Boundary struct {
	At     time.Time
	Events []Event // sorted by service
	// Files are the intent files of those services, for a plan that renders
	// only the devices they concern.
	Files []string
}

// Boundaries lists the moments after t (excluded) at which a service of in
// starts or stops, soonest first. Events at one instant written in
// different zones form one boundary, shown in the zone of the first.
func Boundaries(in *schema.Intent, t time.Time) []Boundary {
	var events []Event
	files := map[string]string{}
	for _, s := range in.Services {
		w, err := s.Window()
		if err != nil {
			continue
		}
		files[s.Name] = s.Pos.File
		if !w.Activate.IsZero() && w.Activate.After(t) {
			events = append(events, Event{At: w.Activate, Service: s.Name, Activate: true})
		}
		if !w.Deactivate.IsZero() && w.Deactivate.After(t) {
			events = append(events, Event{At: w.Deactivate, Service: s.Name})
		}
	}
	slices.SortFunc(events, func(a, b Event) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		if a.Service < b.Service {
			return -1
		}
		if a.Service > b.Service {
			return 1
		}
		return 0
	})
	var out []Boundary
	for _, e := range events {
		if n := len(out); n > 0 && out[n-1].At.Equal(e.At) {
			out[n-1].Events = append(out[n-1].Events, e)
		} else {
			out = append(out, Boundary{At: e.At, Events: []Event{e}})
		}
	}
	for i := range out {
		for _, e := range out[i].Events {
			if f := files[e.Service]; f != "" && !slices.Contains(out[i].Files, f) {
				out[i].Files = append(out[i].Files, f)
			}
		}
	}
	return out
}

// Next is the first boundary after t, and whether there is one.
func Next(in *schema.Intent, t time.Time) (time.Time, bool) {
	var next time.Time
	for _, s := range in.Services {
		w, err := s.Window()
		if err != nil {
			continue
		}
		for _, b := range []time.Time{w.Activate, w.Deactivate} {
			if !b.IsZero() && b.After(t) && (next.IsZero() || b.Before(next)) {
				next = b
			}
		}
	}
	return next, !next.IsZero()
}
