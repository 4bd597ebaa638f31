package daemon

import (
	"context"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/api"
)

func TestFirstPassAppliesThenNothing(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	d := l.start(Options{})
	p := d.SyncOnce(context.Background(), "test")
	if p.Error != "" {
		t.Fatalf("pass error: %s", p.Error)
	}
	if len(p.Applied) == 0 || len(p.Failed) != 0 {
		t.Fatalf("first pass applied %v, failed %v: %+v", p.Applied, p.Failed, d.Status().Devices)
	}
	l.assertConverged()
	if !d.Ready() {
		t.Error("not ready after a successful pass")
	}
	head := l.git("rev-parse", "HEAD")
	if got, _ := d.Journal().State(context.Background(), KeyLastApplied); got != head {
		t.Errorf("last applied = %q, want %s", got, head)
	}
	before := l.editRPCs()
	p = d.SyncOnce(context.Background(), "test")
	if p.Error != "" || len(p.Applied) != 0 || len(p.Failed) != 0 {
		t.Fatalf("second pass: %+v", p)
	}
	if after := l.editRPCs(); after != before {
		t.Errorf("second pass sent %d edit-config", after-before)
	}
	st := d.Status()
	for _, ds := range st.Devices {
		if ds.State != api.StateInSync {
			t.Errorf("%s: %s, want in-sync", ds.Name, ds.State)
		}
	}
	if st.ServicesByState[api.StateInSync] == 0 || st.TargetCommit != head || st.AppliedCommit != head || !st.InSync || !strings.HasPrefix(st.LastPass.ID, "p-") {
		t.Errorf("status: %+v", st)
	}
}
