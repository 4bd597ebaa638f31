package journal

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/ownership"
)

// fencedWrite is one kind of write a replica makes for device pe1 (or for
// no device, when names is false), against run id.
type fencedWrite struct {
	name  string
	names bool // names pe1: refused by the device check as well as the lease check
	write func(ctx context.Context, j *Journal, id RunID) error
}

func fencedWrites() []fencedWrite {
	rec := ownership.Record{}
	return []fencedWrite{
		{"begin run", true, func(ctx context.Context, j *Journal, _ RunID) error {
			_, err := j.BeginRun(ctx, Run{StartedBy: "a"}, []string{"pe1"})
			return err
		}},
		{"phase", true, func(ctx context.Context, j *Journal, id RunID) error {
			return j.EnterPhase(ctx, id, "pe1", Edited, "", "")
		}},
		{"phases", true, func(ctx context.Context, j *Journal, id RunID) error {
			return j.EnterPhases(ctx, id, []Step{{Device: "pe1", Phase: Edited}})
		}},
		{"pending", true, func(ctx context.Context, j *Journal, id RunID) error {
			return j.SetPending(ctx, id, "pe1", rec, configtree.New())
		}},
		{"ownership", true, func(ctx context.Context, j *Journal, _ RunID) error {
			return j.SetOwnership(ctx, "pe1", rec, "c2")
		}},
		{"ownerships", true, func(ctx context.Context, j *Journal, _ RunID) error {
			return j.SetOwnerships(ctx, []Owned{{Device: "pe1", Record: rec}}, "c2")
		}},
		{"device state", true, func(ctx context.Context, j *Journal, _ RunID) error {
			return j.SetDeviceStates(ctx, []DeviceState{{Device: "pe1", State: "failing", Commit: "c2"}})
		}},
		{"remove device state", true, func(ctx context.Context, j *Journal, _ RunID) error {
			return j.RemoveDeviceStates(ctx, []string{"pe1"})
		}},
		// An operator's pause or heal reaches whichever replica serves the
		// API: it names a device it need not own, but still needs a lease.
		{"control", false, func(ctx context.Context, j *Journal, _ RunID) error {
			return j.SetControl(ctx, Control{Device: "pe1", PausedBy: "a", PausedAt: time.Now()})
		}},
		{"heal done", true, func(ctx context.Context, j *Journal, _ RunID) error {
			return j.HealDone(ctx, "pe1", time.Now())
		}},
		{"alarm", true, func(ctx context.Context, j *Journal, _ RunID) error {
			_, err := j.RaiseAlarm(ctx, Alarm{Kind: "failing", Device: "pe1", Since: time.Now()})
			return err
		}},
		{"clear alarm", true, func(ctx context.Context, j *Journal, _ RunID) error {
			return j.ClearAlarm(ctx, "before", "pe1")
		}},
		{"run plan", true, func(ctx context.Context, j *Journal, id RunID) error {
			return j.SetRunPlan(ctx, id, []byte(`{"late":true}`))
		}},
		{"ownerships from pending", true, func(ctx context.Context, j *Journal, id RunID) error {
			return j.SetOwnerships(ctx, []Owned{{Device: "pe1", Record: rec, FromRun: id}}, "c2")
		}},
		{"run outcome", true, func(ctx context.Context, j *Journal, id RunID) error {
			return j.FinishRun(ctx, id, Failed, "late")
		}},
		{"state", false, func(ctx context.Context, j *Journal, _ RunID) error {
			return j.SetState(ctx, "k", "late")
		}},
		{"pass", false, func(ctx context.Context, j *Journal, _ RunID) error {
			return j.SavePass(ctx, Pass{ID: "p-late", Reason: "tick", Started: time.Now()})
		}},
	}
}

// The database alone refuses a replica that lost its hold: the replica's
// journal is fenced by a keeper that still claims the old lease as held (as
// a process paused before its own clock could tell it), so every refusal
// below comes from the check the write runs in the database, not from the
// replica. Each write kind is refused with ErrLeaseLost, as a *FencedError,
// and records nothing:
//
//   - expired: the lease ran out by the database's clock, nobody took the
//     device (only the lease check can refuse);
//   - replaced: the replica's id took a new epoch elsewhere, which has not
//     claimed the device yet (only the lease check can refuse);
//   - device moved: the lease is current, but the device was released and
//     another replica claimed it (only the device check can refuse).
func TestDatabaseRefusesFencedWrites(t *testing.T) {
	eachBackend(t, testDatabaseRefusesFencedWrites)
}

