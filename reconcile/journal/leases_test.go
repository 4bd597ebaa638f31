package journal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/netrecon/netrecon/reconcile/ownership"
)

// waitExpired polls until l's lease is no longer among the live replicas, by
// the database's clock.
func waitExpired(t *testing.T, j *Journal, l Lease) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		rs, err := j.Replicas(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(rs, func(r Lease) bool { return r.Token == l.Token }) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lease %+v still live after 30s", l)
		}
		time.Sleep(20 * time.Millisecond) // polling the database's clock, not waiting for an event of ours
	}
}

func mustAcquire(t *testing.T, j *Journal, replica string, ttl time.Duration) Lease {
	t.Helper()
	l, err := j.AcquireLease(context.Background(), replica, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLeaseTokensGrow(t *testing.T) { eachBackend(t, testLeaseTokensGrow) }

func testLeaseTokensGrow(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t)
	a := mustAcquire(t, j, "a", time.Minute)
	b := mustAcquire(t, j, "b", time.Minute)
	a2 := mustAcquire(t, j, "a", time.Minute)
	if !(a.Token < b.Token && b.Token < a2.Token) {
		t.Errorf("tokens %d, %d, %d: want each new epoch above the last", a.Token, b.Token, a2.Token)
	}
	if !a.Expires.After(a.Acquired) {
		t.Errorf("lease %+v expires before it begins", a)
	}
	rs, err := j.Replicas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Replica != "b" || rs[1].Replica != "a" || rs[1].Token != a2.Token {
		t.Errorf("Replicas = %+v, want b (the oldest epoch, leader) then a's new epoch", rs)
	}
	// The old epoch of a is fenced out, though its replica id is current.
	if _, err := j.RenewLease(ctx, a, time.Minute); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("renew of a replaced epoch: %v, want ErrLeaseLost", err)
	}
	if err := j.Fenced(a).SetState(ctx, "k", "v"); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("write with a replaced epoch: %v, want ErrLeaseLost", err)
	}
	if err := j.Fenced(a2).SetState(ctx, "k", "v"); err != nil {
		t.Errorf("write with the current epoch: %v", err)
	}
	if err := j.ReleaseLease(ctx, b); err != nil {
		t.Fatal(err)
	}
	if rs, _ := j.Replicas(ctx); len(rs) != 1 || rs[0].Replica != "a" {
		t.Errorf("after b released: Replicas = %+v, want a alone", rs)
	}
}

// A replica owns only the devices no live lease holds; its writes for any
// other device, and every write once its lease expired, are refused by the
// database, and record nothing.
func TestFencing(t *testing.T) { eachBackend(t, testFencing) }

func testFencing(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t)
	a := mustAcquire(t, j, "a", 700*time.Millisecond)
	b := mustAcquire(t, j, "b", time.Minute)
	if got, err := j.ClaimDevices(ctx, a, []string{"pe1", "pe2"}); err != nil || !slices.Equal(got, []string{"pe1", "pe2"}) {
		t.Fatalf("a claims pe1, pe2: %v, %v", got, err)
	}
	if got, err := j.ClaimDevices(ctx, b, []string{"pe2", "pe3"}); err != nil || !slices.Equal(got, []string{"pe3"}) {
		t.Fatalf("b claims pe2, pe3: %v, %v; want pe3 only (a holds pe2)", got, err)
	}
	ja, jb := j.Fenced(a), j.Fenced(b)
	id, err := ja.BeginRun(ctx, Run{StartedBy: "a"}, []string{"pe1", "pe2"})
	if err != nil {
		t.Fatalf("a begins a run on its devices: %v", err)
	}
	mustEnter(t, ja, id, "pe1", Locked, "", "")
	var fe *FencedError
	if _, err := jb.BeginRun(ctx, Run{StartedBy: "b"}, []string{"pe2", "pe3"}); !errors.As(err, &fe) || !slices.Equal(fe.Devices, []string{"pe2"}) {
		t.Errorf("b begins a run on a's pe2: %v, want a *FencedError naming pe2", err)
	}
	if err := jb.SetDeviceStates(ctx, []DeviceState{{Device: "pe1", State: "in-sync"}}); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("b writes pe1's state: %v, want ErrLeaseLost", err)
	}

	waitExpired(t, j, a) // a is paused past its lease
	for name, write := range map[string]func() error{
		"phase":     func() error { return ja.EnterPhase(ctx, id, "pe1", Edited, "", "") },
		"finish":    func() error { return ja.FinishRun(ctx, id, Failed, "") },
		"state":     func() error { return ja.SetDeviceStates(ctx, []DeviceState{{Device: "pe1", State: "in-sync"}}) },
		"ownership": func() error { return ja.SetOwnership(ctx, "pe1", ownership.Record{}, "c1") },
		"alarm": func() error {
			_, err := ja.RaiseAlarm(ctx, Alarm{Kind: "k", Device: "pe1", Since: time.Now()})
			return err
		},
		"renew": func() error { _, err := ja.RenewLease(ctx, a, time.Minute); return err },
		"claim": func() error { _, err := ja.ClaimDevices(ctx, a, []string{"pe9"}); return err },
	} {
		if err := write(); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("%s after a's lease expired: %v, want ErrLeaseLost", name, err)
		}
	}
	// b takes a's devices over and settles the run a left.
	if got, err := j.ClaimDevices(ctx, b, []string{"pe1", "pe2"}); err != nil || !slices.Equal(got, []string{"pe1", "pe2"}) {
		t.Fatalf("b takes over pe1, pe2: %v, %v", got, err)
	}
	mustEnter(t, jb, id, "pe1", Cancelled, "", "recovered")
	if err := jb.FinishRun(ctx, id, Recovered, ""); err != nil {
		t.Fatal(err)
	}
	r, err := j.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var writers []string
	for _, tr := range r.Devices[0].Transitions {
		writers = append(writers, fmt.Sprintf("%s:%d", tr.Phase, tr.Writer))
	}
	want := []string{fmt.Sprintf("pending:%d", a.Token), fmt.Sprintf("locked:%d", a.Token), fmt.Sprintf("cancelled:%d", b.Token)}
	if !slices.Equal(writers, want) {
		t.Errorf("pe1's transitions %v, want %v: nothing of a's after its lease", writers, want)
	}
	owners, err := j.DeviceOwners(ctx)
	if err != nil || owners["pe1"].Token != b.Token || owners["pe3"].Token != b.Token {
		t.Errorf("DeviceOwners = %+v, %v", owners, err)
	}
}

