package backoff

import (
	"math/rand/v2"
	"time"
)

// Policy is capped exponential back-off: Base before the first retry, doubled
// for each one after it, never more than Max.
type Policy struct {
	Base time.Duration
	Max  time.Duration
}

// Delay is the wait before retry number attempt (counting from 1):
// Base·2^(attempt-1), at most Max.
func (p Policy) Delay(attempt int) time.Duration {
	d := p.Base
	for i := 1; i < attempt && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// Jittered is a random wait in [d/2, d] where d = Delay(attempt). The jitter
// keeps the clients hit by one outage, or waiting for one operator's lock,
// from retrying in lock-step.
func (p Policy) Jittered(attempt int) time.Duration {
	d := p.Delay(attempt)
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(half+1)
}