func testDatabaseRefusesFencedWrites(t *testing.T, be backend) {
	for _, how := range []string{"expired", "replaced", "device moved"} {
		t.Run(how, func(t *testing.T) {
			ctx := context.Background()
			j, _ := be.open(t)
			ttl := time.Minute
			if how == "expired" {
				ttl = 700 * time.Millisecond
			}
			a := mustAcquire(t, j, "a", ttl)
			if _, err := j.ClaimDevices(ctx, a, []string{"pe1"}); err != nil {
				t.Fatal(err)
			}
			// The keeper that never noticed: the old lease, held.
			ja := j.FencedBy(func() (Lease, bool) { return a, true })
			id, err := ja.BeginRun(ctx, Run{StartedBy: "a"}, []string{"pe1"})
			if err != nil {
				t.Fatal(err)
			}
			mustEnter(t, ja, id, "pe1", Locked, "", "")
			if err := ja.SetState(ctx, "k", "before"); err != nil {
				t.Fatal(err)
			}
			if _, err := ja.RaiseAlarm(ctx, Alarm{Kind: "before", Device: "pe1", Since: time.Now()}); err != nil {
				t.Fatal(err)
			}
			if err := ja.SetDeviceStates(ctx, []DeviceState{{Device: "pe1", State: "in-sync", Commit: "c1"}}); err != nil {
				t.Fatal(err)
			}

			switch how {
			case "expired":
				waitExpired(t, j, a)
			case "replaced":
				mustAcquire(t, j, "a", time.Minute)
			case "device moved":
				if err := j.ReleaseDevices(ctx, a, []string{"pe1"}); err != nil {
					t.Fatal(err)
				}
				b := mustAcquire(t, j, "b", time.Minute)
				if got, err := j.ClaimDevices(ctx, b, []string{"pe1"}); err != nil || len(got) != 1 {
					t.Fatalf("b claims pe1: %v, %v", got, err)
				}
			}
			if _, held := ja.Lease(); !held {
				t.Fatal("the replica's keeper must still claim its lease: the refusals below must be the database's")
			}

			for _, w := range fencedWrites() {
				if how == "device moved" && !w.names {
					continue // a current lease may write what names no device
				}
				err := w.write(ctx, ja, id)
				var fe *FencedError
				if !errors.Is(err, ErrLeaseLost) || !errors.As(err, &fe) || fe.Token != a.Token {
					t.Errorf("%s: %v, want a *FencedError of token %d (ErrLeaseLost) from the database", w.name, err, a.Token)
				}
			}

			// Nothing of it was recorded.
			r, err := j.Run(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(r.Devices[0].Transitions); r.Outcome != Running || n != 2 {
				t.Errorf("the run: outcome %q, %d transitions; want unfinished with pending and locked only", r.Outcome, n)
			}
			if _, ok, err := j.PendingOwnership(ctx, id, "pe1"); ok || err != nil {
				t.Errorf("pending ownership recorded (%v)", err)
			}
			if _, commit, err := j.Ownership(ctx, "pe1"); commit != "" || err != nil {
				t.Errorf("ownership recorded at %q (%v)", commit, err)
			}
			if v, _ := j.State(ctx, "k"); v != "before" {
				t.Errorf("state k = %q, want before", v)
			}
			if p, err := j.Pass(ctx, "p-late"); err == nil {
				t.Errorf("pass recorded: %+v", p)
			}
			states, _ := j.DeviceStates(ctx)
			if len(states) != 1 || states[0].State != "in-sync" {
				t.Errorf("device states %+v, want pe1 in-sync as before", states)
			}
			alarms, _ := j.Alarms(ctx, false)
			if len(alarms) != 1 || alarms[0].Kind != "before" {
				t.Errorf("alarms %+v, want the one raised before", alarms)
			}
			controls, _ := j.Controls(ctx)
			if len(controls) != 0 {
				t.Errorf("controls %+v, want none", controls)
			}
		})
	}
}
