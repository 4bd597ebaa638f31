package daemon

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netrecon/netrecon/bench/intentgen"
	"github.com/netrecon/netrecon/lab/labtest"
	"github.com/netrecon/netrecon/reconcile/shard"
)

// replicaPair is two in-process replicas on one PostgreSQL journal (the
// lab's), r1 first: r1 leads. Every device's running configuration starts as
// the intent, and passes run until the shards settle.
type replicaPair struct {
	l      *lab
	r1, r2 *Daemon
	// ahead moves both replicas' clock (and their journals') forward.
	ahead atomic.Int64
}

func (p *replicaPair) now() time.Time { return time.Now().Add(time.Duration(p.ahead.Load())) }

func newReplicaPair(t *testing.T) *replicaPair {
	t.Helper()
	admin := labtest.PostgresDSN(t)
	l := newLab(t, intentgen.Files(intentgen.Config{Services: 12, Devices: 12, Seed: 1}))
	_, desired := l.desired()
	for _, dev := range l.sim.Devices() {
		if w := desired[dev.Name]; w != nil {
			dev.SetRunning(w)
		}
	}
	dsn := benchDatabase(t, admin)
	p := &replicaPair{l: l}
	var ds []*Daemon
	for i := range 2 {
		cfg := *l.cfg
		cfg.StateDir = t.TempDir()
		cfg.State = StateConfig{Database: dsn, Replica: ReplicaConfig{ID: fmt.Sprintf("r%d", i+1),
			LeaseTTL: Duration(time.Hour), Renew: Duration(20 * time.Minute)}}
		lc := *l
		lc.cfg = &cfg
		ds = append(ds, lc.start(Options{Now: p.now}))
	}
	p.r1, p.r2 = ds[0], ds[1]
	// The first commit's change set is every device (nothing shared was
	// known before it), coordinated by r1: r2 releases its share, r1
	// gathers and settles it, then hands r2's share back.
	for range 8 {
		for _, d := range ds {
			if ps := d.SyncOnce(context.Background(), "test"); ps.Error != "" || len(ps.Applied) > 0 {
				t.Fatalf("%s: first passes: error %q, applied %v: want none (the devices run the intent)", d.replica.id, ps.Error, ps.Applied)
			}
		}
		s1, s2 := p.r1.replica.status(), p.r2.replica.status()
		if s1.Shard+s2.Shard == len(l.sim.Devices()) && s2.Shard > 0 && len(p.r1.replica.coordination()) == 0 {
			return p
		}
	}
	t.Fatalf("the shards did not settle: r1 %d, r2 %d devices", p.r1.replica.status().Shard, p.r2.replica.status().Shard)
	return nil
}

// shareOf is a device in replica id's share, and the file of a service
// whose edit (edited) changes the device's desired configuration.
func (p *replicaPair) shareOf(t *testing.T, id string) (device, file string) {
	t.Helper()
	in, before := p.l.desired()
	var names []string
	for _, d := range in.Devices {
		names = append(names, d.Name)
	}
	share := shard.Share(id, []string{"r1", "r2"}, names)
	for _, svc := range in.Services {
		if len(svc.Devices) != 1 || !slices.Contains(share, svc.Devices[0]) {
			continue
		}
		f, dev := svc.Pos.File, svc.Devices[0]
		old := p.l.read(f)
		doc, ok := edited(old)
		if !ok {
			continue
		}
		path := filepath.Join(p.l.repo, filepath.FromSlash(f))
		os.WriteFile(path, []byte(doc), 0o644)
		_, after := p.l.desired()
		os.WriteFile(path, []byte(old), 0o644)
		if after[dev].Fingerprint() != before[dev].Fingerprint() {
			return dev, f
		}
	}
	t.Fatalf("no service whose edit changes a device of %s's share %v", id, share)
	return "", ""
}

// edited is a service document with its first description changed.
func edited(doc string) (string, bool) {
	i := strings.Index(doc, "description: ")
	if i < 0 {
		return "", false
	}
	return doc[:i] + "description: changed by the test, " + doc[i+len("description: "):], true
}

// change commits the edit of files.
func (p *replicaPair) change(t *testing.T, files ...string) string {
	t.Helper()
	edits := map[string]string{}
	for _, f := range files {
		edits[f], _ = edited(p.l.read(f))
	}
	return p.l.commit("change", edits)
}

func (p *replicaPair) pass(t *testing.T, d *Daemon) *PassStatus {
	t.Helper()
	ps := d.SyncOnce(context.Background(), "test")
	if ps.Error != "" {
		t.Fatalf("%s: pass: %s", d.replica.id, ps.Error)
	}
	return ps
}

