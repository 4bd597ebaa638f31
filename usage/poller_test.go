package usage

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// scripted answers Table from a function and counts the calls; it stands
// in for an agent where a test needs failures or a clock the lab cannot give.
type scripted struct {
	mu     sync.Mutex
	calls  int
	answer func(call int) (Table, error)
}

func (s *scripted) Table(_ context.Context, _ string, _, _ []string) (Table, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	return s.answer(s.calls)
}

func u64(n uint64) *uint64 { return &n }
func str(s string) *string { return &s }

func ifTable(in uint64) Table {
	return Table{Requests: 1, Scalars: map[string]Value{".1.3.6.1.2.1.25.1.5.0": {Type: "Gauge32", Uint: u64(0)}},
		Rows: map[string]map[string]Value{"7": {OIDIfName: {Text: str("ge-0/0/1.143")}, OIDIfHCInOctets: {Uint: u64(in)},
			OIDIfHCOutOctets: {Uint: u64(2 * in)}, OIDIfOperStatus: {Uint: u64(1)}}}}
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestPollerIntervalFailuresAndTheGuard(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)}
	fail := false
	r := &scripted{answer: func(call int) (Table, error) {
		if fail {
			return Table{Requests: 1}, errors.New("request timeout")
		}
		return ifTable(uint64(100 * call)), nil
	}}
	set, err := NewSet(SetOptions{Reader: r, Scalars: []string{".1.3.6.1.2.1.25.1.5.0"}, Interval: func(string) time.Duration { return time.Minute }, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	col := NewCollector(set, nil)
	col.SetServices([]Service{{Name: "a", Customer: "acme", Device: "pe1", Target: "pe1:161", IfName: "ge-0/0/1.143"},
		{Name: "b", Customer: "acme", Device: "pe1", Target: "pe1:161", IfName: "xe-9/9/9"}})
	for range 5 {
		col.PollOnce(ctx)
		if _, err := set.Read(ctx, "pe1:161", ".1.3.6.1.2.1.25.1.5.0"); err != nil {
			t.Fatalf("guard read: %v", err)
		}
	}
	if r.calls != 1 {
		t.Fatalf("%d reads of pe1 within its interval; want 1", r.calls)
	}
	if s, _ := col.Sample("a"); s.InOctets != 100 || s.OutOctets != 200 || !s.OperUp {
		t.Errorf("a: %+v", s)
	}
	if s, _ := col.Sample("b"); s.Err == "" {
		t.Errorf("b (no such interface): %+v", s)
	}
	// Due again: one more read. A failure is kept as long as an answer.
	clk.t = clk.t.Add(time.Minute)
	fail = true
	col.PollOnce(ctx)
	col.PollOnce(ctx)
	if _, err := set.Read(ctx, "pe1:161", ".1.3.6.1.2.1.25.1.5.0"); err == nil {
		t.Error("the guard got an answer from a failed poll")
	}
	if r.calls != 2 {
		t.Errorf("%d reads after a failure within the interval; want 2", r.calls)
	}
	if s, _ := col.Sample("a"); s.InOctets != 100 {
		t.Errorf("a after a failed poll keeps its last reading: %+v", s)
	}
	// A device the guard checks without services gets a poller too.
	fail = false
	if _, err := set.Read(ctx, "pe2:161", ".1.3.6.1.2.1.25.1.5.0"); err != nil || r.calls != 3 {
		t.Errorf("guard on a device without services: %v, %d reads", err, r.calls)
	}
	if _, err := set.Read(ctx, "pe2:161", ".1.3.6.1.3.0"); err == nil {
		t.Error("an OID the poller does not read: no error")
	}
	// Removed services lose their samples.
	col.SetServices(nil)
	if _, ok := col.Sample("a"); ok {
		t.Error("a removed service keeps its sample")
	}
}
