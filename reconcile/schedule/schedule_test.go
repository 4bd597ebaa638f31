package schedule

import (
	"testing"
	"time"

	"github.com/netrecon/netrecon/schema"
)

func svc(name, file, activate, deactivate string) *schema.Service {
	return &schema.Service{Name: name, Activate: activate, Deactivate: deactivate, Pos: schema.Pos{File: file}}
}

func TestAtAndBoundaries(t *testing.T) {
	in := &schema.Intent{Services: []*schema.Service{
		svc("always", "a.yaml", "", ""),
		svc("later", "b.yaml", "2026-12-05T09:00:00+09:00", ""),
		// The same instant as later's activate, written in another zone.
		svc("ends", "c.yaml", "", "2026-12-05 00:00 UTC"),
		svc("window", "d.yaml", "2026-12-01T00:00:00Z", "2027-01-01 09:00 Asia/Tokyo"),
		svc("held", "e.yaml", "", ""),
	}}
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	gate := func(s *schema.Service) bool { return s.Name == "held" }
	names := func(in *schema.Intent) (out []string) {
		for _, s := range in.Services {
			out = append(out, s.Name)
		}
		return out
	}
	if got := names(At(in, now, gate)); len(got) != 3 || got[0] != "always" || got[1] != "ends" || got[2] != "window" {
		t.Errorf("At(now) = %v, want always, ends, window (held is gated, later not yet)", got)
	}
	bs := Boundaries(in, now)
	if len(bs) != 2 {
		t.Fatalf("boundaries = %+v, want 2", bs)
	}
	if b := bs[0]; len(b.Events) != 2 || b.Events[0].Service != "ends" || b.Events[0].Activate || b.Events[1].Service != "later" || !b.Events[1].Activate ||
		len(b.Files) != 2 || b.At.Format(time.RFC3339) != "2026-12-05T00:00:00Z" {
		t.Errorf("first boundary = %+v, want ends' stop and later's start at one instant", b)
	}
	if next, ok := Next(in, now); !ok || !next.Equal(bs[0].At) {
		t.Errorf("Next = %v %v, want %v", next, ok, bs[0].At)
	}
	at := bs[0].At
	if got := names(At(in, at, nil)); len(got) != 4 || got[1] != "later" {
		t.Errorf("At(boundary) = %v, want later in and ends out", got)
	}
	if bs[1].At.Location().String() != "Asia/Tokyo" {
		t.Errorf("window's end is shown in %s, want the zone the intent wrote", bs[1].At.Location())
	}
	if _, ok := Next(in, bs[1].At); ok {
		t.Error("a boundary after the last")
	}
	if !Scheduled(in) || Scheduled(&schema.Intent{Services: []*schema.Service{svc("x", "x", "", "")}}) {
		t.Error("Scheduled")
	}
}