// TestFollowerWaitsForChangeSet: a follower that sees a new commit before
// the leader applies none of its changes until the leader published the
// commit's change set; then, the set being within its shard, it applies
// them itself (no handoff).
func TestFollowerWaitsForChangeSet(t *testing.T) {
	p := newReplicaPair(t)
	dev, file := p.shareOf(t, "r2")
	p.change(t, file)
	before := p.l.sim.Device(dev).Running()
	if ps := p.pass(t, p.r2); len(ps.Applied) > 0 || !p.l.sim.Device(dev).Running().Equal(before) {
		t.Fatalf("r2 applied %v before the leader published the commit's change set", ps.Applied)
	}
	if ps := p.pass(t, p.r1); len(ps.Applied) > 0 {
		t.Fatalf("r1 applied %v: the change is within r2's shard", ps.Applied)
	}
	cs, ok, err := p.r1.journal.ChangeSetOf(context.Background(), p.l.git("rev-parse", "HEAD"))
	if err != nil || !ok || cs.Coordinated || cs.Applier != "r2" || !slices.Equal(cs.Devices, []string{dev}) {
		t.Fatalf("change set: %+v, %v, %v: want %s alone, applied by r2", cs, ok, err, dev)
	}
	if ps := p.pass(t, p.r2); !slices.Equal(ps.Applied, []string{dev}) {
		t.Fatalf("r2 applied %v after the change set, want [%s]", ps.Applied, dev)
	}
	p.l.assertConverged()
}

// TestCoordinatedChangeSet: a commit changing a device in each shard is
// applied by the leader as one run, once the follower released its device;
// the device goes back to the follower afterwards.
func TestCoordinatedChangeSet(t *testing.T) {
	p := newReplicaPair(t)
	d1, f1 := p.shareOf(t, "r1")
	d2, f2 := p.shareOf(t, "r2")
	p.change(t, f1, f2)
	ctx := context.Background()
	if ps := p.pass(t, p.r1); len(ps.Applied) > 0 {
		t.Fatalf("r1 applied %v before it held the whole change set", ps.Applied)
	}
	if st := p.r1.replica.coordination(); len(st) != 1 || st[0].devices != 2 || st[0].gathered {
		t.Fatalf("r1's coordination: %+v, want one set of 2 devices, not gathered", st)
	}
	if ps := p.pass(t, p.r2); len(ps.Applied) > 0 {
		t.Fatalf("r2 applied %v of a coordinated change set", ps.Applied)
	}
	ps := p.pass(t, p.r1)
	if want := []string{d1, d2}; !slices.Equal(slices.Sorted(slices.Values(ps.Applied)), slices.Sorted(slices.Values(want))) || len(ps.RunIDs) != 1 {
		t.Fatalf("r1 applied %v in runs %v, want %v in one run", ps.Applied, ps.RunIDs, want)
	}
	p.l.assertConverged()
	if open, err := p.r1.journal.OpenChangeSets(ctx); err != nil || len(open) != 0 {
		t.Fatalf("open change sets after the run: %+v, %v", open, err)
	}
	p.pass(t, p.r1) // hands d2 back
	p.pass(t, p.r2)
	if owners, err := p.r1.journal.DeviceOwners(ctx); err != nil || owners[d2].Replica != "r2" || owners[d1].Replica != "r1" {
		t.Fatalf("owners after the run: %s %+v, %s %+v (%v)", d1, owners[d1], d2, owners[d2], err)
	}
}

