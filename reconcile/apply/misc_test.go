package apply

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/plan"
	"github.com/netrecon/netrecon/reconcile/planfile"
	"github.com/netrecon/netrecon/reconcile/planner"
	"github.com/netrecon/netrecon/schema"
)

func TestOptionsCheck(t *testing.T) {
	d := reconcile.DialFunc(func(context.Context, *schema.Device) (reconcile.Device, error) { return nil, errors.New("no") })
	cases := []struct {
		name string
		opts Options
		want []string // substrings of the error; none: valid
	}{
		{"defaults", Options{Dialer: d, Journal: openJournal(t)}, nil},
		{"no dialer", Options{}, []string{"Dialer is required"}},
		{"no journal", Options{Dialer: d}, []string{"Journal is required"}},
		{"all bad at once", Options{Concurrency: -1, LockWait: -time.Second, ConfirmTimeout: -1}, []string{"Dialer", "Concurrency -1", "LockWait -1s", "ConfirmTimeout"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := c.opts.check()
			if len(c.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if o.Concurrency != DefaultConcurrency || o.LockWait != DefaultLockWait || o.ConfirmTimeout != DefaultConfirmTimeout || o.Logger == nil || o.Sleep == nil {
					t.Errorf("defaults not filled: %+v", o)
				}
				return
			}
			for _, w := range c.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err %v does not mention %q", err, w)
				}
			}
		})
	}
	// Apply refuses invalid options and arguments before touching anything.
	if _, err := Apply(t.Context(), &plan.Plan{}, nil, &schema.Intent{}, Options{}); err == nil {
		t.Error("Apply without a dialer succeeded")
	}
	if _, err := Apply(t.Context(), nil, nil, &schema.Intent{}, Options{Dialer: d, Journal: openJournal(t)}); err == nil {
		t.Error("Apply without a plan succeeded")
	}
}

func TestValidateDefaults(t *testing.T) {
	o := Options{Validate: map[string]bool{"junos": false}}
	for platform, want := range map[string]bool{"ietf": false, "junos": false, "iosxr": true} {
		if got := o.validates(platform); got != want {
			t.Errorf("validates(%q) = %v, want %v", platform, got, want)
		}
	}
	if !(Options{Validate: map[string]bool{"ietf": true}}).validates("ietf") {
		t.Error("an explicit ietf: true is not honoured")
	}
}

func TestApplyRefusesBadPlans(t *testing.T) {
	env := newSim(t, 2)
	desired := desiredFor(t, env, "x")
	p := planLive(t, env, desired, nil)
	unknown := &plan.Plan{Devices: []*plan.Device{{Name: "nope", Changes: p.Devices[0].Changes}}}
	if _, err := Apply(t.Context(), unknown, desired, env.inv, Options{Dialer: env.dialer, Journal: openJournal(t)}); err == nil || !strings.Contains(err.Error(), "not in the inventory") {
		t.Errorf("unknown device: %v", err)
	}
	failed := &plan.Plan{Devices: []*plan.Device{p.Devices[0], {Name: "pe002", Err: errors.New("unreachable")}}}
	if _, err := Apply(t.Context(), failed, desired, env.inv, Options{Dialer: env.dialer, Journal: openJournal(t)}); err == nil || !strings.Contains(err.Error(), "re-plan") {
		t.Errorf("atomic apply of a plan with a failed device: %v", err)
	}
	sameConfig(t, env, nil, "after refused plans")
}

