package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/lab/labtest"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/shard"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
)

// coordFixture is three replicas (r1 leads: it starts first) on 200
// simulated devices that already run the intent, settled: every device in
// sync and in one shard, no change set open.
type coordFixture struct {
	*replicaFixture
	procs  []*replicaProc
	vlan   int
	shares map[string][]string // replica id → its devices, sorted
}

func newCoordFixture(t *testing.T, vlan int, extra string, r1env ...string) *coordFixture {
	t.Helper()
	if testing.Short() {
		t.Skip("starts 3 daemons and 200 simulated devices")
	}
	labtest.PostgresDSN(t)
	exe := crashBinary(t)
	sim, kh := startReplicaSim(t)
	f := &coordFixture{replicaFixture: newReplicaFixture(t, exe, sim, kh, vlan), vlan: vlan}
	f.extra = extra
	for name, w := range f.want {
		sim.Device(name).SetRunning(w)
	}
	var names []string
	for name := range f.want {
		names = append(names, name)
	}
	f.shares = shard.Assign([]string{"r1", "r2", "r3"}, names)
	for _, s := range f.shares {
		slices.Sort(s)
	}
	r1 := f.start(t, "r1", r1env...)
	poll(t, "r1 holds a lease", 30*time.Second, func() bool { return f.tokenOf(t, "r1") != 0 })
	f.procs = []*replicaProc{r1, f.start(t, "r2"), f.start(t, "r3")}
	checkReplicaStatus(t, f.procs...)
	poll(t, "every device in sync, no change set open", 2*time.Minute, func() bool {
		alive(t, f.procs...)
		open, err := f.j.OpenChangeSets(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return len(open) == 0 && f.converged(t) && f.ownedBy(t, f.tokenOf(t, "r1")) == len(f.shares["r1"])
	})
	checkReplicaStatus(t, f.procs...)
	return f
}

// change commits a new description for devices' circuits and returns their
// new desired trees (f.want and f.head follow).
func (f *coordFixture) change(t *testing.T, devices []string) map[string]*configtree.Tree {
	t.Helper()
	for _, d := range devices {
		p := filepath.Join(f.repo, "services/replica", fmt.Sprintf("replica-%d-%s.yaml", f.vlan, d))
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		doc := strings.Replace(string(b), "description: replica test", "description: coordinated test", 1)
		if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitCommitAll(t, f.repo, "change "+strings.Join(devices, " "))
	out, err := exec.Command("git", "-C", f.repo, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	f.head = strings.TrimSpace(string(out))
	in, diags := schema.Load(os.DirFS(f.repo), schema.Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	r, _ := render.New(in)
	changed := map[string]*configtree.Tree{}
	for _, d := range devices {
		w, diags := r.Device(d)
		if diags.HasErrors() {
			t.Fatal(diags.Err())
		}
		if w.Equal(f.want[d]) {
			t.Fatalf("%s: the edit does not change its desired tree", d)
		}
		f.want[d], changed[d] = w, w
	}
	return changed
}

// runsAt are the runs of intent commit head that hold a device of devices,
// oldest first, with their transitions.
func (f *coordFixture) runsAt(t *testing.T, devices map[string]*configtree.Tree) []*journal.Run {
	t.Helper()
	ctx := context.Background()
	sums, err := f.j.Runs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []*journal.Run
	for _, s := range sums {
		if s.IntentCommit != f.head {
			continue
		}
		r, err := f.j.Run(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range r.Devices {
			if _, ok := devices[d.Device]; ok {
				out = append(out, r)
				break
			}
		}
	}
	slices.SortFunc(out, func(a, b *journal.Run) int { return int(a.ID - b.ID) })
	return out
}

// ownerSampler reads device_owners every 50 ms: per device, the distinct
// owner tokens in the order seen, and any device owned by a lease that was
// not live at that moment.
type ownerSampler struct {
	mu     sync.Mutex
	seen   map[string][]int64
	errs   []string
	stop   chan struct{}
	done   chan struct{}
	stopMu sync.Once
}

func (f *coordFixture) sampleOwners(t *testing.T) *ownerSampler {
	s := &ownerSampler{seen: map[string][]int64{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		ctx := context.Background()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
			before, err1 := f.j.Replicas(ctx)
			owners, err2 := f.j.DeviceOwners(ctx)
			if err1 != nil || err2 != nil {
				continue
			}
			live := map[int64]bool{}
			for _, l := range before {
				live[l.Token] = true
			}
			s.mu.Lock()
			for d, o := range owners {
				if !live[o.Token] && len(s.errs) < 10 {
					s.errs = append(s.errs, fmt.Sprintf("%s owned by %s/%d, not a live lease", d, o.Replica, o.Token))
				}
				if seq := s.seen[d]; len(seq) == 0 || seq[len(seq)-1] != o.Token {
					s.seen[d] = append(seq, o.Token)
				}
			}
			s.mu.Unlock()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *ownerSampler) close() {
	s.stopMu.Do(func() { close(s.stop) })
	<-s.done
}

// converge waits for every device on the intent at the new head, and checks
// the simulators agree.
func (f *coordFixture) converge(t *testing.T, procs ...*replicaProc) {
	t.Helper()
	poll(t, "every device on the new commit", 3*time.Minute, func() bool { alive(t, procs...); return f.converged(t) })
	if got := f.deviceStates(); got["new"] != replicaDevices {
		t.Errorf("devices: %v, want all %d new", got, replicaDevices)
	}
}

// pick is the first n devices of each share of ids.
func (f *coordFixture) pick(n int, ids ...string) []string {
	var out []string
	for _, id := range ids {
		out = append(out, f.shares[id][:n]...)
	}
	return out
}

func names(m map[string]*configtree.Tree) []string {
	return slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
}

func runDevices(r *journal.Run) []string {
	var out []string
	for _, d := range r.Devices {
		out = append(out, d.Device)
	}
	return out
}

// writers are the lease tokens that wrote r's transitions.
func writers(r *journal.Run) []int64 {
	var out []int64
	for _, d := range r.Devices {
		for _, tr := range d.Transitions {
			if !slices.Contains(out, tr.Writer) {
				out = append(out, tr.Writer)
			}
		}
	}
	return out
}

// TestReplicasCoordinatedChangeSet: a commit changing devices of all three
// shards is applied by the leader as one run holding every changed device,
// written by its lease alone; the devices of the other shards go to it and
// back, each owned by one live lease at every moment sampled.
func TestReplicasCoordinatedChangeSet(t *testing.T) {
	f := newCoordFixture(t, 430, "")
	leader := f.tokenOf(t, "r1")
	s := f.sampleOwners(t)
	changed := f.change(t, f.pick(4, "r1", "r2", "r3"))
	f.converge(t, f.procs...)
	// The leader hands the devices back at its next pass after the run
	// settled: wait for that before the sampling stops.
	handedBack := func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		n := 0
		for _, d := range f.pick(4, "r2", "r3") {
			if seq := s.seen[d]; len(seq) == 3 && seq[1] == leader && seq[2] == seq[0] {
				n++
			}
		}
		return n
	}
	poll(t, "the other shards' devices back with their owners", time.Minute, func() bool { return handedBack() == 8 })
	s.close()
	runs := f.runsAt(t, changed)
	if len(runs) != 1 {
		t.Fatalf("%d runs of the change, want 1", len(runs))
	}
	r := runs[0]
	if got := runDevices(r); !slices.Equal(got, names(changed)) || r.Outcome != journal.Applied {
		t.Errorf("run %d: devices %v, outcome %s; want %v, applied", r.ID, got, r.Outcome, names(changed))
	}
	if w := writers(r); !slices.Equal(w, []int64{leader}) {
		t.Errorf("run %d written by %v, want the leader's lease %d alone", r.ID, w, leader)
	}
	cs, ok, err := f.j.ChangeSetOf(context.Background(), f.head)
	if err != nil || !ok || !cs.Coordinated || cs.Applier != "r1" || cs.Writer != leader || !slices.Equal(cs.Devices, names(changed)) {
		t.Errorf("change set: %+v, %v, %v; want coordinated by r1 over %v", cs, ok, err, names(changed))
	}
	// Each changed device of r2's and r3's shards went from its owner to
	// the leader and back (poll above), never through a third lease.
	if n := handedBack(); n != 8 {
		t.Errorf("%d of 8 changed devices of r2's and r3's shards went to the leader and back: %v", n, s.seen)
	}
	if len(s.errs) > 0 {
		t.Errorf("owners: %v", s.errs)
	}
	f.checkJournalFor(t, changed)
}

// TestReplicasCoordinatedChangeSetRefused: one device of a cross-shard
// change set refuses its commit: the whole set is rolled back on every
// device (the run confirms none), then, as one daemon does, the others are
// applied again without it, and it fails with its alarm.
func TestReplicasCoordinatedChangeSetRefused(t *testing.T) {
	f := newCoordFixture(t, 440, "retry: {base: 1s, max: 2s}\nalarm: {after_failures: 1}\n")
	leader := f.tokenOf(t, "r1")
	devices := f.pick(3, "r1", "r2", "r3")
	bad := f.shares["r3"][0]
	f.sim.Device(bad).RejectCommit("commit check failed: refused by the test")
	changed := f.change(t, devices)
	ctx := context.Background()
	poll(t, "the refusing device's alarm", 2*time.Minute, func() bool {
		alive(t, f.procs...)
		alarms, err := f.j.Alarms(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range alarms {
			if a.Kind == "device-failing" && a.Device == bad {
				return true
			}
		}
		return false
	})
	good := map[string]*configtree.Tree{}
	for name, w := range changed {
		if name != bad {
			good[name] = w
		}
	}
	poll(t, "the others applied", 2*time.Minute, func() bool {
		states, err := f.j.DeviceStates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, st := range states {
			if _, ok := good[st.Device]; ok && st.State == "applied" && st.Commit == f.head {
				n++
			}
		}
		return n == len(good)
	})
	runs := f.runsAt(t, changed)
	if len(runs) < 2 {
		t.Fatalf("%d runs of the change, want the cancelled one and the one without %s", len(runs), bad)
	}
	first, second := runs[0], runs[1]
	if got := runDevices(first); !slices.Equal(got, names(changed)) || first.Outcome == journal.Applied {
		t.Errorf("first run %d: devices %v, outcome %s; want every changed device, not applied", first.ID, got, first.Outcome)
	}
	for _, d := range first.Devices {
		for _, tr := range d.Transitions {
			if tr.Phase == journal.Confirmed {
				t.Errorf("first run %d confirmed %s: the set should be rolled back on every device", first.ID, d.Device)
			}
		}
	}
	if got := runDevices(second); !slices.Equal(got, names(good)) || second.Outcome != journal.Applied {
		t.Errorf("second run %d: devices %v, outcome %s; want %v applied", second.ID, got, second.Outcome, names(good))
	}
	for _, r := range []*journal.Run{first, second} {
		if w := writers(r); !slices.Equal(w, []int64{leader}) {
			t.Errorf("run %d written by %v, want the leader's lease %d alone", r.ID, w, leader)
		}
	}
	for name, w := range changed {
		got := f.sim.Device(name).Running().Select(configtree.Filter(w))
		if on := got.Equal(w); on != (name != bad) {
			t.Errorf("%s on the new config: %v", name, on)
		}
	}
}

// TestReplicasChangeSetInOneShard: a commit changing devices of one shard
// only is applied by that shard's owner; no device changes hands.
func TestReplicasChangeSetInOneShard(t *testing.T) {
	f := newCoordFixture(t, 450, "")
	owner := f.tokenOf(t, "r2")
	s := f.sampleOwners(t)
	changed := f.change(t, f.pick(5, "r2"))
	f.converge(t, f.procs...)
	s.close()
	runs := f.runsAt(t, changed)
	if len(runs) != 1 || !slices.Equal(runDevices(runs[0]), names(changed)) || !slices.Equal(writers(runs[0]), []int64{owner}) {
		for _, r := range runs {
			t.Logf("run %d: %v by %v", r.ID, runDevices(r), writers(r))
		}
		t.Fatalf("%d runs of the change; want one over %v, by r2's lease %d", len(runs), names(changed), owner)
	}
	cs, ok, err := f.j.ChangeSetOf(context.Background(), f.head)
	if err != nil || !ok || cs.Coordinated || cs.Applier != "r2" {
		t.Errorf("change set: %+v, %v, %v; want r2's alone", cs, ok, err)
	}
	for name := range changed {
		if !slices.Equal(s.seen[name], []int64{owner}) {
			t.Errorf("%s owned by %v during the change, want r2's lease %d throughout", name, s.seen[name], owner)
		}
	}
	if len(s.errs) > 0 {
		t.Errorf("owners: %v", s.errs)
	}
	f.checkJournalFor(t, changed)
}

// TestReplicasCoordinatorKilled: the leader dies (SIGKILL) while it applies
// a coordinated change set, at a device of another shard: the next leader
// recovers the whole run within lease TTL + one poll, then the set is
// applied; no device half-applied, one writer per device per run.
func TestReplicasCoordinatorKilled(t *testing.T) {
	for i, phase := range []string{"locked", "edited", "committed", "verified", "confirmed"} {
		t.Run(phase, func(t *testing.T) {
			vlan := 460 + i
			// The sentinel device is fixed before the fixture: the
			// shares do not depend on the repo.
			var all []string
			for n := range replicaDevices {
				all = append(all, fmt.Sprintf("pe%d", n+1))
			}
			share := shard.Share("r2", []string{"r1", "r2", "r3"}, all)
			slices.Sort(share)
			at := share[0]
			f := newCoordFixture(t, vlan, "", "NETRECON_TEST_CRASH_AT="+phase+"@"+at)
			r1, r2, r3 := f.procs[0], f.procs[1], f.procs[2]
			changed := f.change(t, f.pick(4, "r1", "r2", "r3"))
			if _, ok := changed[at]; !ok {
				t.Fatalf("the crash device %s is not in the change %v", at, names(changed))
			}
			select {
			case <-r1.exited:
			case <-time.After(2 * time.Minute):
				t.Fatalf("r1 was not killed at %s of %s", phase, at)
			}
			took := poll(t, "the coordinated run settled by the next leader", 2*time.Minute, func() bool {
				alive(t, r2, r3)
				runs := f.runsAt(t, changed)
				return len(runs) > 0 && runs[0].Outcome != journal.Running
			})
			t.Logf("run settled %v after r1's death (lease ttl %v + poll %v)", took.Round(time.Millisecond), leaseTTL, pollInterval)
			if limit := leaseTTL + pollInterval + 15*time.Second; took > limit {
				t.Errorf("recovery took %v, want within lease ttl + one poll (+ a pass in flight): %v", took, limit)
			}
			f.converge(t, r2, r3)
			runs := f.runsAt(t, changed)
			if got := runDevices(runs[0]); !slices.Equal(got, names(changed)) {
				t.Errorf("first run %d holds %v, want every changed device %v", runs[0].ID, got, names(changed))
			}
			f.checkJournalFor(t, changed)
		})
	}
}