// TestReplicaNoopPassWritesNoDeviceState: a replica's steady pass writes no
// device row (only the owner can write one, and it holds what the owner
// last wrote); a device that comes back to a replica after another one
// applied it is written at once, so the journal's row is the new owner's.
func TestReplicaNoopPassWritesNoDeviceState(t *testing.T) {
	p := newReplicaPair(t)
	db, err := sql.Open("pgx", p.r1.cfg.State.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows := func() map[string]string {
		t.Helper()
		out := map[string]string{}
		r, err := db.Query(`SELECT device, state, intent_commit, updated_at FROM device_state`)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for r.Next() {
			var dev, state, commit string
			var at int64
			if err := r.Scan(&dev, &state, &commit, &at); err != nil {
				t.Fatal(err)
			}
			out[dev] = fmt.Sprintf("%s %.7s %d", state, commit, at)
		}
		return out
	}
	before := rows()
	if len(before) != len(p.l.sim.Devices()) {
		t.Fatalf("%d device rows, want %d: %v", len(before), len(p.l.sim.Devices()), before)
	}
	p.pass(t, p.r1)
	p.pass(t, p.r2)
	if after := rows(); !maps.Equal(before, after) {
		var changed []string
		for dev, v := range after {
			if before[dev] != v {
				changed = append(changed, dev)
			}
		}
		slices.Sort(changed)
		t.Errorf("a steady pass of both replicas wrote the rows of %v", changed)
	}

	// d2 goes to the leader for a coordinated set and comes back to r2.
	d1, f1 := p.shareOf(t, "r1")
	d2, f2 := p.shareOf(t, "r2")
	head := p.change(t, f1, f2)
	for range 4 {
		p.pass(t, p.r1)
		p.pass(t, p.r2)
	}
	p.l.assertConverged()
	owners, err := p.r1.journal.DeviceOwners(context.Background())
	if err != nil || owners[d2].Replica != "r2" || owners[d1].Replica != "r1" {
		t.Fatalf("owners: %s %+v, %s %+v (%v)", d1, owners[d1], d2, owners[d2], err)
	}
	got := rows()
	for _, x := range []struct {
		d   *Daemon
		dev string
	}{{p.r1, d1}, {p.r2, d2}} {
		x.d.mu.Lock()
		mine := x.d.devices[x.dev]
		x.d.mu.Unlock()
		if want := fmt.Sprintf("%s %.7s", mine.State, mine.Commit); !strings.HasPrefix(got[x.dev], want+" ") || mine.Commit != head {
			t.Errorf("%s: journal row %q, its owner %s holds %q at %.7s, want the commit %.7s", x.dev, got[x.dev], x.d.replica.id, want, mine.Commit, head)
		}
	}
	steady := rows()
	p.pass(t, p.r1)
	p.pass(t, p.r2)
	if after := rows(); !maps.Equal(steady, after) {
		t.Errorf("the steady pass after the handback wrote device rows")
	}
}

// TestCoordinatedScheduledActivation: two services of one commit activate at
// the same moment on devices of different shards. The commit's change set
// was settled long before; the activation is a new generation of the
// desired state, so it is coordinated like a new commit: the follower
// applies nothing of it, and the leader applies both devices as one run.
// (Per commit, each owner applied its own device when its clock passed the
// moment: two runs, the change set's atomicity lost.)
func TestCoordinatedScheduledActivation(t *testing.T) {
	p := newReplicaPair(t)
	d1, _ := p.shareOf(t, "r1")
	d2, _ := p.shareOf(t, "r2")
	at := p.now().Add(time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
	svc := func(name, dev, ip string) string {
		return "apiVersion: netrecon.io/v1\nkind: attachment-circuit\nmetadata:\n  name: " + name + "\n  customer: sched\n  activate: " + at +
			"\nspec:\n  device: " + dev + "\n  interface: ge-0/0/7\n  vlan: 3777\n  description: SCHED-" + name + "\n  ipv4: " + ip + "/30\n"
	}
	p.l.commit("two circuits activating together", map[string]string{
		"services/sched/sched-a.yaml": svc("sched-a", d1, "203.0.113.1"),
		"services/sched/sched-b.yaml": svc("sched-b", d2, "203.0.113.5"),
	})
	for range 3 {
		for _, d := range []*Daemon{p.r1, p.r2} {
			if ps := p.pass(t, d); len(ps.Applied) > 0 {
				t.Fatalf("%s applied %v before the activation", d.replica.id, ps.Applied)
			}
		}
	}
	running := func(dev string) string { return simDevice(t, p.l, dev).Running().String() }
	if strings.Contains(running(d1), "SCHED-") || strings.Contains(running(d2), "SCHED-") {
		t.Fatal("a scheduled circuit is on a device before its activation")
	}

	p.ahead.Add(int64(time.Hour + time.Minute))
	// r2 sees the moment first: its device's change is held, the
	// generation's change set not being published yet.
	if ps := p.pass(t, p.r2); len(ps.Applied) > 0 {
		t.Fatalf("r2 applied %v before the leader published the activation's change set", ps.Applied)
	}
	var applied []string
	var runs []string
	for range 6 {
		for _, d := range []*Daemon{p.r1, p.r2} {
			ps := p.pass(t, d)
			if len(ps.Applied) > 0 && d != p.r1 {
				t.Fatalf("%s applied %v of a coordinated activation", d.replica.id, ps.Applied)
			}
			applied = append(applied, ps.Applied...)
			runs = append(runs, ps.RunIDs...)
		}
	}
	if want := slices.Sorted(slices.Values([]string{d1, d2})); !slices.Equal(slices.Sorted(slices.Values(applied)), want) || len(runs) != 1 {
		t.Fatalf("applied %v in runs %v, want %v in one run by the leader", applied, runs, want)
	}
	for _, dev := range []string{d1, d2} {
		if !strings.Contains(running(dev), "SCHED-") {
			t.Errorf("%s: the scheduled circuit is not on the device after its activation", dev)
		}
	}
	ctx := context.Background()
	if owners, err := p.r1.journal.DeviceOwners(ctx); err != nil || owners[d2].Replica != "r2" || owners[d1].Replica != "r1" {
		t.Errorf("owners after the run: %s %+v, %s %+v (%v)", d1, owners[d1], d2, owners[d2], err)
	}
}