func TestPlanLiveUnreachable(t *testing.T) {
	env := newSim(t, 3)
	desired := desiredFor(t, env, "x")
	inner := env.dialer
	dialer := reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
		if dev.Name == "pe002" {
			return nil, errors.New("connection refused")
		}
		return inner.Dial(ctx, dev)
	})
	p, err := planner.Live(t.Context(), planner.LiveOptions{Intent: env.inv, Desired: desired, Dialer: dialer, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range p.Devices {
		switch {
		case d.Name == "pe002" && (d.Err == nil || !strings.Contains(d.Err.Error(), "pe002: dial: connection refused")):
			t.Errorf("pe002: err %v", d.Err)
		case d.Name != "pe002" && (d.Err != nil || len(d.Changes) == 0 || d.Fingerprint == ""):
			t.Errorf("%s: %+v", d.Name, d)
		}
	}
	if _, err := planner.Live(t.Context(), planner.LiveOptions{Intent: env.inv, Desired: desired, Dialer: dialer, Devices: []string{"pe009"}, Concurrency: 2}); err == nil {
		t.Error("an unknown device was planned")
	}
	noSessions(t, env)
}

// TestApplySavedPlan: plan -out FILE, then apply FILE, applies what was
// reviewed; and the journal keeps the plan as a readable plan file.
func TestApplySavedPlan(t *testing.T) {
	env := newSim(t, 2)
	j := openJournal(t)
	desired := desiredFor(t, env, "saved")
	var buf bytes.Buffer
	if err := planfile.Write(&buf, planLive(t, env, desired, j), desired, nil); err != nil {
		t.Fatal(err)
	}
	p, d2, err := planfile.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Apply(t.Context(), p, d2, env.inv, Options{Dialer: env.dialer, Journal: j})
	if err != nil {
		t.Fatal(err)
	}
	sameConfig(t, env, desired, "after applying a saved plan")
	run, err := j.Run(t.Context(), res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	jp, _, err := planfile.Read(bytes.NewReader(run.Plan))
	if err != nil || len(jp.Devices) != 2 || len(jp.Devices[0].Changes) != len(p.Devices[0].Changes) {
		t.Errorf("journal's plan: %v, %v", jp, err)
	}
	// A saved plan applied twice is stale the second time.
	if _, err := Apply(t.Context(), p, d2, env.inv, Options{Dialer: env.dialer, Journal: j}); err == nil {
		t.Error("a saved plan applied twice")
	} else {
		var se *StalePlanError
		if !errors.As(err, &se) {
			t.Errorf("second apply: %v, want *StalePlanError", err)
		}
	}
}

func TestCancelledApplyRollsBack(t *testing.T) {
	env := newSim(t, 3)
	desired := desiredFor(t, env, "x")
	p := planLive(t, env, desired, nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// The user presses Ctrl-C once pe002 has committed: the others roll back
	// too, on a context of their own.
	hook := onEvent(func(e Event) {
		if e.Device == "pe002" && e.Phase == string(journal.Committed) {
			cancel()
		}
	})
	res, err := Apply(ctx, p, desired, env.inv, Options{Dialer: env.dialer, Journal: openJournal(t), Reporter: hook})
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled inside", err)
	}
	if res.Outcome != journal.RolledBack {
		t.Errorf("outcome %s", res.Outcome)
	}
	sameConfig(t, env, nil, "after cancel")
	for _, d := range env.sim.Devices() {
		if d.ConfirmPending() {
			t.Errorf("%s: a confirmed commit is pending", d.Name)
		}
	}
	noSessions(t, env)
}

// TestConfirmRetriedOnNewSession: the connection drops at the confirming
// commit, after phase 2 began; the persist id lets a new session confirm,
// so the change set still lands everywhere.
func TestConfirmRetriedOnNewSession(t *testing.T) {
	env := newSim(t, 3)
	desired := desiredFor(t, env, "x")
	p := planLive(t, env, desired, nil)
	env.sim.Device("pe002").DropConnectionAt("commit", 2)
	res, err := Apply(t.Context(), p, desired, env.inv, Options{Dialer: env.dialer, Journal: openJournal(t)})
	if err != nil || res.Outcome != journal.Applied {
		t.Fatalf("outcome %s, err %v", res.Outcome, err)
	}
	sameConfig(t, env, desired, "after a confirm on a new session")
	for _, d := range env.sim.Devices() {
		if d.ConfirmPending() {
			t.Errorf("%s: still pending", d.Name)
		}
	}
	noSessions(t, env)
}

func TestLogReporter(t *testing.T) {
	var buf bytes.Buffer
	LogReporter{Logger: slog.New(slog.NewTextHandler(&buf, nil))}.Event(Event{Device: "pe1", Phase: "lock-wait", Elapsed: 1500 * time.Millisecond, Detail: "candidate locked by session 7"})
	LogReporter{}.Event(Event{Device: "pe1"}) // nil logger: discarded, no panic
	for _, want := range []string{"device=pe1", "phase=lock-wait", "elapsed_seconds=1.5", `detail="candidate locked by session 7"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log line %q lacks %q", buf.String(), want)
		}
	}
}
