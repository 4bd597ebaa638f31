package daemon

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
)

const acme = "services/acme/acme-tokyo-hq.yaml"

func TestNewCommitChangesOnlyItsDevice(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	d := l.start(Options{})
	ctx := context.Background()
	if p := d.SyncOnce(ctx, "test"); len(p.Applied) != 3 {
		t.Fatalf("first pass: %+v", p)
	}
	pe2Edits := l.sim.Device("pe2-osa").RPCCount("edit-config")
	head := l.commit("acme: new description", map[string]string{acme: strings.Replace(l.read(acme), "Tokyo HQ", "Tokyo head office", 1)})
	p := d.SyncOnce(ctx, "test")
	if !slices.Equal(p.Applied, []string{"pe1-tyo"}) || p.Commit != head || len(p.Drift) != 0 || len(p.Healed) != 0 {
		t.Fatalf("pass: %+v", p)
	}
	if l.sim.Device("pe2-osa").RPCCount("edit-config") != pe2Edits {
		t.Error("a device the commit does not concern was edited")
	}
	l.assertConverged()
	if got, _ := d.Journal().State(ctx, KeyLastApplied); got != head {
		t.Errorf("last applied = %s, want %s", got, head)
	}
}

func TestBadCommitsAreRefusedAndTheLastGoodOneKept(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	rcv := newReceiver(t)
	l.cfg.Notify.URL = rcv.srv.URL
	d := l.start(Options{})
	ctx := context.Background()
	good := l.git("rev-parse", "HEAD")
	if p := d.SyncOnce(ctx, "test"); len(p.Applied) != 3 {
		t.Fatalf("first pass: %+v", p)
	}

	// A commit that does not validate.
	bad := l.commit("broken", map[string]string{acme: l.read(acme) + "  bogus: 1\n"})
	p := d.SyncOnce(ctx, "test")
	if p.Error != "" || p.Head != bad || p.Commit != good || len(p.Applied) != 0 {
		t.Fatalf("pass on an invalid head: %+v", p)
	}
	st := d.Status()
	if st.TargetCommit != good || len(st.Alarms) != 1 || st.Alarms[0].Kind != string(AlarmCommitRefused) || st.Alarms[0].Commit != bad {
		t.Fatalf("status: commit %s alarms %+v", st.TargetCommit, st.Alarms)
	}
	if n := rcv.wait(t, 1)[0]; n.Event != "raised" || n.Alarm.Commit != bad {
		t.Errorf("notification: %+v", n)
	}
	// Drift is still healed on the last good commit meanwhile.
	handEditOf(t, l, "pe1-tyo", d.cache.desired)
	if p := d.SyncOnce(ctx, "test"); !slices.Equal(p.Healed, []string{"pe1-tyo"}) {
		t.Errorf("drift not healed while the head is refused: %+v", p)
	}

	// The fix is accepted and clears the alarm.
	fixed := l.commit("fixed", map[string]string{acme: strings.Replace(l.read(acme), "  bogus: 1\n", "", 1)})
	if p := d.SyncOnce(ctx, "test"); p.Commit != fixed || p.Error != "" {
		t.Fatalf("pass on the fix: %+v", p)
	}
	if len(d.Status().Alarms) != 0 {
		t.Errorf("alarms: %+v", d.Status().Alarms)
	}
	if n := rcv.wait(t, 1)[0]; n.Event != "cleared" {
		t.Errorf("notification: %+v", n)
	}

	// A force-push that drops the applied commit is refused the same way.
	l.git("checkout", "-q", "-B", "main", good)
	rewritten := l.commit("rewritten", map[string]string{acme: strings.Replace(l.read(acme), "Tokyo HQ", "Tokyo rewritten", 1)})
	p = d.SyncOnce(ctx, "test")
	if p.Commit != fixed || len(p.Applied) != 0 {
		t.Fatalf("pass on a rewritten history: %+v", p)
	}
	st = d.Status()
	if len(st.Alarms) != 1 || st.Alarms[0].Kind != string(AlarmCommitRefused) || st.Alarms[0].Commit != rewritten ||
		!strings.Contains(st.Alarms[0].Message, "rewritten") {
		t.Errorf("alarms: %+v", st.Alarms)
	}
	l.git("checkout", "-q", "-B", "main", fixed)
}

func TestUnreachableRepoAlarmsAndKeepsReconciling(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	d := l.start(Options{})
	ctx := context.Background()
	if p := d.SyncOnce(ctx, "test"); len(p.Applied) != 3 {
		t.Fatalf("first pass: %+v", p)
	}
	orig, moved := l.repo, l.repo+".moved"
	if err := os.Rename(orig, moved); err != nil {
		t.Fatal(err)
	}
	l.repo = moved // handEdit renders from the work tree
	for i := range 2 {
		handEdit(t, l, "pe1-tyo")
		p := d.SyncOnce(ctx, "test")
		if p.Error != "" || !slices.Equal(p.Healed, []string{"pe1-tyo"}) {
			t.Fatalf("pass %d without the repo: %+v", i, p)
		}
	}
	if st := d.Status(); len(st.Alarms) != 1 || st.Alarms[0].Kind != string(AlarmFetchFailing) {
		t.Fatalf("alarms: %+v", st.Alarms)
	}
	if err := os.Rename(moved, orig); err != nil {
		t.Fatal(err)
	}
	l.repo = orig
	d.SyncOnce(ctx, "test")
	if st := d.Status(); len(st.Alarms) != 0 {
		t.Errorf("alarm not cleared: %+v", st.Alarms)
	}
}