// The single-process journal is not fenced: its transitions carry writer 0.
func TestUnfencedWriter(t *testing.T) { eachBackend(t, testUnfencedWriter) }

func testUnfencedWriter(t *testing.T, be backend) {
	j, _ := be.open(t)
	if _, ok := j.Lease(); ok {
		t.Error("a journal opened alone reports a lease")
	}
	id := mustBegin(t, j, Run{}, "pe1")
	mustEnter(t, j, id, "pe1", Locked, "", "")
	r, err := j.Run(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range r.Devices[0].Transitions {
		if tr.Writer != 0 {
			t.Errorf("transition %+v: writer %d, want 0", tr, tr.Writer)
		}
	}
}

// Replicas that start together on a new database migrate it once: the
// advisory lock makes the others wait, then find the schema there.
func TestPostgresMigratesOnce(t *testing.T) {
	dsn := createTempDatabase(t)
	const n = 5
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j, err := Open(context.Background(), dsn)
			if err == nil {
				err = j.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
	var rows int
	if err := rawDB(t, dsn).QueryRow(`SELECT COUNT(*) FROM schema_version`).Scan(&rows); err != nil || rows != SchemaVersion() {
		t.Errorf("schema_version has %d rows (%v), want %d: each migration once", rows, err, SchemaVersion())
	}
}

// A replica's journal follows its keeper's lease: no write while it holds
// none, and Unfinished lists only the runs whose devices it owns, so that a
// replica never recovers a run another replica is applying.
func TestFencedByKeeper(t *testing.T) { eachBackend(t, testFencedByKeeper) }

func testFencedByKeeper(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t)
	a := mustAcquire(t, j, "a", time.Minute)
	b := mustAcquire(t, j, "b", time.Minute)
	var mu sync.Mutex
	current, held := a, true
	ja := j.FencedBy(func() (Lease, bool) {
		mu.Lock()
		defer mu.Unlock()
		return current, held
	})
	jb := j.Fenced(b)
	if _, err := j.ClaimDevices(ctx, a, []string{"pe1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.ClaimDevices(ctx, b, []string{"pe2"}); err != nil {
		t.Fatal(err)
	}
	mine, err := ja.BeginRun(ctx, Run{}, []string{"pe1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jb.BeginRun(ctx, Run{}, []string{"pe2"}); err != nil {
		t.Fatal(err)
	}
	runs, err := ja.Unfinished(ctx)
	if err != nil || len(runs) != 1 || runs[0].ID != mine {
		t.Errorf("a's Unfinished = %+v, %v; want its own run %d only", runs, err, mine)
	}
	if all, _ := j.Unfinished(ctx); len(all) != 2 {
		t.Errorf("the unfenced journal lists %d unfinished runs, want 2", len(all))
	}
	mu.Lock()
	held = false
	mu.Unlock()
	if err := ja.EnterPhase(ctx, mine, "pe1", Locked, "", ""); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("write while the keeper holds no lease: %v, want ErrLeaseLost", err)
	}
	// A new epoch must claim its devices again before it writes for them.
	a2 := mustAcquire(t, j, "a", time.Minute)
	mu.Lock()
	current, held = a2, true
	mu.Unlock()
	if err := ja.EnterPhase(ctx, mine, "pe1", Locked, "", ""); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("write of a new epoch before it claimed pe1: %v, want ErrLeaseLost", err)
	}
	if _, err := j.ClaimDevices(ctx, a2, []string{"pe1"}); err != nil {
		t.Fatal(err)
	}
	mustEnter(t, ja, mine, "pe1", Locked, "", "")
}

// Stats counts what the journal asks of its database; a fenced write costs
// its lease check on top.
func TestStats(t *testing.T) { eachBackend(t, testStats) }

func testStats(t *testing.T, be backend) {
	ctx := context.Background()
	j, _ := be.open(t)
	s0 := j.Stats()
	if err := j.SetState(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	s1 := j.Stats()
	if s1.Transactions != s0.Transactions+1 || s1.Statements != s0.Statements+1 {
		t.Errorf("one unfenced write: %+v then %+v, want one transaction of one statement", s0, s1)
	}
	l := mustAcquire(t, j, "a", time.Minute)
	fj := j.Fenced(l)
	s2 := j.Stats()
	if err := fj.SetState(ctx, "k", "w"); err != nil {
		t.Fatal(err)
	}
	if s3 := j.Stats(); s3.Transactions != s2.Transactions+1 || s3.Statements != s2.Statements+2 {
		t.Errorf("one fenced write: %+v then %+v, want one transaction of two statements (the lease check)", s2, s3)
	}
}
