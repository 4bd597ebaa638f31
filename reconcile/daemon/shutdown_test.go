package daemon

import (
	"context"
	"testing"
	"time"

	"github.com/netrecon/netrecon/configtree"
)

// TestGracefulStopDuringApply stops the daemon while it applies to a slow
// device, once with a grace period long enough to finish and once too short
// (the pass is cancelled mid-transaction). Either way Run returns well within
// 30 s, every device holds all of its change or none of it, and the journal
// has no unfinished run left after a restart's recovery.
func TestGracefulStopDuringApply(t *testing.T) {
	for _, tc := range []struct {
		name  string
		grace time.Duration
	}{{"finishes", 20 * time.Second}, {"cancelled", 50 * time.Millisecond}} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t, exampleFiles(t))
			pe1 := l.sim.Device("pe1-tyo")
			pe1.SetLatency(150 * time.Millisecond)
			d := l.start(Options{ShutdownGrace: tc.grace})
			ctx, stop := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- d.Run(ctx) }()

			deadline := time.Now().Add(30 * time.Second)
			for pe1.RPCCount("edit-config") == 0 {
				if time.Now().After(deadline) {
					t.Fatal("the apply never reached edit-config")
				}
				time.Sleep(5 * time.Millisecond)
			}
			stopped := time.Now()
			stop()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Run did not return within 30 s of SIGTERM")
			}
			t.Logf("stopped %s after the signal", time.Since(stopped).Round(time.Millisecond))
			d.Close()

			// A restart recovers whatever is unfinished.
			pe1.SetLatency(0)
			d2 := l.start(Options{})
			d2.recover(context.Background())
			if runs, err := d2.Journal().Unfinished(context.Background()); err != nil || len(runs) != 0 {
				t.Fatalf("unfinished runs after recovery: %v %v", runs, err)
			}
			// Let any pending confirmed commit settle, then check pe1 holds
			// all of its change or none of it.
			if pe1.ConfirmPending() {
				t.Error("a confirmed commit is still pending after recovery")
			}
			_, desired := l.desired()
			want := desired["pe1-tyo"]
			got := pe1.Running().Select(configtree.Filter(want))
			if got.Len() != 0 && !got.Equal(want) {
				t.Errorf("pe1 is half-applied:\n%v", configtree.Diff(got, want))
			}
			if tc.name == "finishes" && !got.Equal(want) {
				t.Error("with a long grace period the apply should have finished")
			}
			// And the next pass converges.
			if p := d2.SyncOnce(context.Background(), "test"); p.Error != "" || len(p.Failed) != 0 {
				t.Fatalf("pass after restart: %+v", p)
			}
			l.assertConverged()
		})
	}
}
