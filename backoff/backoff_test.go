package backoff

import (
	"testing"
	"time"
)

func TestDelay(t *testing.T) {
	sec := time.Second
	for _, tc := range []struct {
		name    string
		p       Policy
		attempt int
		want    time.Duration
	}{
		{"first retry waits Base", Policy{sec, 20 * sec}, 1, sec},
		{"attempt 0 is the first", Policy{sec, 20 * sec}, 0, sec},
		{"doubles", Policy{sec, 20 * sec}, 2, 2 * sec},
		{"doubles again", Policy{sec, 20 * sec}, 4, 8 * sec},
		{"capped", Policy{sec, 20 * sec}, 6, 20 * sec},
		{"stays capped without overflow", Policy{sec, 20 * sec}, 1000, 20 * sec},
		{"Base above Max is capped", Policy{30 * sec, 20 * sec}, 1, 20 * sec},
		{"lock back-off", Policy{250 * time.Millisecond, 5 * sec}, 3, sec},
		{"zero policy", Policy{}, 3, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Delay(tc.attempt); got != tc.want {
				t.Errorf("Delay(%d) = %v, want %v", tc.attempt, got, tc.want)
			}
		})
	}
}

func TestJitteredStaysInHalfToFull(t *testing.T) {
	p := Policy{Base: time.Second, Max: 20 * time.Second}
	for attempt := 1; attempt <= 8; attempt++ {
		d := p.Delay(attempt)
		seen := map[time.Duration]bool{}
		for range 200 {
			got := p.Jittered(attempt)
			if got < d/2 || got > d {
				t.Fatalf("Jittered(%d) = %v, want within [%v, %v]", attempt, got, d/2, d)
			}
			seen[got] = true
		}
		if len(seen) < 2 {
			t.Errorf("Jittered(%d) drew %d distinct values in 200 tries; want jitter", attempt, len(seen))
		}
	}
	if got := (Policy{Base: 1, Max: 1}).Jittered(1); got != 1 {
		t.Errorf("a 1ns delay jittered to %v; want it kept", got)
	}
}
