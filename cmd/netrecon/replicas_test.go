package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the test's own look at the shared journal

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netsim"
	"github.com/netrecon/netrecon/lab/labtest"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
)

// The replicas' timing in these tests: a dead replica's devices move within
// leaseTTL + pollInterval (and the pass a survivor may be in).
const (
	replicaDevices = 200
	leaseTTL       = 3 * time.Second
	pollInterval   = time.Second
)

// replicaProc is one `netrecon serve` replica, a separate process.
type replicaProc struct {
	id     string
	cmd    *exec.Cmd
	out    *syncBuffer
	done   chan error
	exited chan struct{} // closed when the process ended
	listen string
}

// status reads the replica's /api/v1/status.
func (p *replicaProc) status(t *testing.T) api.Status {
	t.Helper()
	st, err := p.tryStatus()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// tryStatus reads the replica's status, or says why it could not: a
// replica just started may not listen yet.
func (p *replicaProc) tryStatus() (api.Status, error) {
	var st api.Status
	resp, err := http.Get("http://" + p.listen + "/api/v1/status")
	if err != nil {
		return st, fmt.Errorf("replica %s status: %w", p.id, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("replica %s status: %w", p.id, err)
	}
	return st, nil
}

// metrics reads the replica's /metrics.
func (p *replicaProc) metrics(t *testing.T) string {
	t.Helper()
	resp, err := http.Get("http://" + p.listen + "/metrics")
	if err != nil {
		t.Fatalf("replica %s metrics: %v", p.id, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// checkReplicaStatus: each survivor's status shows itself and the live
// replicas, exactly one of them leading, the shards covering every device.
func checkReplicaStatus(t *testing.T, ps ...*replicaProc) {
	t.Helper()
	var sts []api.Status
	leaders, shards := 0, 0
	// Shards settle at each replica's next pass (released, then claimed).
	poll(t, "the survivors' status shows every device in one shard, one leader", 30*time.Second, func() bool {
		sts, leaders, shards = sts[:0], 0, 0
		for _, p := range ps {
			st, err := p.tryStatus()
			if err != nil {
				return false // not listening yet: the poll's deadline ends it
			}
			if st.Replica == nil || len(st.Replicas) != len(ps) {
				return false
			}
			if st.Replica.Leader {
				leaders++
			}
			shards += st.Replica.ShardDevices
			sts = append(sts, st)
		}
		return leaders == 1 && shards == replicaDevices
	})
	for i, p := range ps {
		if r := sts[i].Replica; r.ID != p.id || !r.HoldsLease || r.LeaseAgeSeconds <= 0 {
			t.Errorf("replica %s status: %+v", p.id, r)
		}
		m := p.metrics(t)
		for _, name := range []string{"netrecon_replica_shard_devices", "netrecon_replica_lease_age_seconds", "netrecon_replica_leader", "netrecon_replicas_live"} {
			if !strings.Contains(m, name+`{replica="`+p.id+`"}`) {
				t.Errorf("replica %s /metrics has no %s", p.id, name)
			}
		}
	}
}

// alive fails the test at once when a replica that should run has ended.
func alive(t *testing.T, ps ...*replicaProc) {
	t.Helper()
	for _, p := range ps {
		select {
		case <-p.exited:
			t.Fatalf("replica %s ended: %s\n%s", p.id, p.cmd.ProcessState, tail(p.out.String(), 3000))
		default:
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// replicaFixture is 200 netsim devices, an intent repo for them in Git, and
// a fresh PostgreSQL database that the replicas share.
type replicaFixture struct {
	exe, repo, kh, dsn, head string
	sim                      *netsim.Sim
	tg                       crashTarget
	want                     map[string]*configtree.Tree
	j                        *journal.Journal // unfenced: the test's view
	extra                    string           // more serve.yaml, for every replica started
}

func newReplicaFixture(t *testing.T, exe string, sim *netsim.Sim, kh string, vlan int) *replicaFixture {
	t.Helper()
	f := &replicaFixture{exe: exe, sim: sim, kh: kh}
	f.tg = crashTarget{user: "netrecon", creds: "      passwordEnv: NETRECON_CRASH_PASSWORD\n", knownHosts: kh}
	for _, d := range sim.Devices() {
		f.tg.devices = append(f.tg.devices, crashDevice{d.Name, d.Address, d.Port})
	}
	f.repo = replicaRepo(t, f.tg, vlan)
	gitCommitAll(t, f.repo, "intent")
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
	f.want = map[string]*configtree.Tree{}
	for _, d := range f.tg.devices {
		w, diags := r.Device(d.name)
		if diags.HasErrors() {
			t.Fatal(diags.Err())
		}
		f.want[d.name] = w
	}
	f.dsn = replicaDatabase(t)
	if f.j, err = journal.Open(context.Background(), f.dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.j.Close() })
	return f
}

// replicaRepo writes an intent repo with one attachment circuit per device,
// as crashRepo does, with addresses for hundreds of devices.
func replicaRepo(t *testing.T, tg crashTarget, vlan int) string {
	t.Helper()
	dir := t.TempDir()
	var inv strings.Builder
	inv.WriteString("apiVersion: netrecon.io/v1\nkind: Inventory\ndevices:\n")
	for _, d := range tg.devices {
		fmt.Fprintf(&inv, "  - name: %s\n    platform: ietf\n    address: %s\n    port: %d\n    site: lab\n    role: pe\n    credentials:\n      username: %s\n%s", d.name, d.address, d.port, tg.user, tg.creds)
	}
	files := map[string]string{"inventory/lab.yaml": inv.String()}
	for i, d := range tg.devices {
		name := fmt.Sprintf("replica-%d-%s", vlan, d.name)
		files["services/replica/"+name+".yaml"] = fmt.Sprintf(`apiVersion: netrecon.io/v1
kind: attachment-circuit
metadata: {name: %s, customer: replica}
spec:
  device: %s
  interface: ge-9/9/9
  vlan: %d
  description: replica test %d on %s
  ipv4: 100.%d.%d.%d/30
`, name, d.name, vlan, vlan, d.name, 64+i/64, vlan%250, 1+4*(i%64))
	}
	for p, c := range files {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// replicaDatabase creates a database on the lab's PostgreSQL for one test.
func replicaDatabase(t *testing.T) string {
	t.Helper()
	admin := labtest.PostgresDSN(t)
	var rnd [6]byte
	rand.Read(rnd[:])
	name := "nrr_" + hex.EncodeToString(rnd[:])
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db, _ := sql.Open("pgx", admin)
		defer db.Close()
		db.Exec("DROP DATABASE " + name + " WITH (FORCE)")
	})
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	return u.String()
}

// start runs replica id with env added to its environment.
func (f *replicaFixture) start(t *testing.T, id string, env ...string) *replicaProc {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "serve.yaml")
	p := &replicaProc{id: id, out: &syncBuffer{}, done: make(chan error, 1), exited: make(chan struct{}),
		listen: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	yaml := fmt.Sprintf(`repo: {path: %s}
poll_interval: %s
state_dir: %s
known_hosts: %s
confirm_timeout: 60s
concurrency: 20
listen: %s
api: {open_reads: true}
state:
  database: %s
  replica: {id: %s, lease_ttl: %s, renew: 1s}
%s`, f.repo, pollInterval, filepath.Join(dir, "state"), f.kh, p.listen, f.dsn, id, leaseTTL, f.extra)
	os.MkdirAll(filepath.Join(dir, "state"), 0o700)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(f.exe, "serve", "--config", cfg)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGCONT)
		p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			var keep []string
			for _, line := range strings.Split(p.out.String(), "\n") {
				if !strings.Contains(line, `"msg":"apply"`) {
					keep = append(keep, line)
				}
			}
			t.Logf("replica %s output but apply progress (tail):\n%s", id, tail(strings.Join(keep, "\n"), 6000))
		}
	})
	return p
}

// poll calls cond until it holds or the deadline passes.
func poll(t *testing.T, what string, within time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(100 * time.Millisecond) // polling other processes' progress
	}
	return time.Since(start)
}

// converged: every device runs the intent, and the journal says so.
func (f *replicaFixture) converged(t *testing.T) bool {
	states, err := f.j.DeviceStates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ok := 0
	for _, st := range states {
		if (st.State == "in-sync" || st.State == "applied") && st.Commit == f.head {
			ok++
		}
	}
	return ok == len(f.tg.devices)
}

// deviceStates says, per device, whether it runs the intent ("new"), none of
// it ("old"), or something between ("half"), read from the simulator.
func (f *replicaFixture) deviceStates() map[string]int {
	counts := map[string]int{}
	for name, want := range f.want {
		got := f.sim.Device(name).Running()
		switch n := len(configtree.Diff(got, want)); {
		case n == 0:
			counts["new"]++
		case n == len(configtree.Diff(configtree.New(), want)):
			counts["old"]++
		default:
			counts["half"]++
		}
	}
	return counts
}

// checkJournal checks what the journal shows of the writers: each device of
// each run written by one lease at a time (the first writer, then at most
// the one that recovered it, never back), every device confirmed by exactly
// one run (no double apply), and each device owned by one live lease.
func (f *replicaFixture) checkJournal(t *testing.T) {
	t.Helper()
	f.checkJournalFor(t, f.want)
}

// checkJournalFor is checkJournal with only the devices of confirm
// expected confirmed, each by exactly one run (the others ran the intent
// before any replica started).
func (f *replicaFixture) checkJournalFor(t *testing.T, confirm map[string]*configtree.Tree) {
	t.Helper()
	ctx := context.Background()
	runs, err := f.j.Runs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	confirmed := map[string]int{}
	for _, sum := range runs {
		r, err := f.j.Run(ctx, sum.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range r.Devices {
			var writers []int64
			for _, tr := range d.Transitions {
				if tr.Writer == 0 {
					t.Errorf("run %d %s: transition %s written unfenced", r.ID, d.Device, tr.Phase)
				}
				if len(writers) == 0 || writers[len(writers)-1] != tr.Writer {
					writers = append(writers, tr.Writer)
				}
				if tr.Phase == journal.Confirmed {
					confirmed[d.Device]++
				}
			}
			// Two: the first writer lost its lease (died, or paused
			// past it) and the leader recovered the run.
			if len(writers) > 2 {
				t.Errorf("run %d %s: writers %v: want one lease, then at most the one that recovered it, never back", r.ID, d.Device, writers)
			}
		}
	}
	for name := range confirm {
		if confirmed[name] != 1 {
			t.Errorf("%s confirmed by %d runs, want 1", name, confirmed[name])
		}
	}
	// device_owners has one row per device at most (its key); a device
	// the leader released after recovery waits for its share's owner's
	// next pass, so "exactly one" is polled for.
	var orphans []string
	poll(t, "every device owned by one live lease", 30*time.Second, func() bool {
		owners, err := f.j.DeviceOwners(ctx)
		if err != nil {
			t.Fatal(err)
		}
		live, err := f.j.Replicas(ctx)
		if err != nil {
			t.Fatal(err)
		}
		liveTokens := map[int64]bool{}
		for _, l := range live {
			liveTokens[l.Token] = true
		}
		orphans = orphans[:0]
		for name := range f.want {
			if o, ok := owners[name]; !ok || !liveTokens[o.Token] {
				orphans = append(orphans, name)
			}
		}
		return len(orphans) == 0
	})
}

// tokenOf is replica id's current lease token.
func (f *replicaFixture) tokenOf(t *testing.T, id string) int64 {
	t.Helper()
	live, err := f.j.Replicas(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range live {
		if l.Replica == id {
			return l.Token
		}
	}
	return 0
}

// ownedBy counts the devices lease token owns.
func (f *replicaFixture) ownedBy(t *testing.T, token int64) int {
	owners, err := f.j.DeviceOwners(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, o := range owners {
		if o.Token == token {
			n++
		}
	}
	return n
}

func startReplicaSim(t *testing.T) (*netsim.Sim, string) {
	t.Helper()
	keys := func(p string) configtree.Keys { return render.Keys(p, nil) }
	specs := make([]netsim.DeviceSpec, replicaDevices)
	for i := range specs {
		specs[i] = netsim.DeviceSpec{Name: fmt.Sprintf("pe%d", i+1), Platform: "ietf"}
	}
	sim, err := netsim.Start(context.Background(), netsim.Options{Devices: specs, Username: "netrecon", Password: "s3cret", Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	kh := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(kh, sim.KnownHosts(), 0o600)
	t.Setenv("NETRECON_CRASH_PASSWORD", "s3cret")
	return sim, kh
}

// TestReplicasFailover: three replicas on one PostgreSQL database share 200
// simulated devices. The one that dies (SIGKILL) at each apply phase has its
// devices taken over by the survivors, its run recovered as a restart would
// (confirmed or cancelled, verified), and every device ends on the intent:
// none half-applied, none applied twice, one writer at a time in the journal.
func TestReplicasFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 3 daemons and 200 simulated devices per phase")
	}
	labtest.PostgresDSN(t)
	exe := crashBinary(t)
	for i, phase := range []string{"locked", "edited", "committed", "verified", "confirmed"} {
		t.Run(phase, func(t *testing.T) {
			sim, kh := startReplicaSim(t)
			f := newReplicaFixture(t, exe, sim, kh, 400+i)
			r1 := f.start(t, "r1", "NETRECON_TEST_CRASH_AT="+phase)
			token := time.Now()
			poll(t, "r1 holds a lease", 30*time.Second, func() bool { return f.tokenOf(t, "r1") != 0 })
			r1tok := f.tokenOf(t, "r1")
			r2 := f.start(t, "r2")
			r3 := f.start(t, "r3")
			var died time.Time
			select {
			case <-r1.exited:
				died = time.Now()
			case <-time.After(3 * time.Minute):
				t.Fatalf("r1 was not killed at %s", phase)
			}
			t.Logf("r1 killed at %s after %v", phase, died.Sub(token).Round(time.Millisecond))
			took := poll(t, "survivors take r1's devices over", 2*time.Minute, func() bool { alive(t, r2, r3); return f.ownedBy(t, r1tok) == 0 })
			t.Logf("r1's devices taken over %v after its death (lease ttl %v + poll %v)", took.Round(time.Millisecond), leaseTTL, pollInterval)
			if limit := leaseTTL + pollInterval + 15*time.Second; took > limit {
				t.Errorf("takeover took %v, want within lease ttl + one poll (+ a pass in flight): %v", took, limit)
			}
			poll(t, "every device in sync", 4*time.Minute, func() bool { alive(t, r2, r3); return f.converged(t) })
			if got := f.deviceStates(); got["new"] != replicaDevices {
				t.Errorf("devices after failover: %v, want all %d new", got, replicaDevices)
			}
			f.checkJournal(t)
			checkReplicaStatus(t, r2, r3)
		})
	}
}

// TestReplicaPausedPastLease: a replica stopped (SIGSTOP) mid-apply past its
// lease, its devices taken over, then resumed (SIGCONT), makes no write the
// database accepts; the survivors bring every device to the intent.
func TestReplicaPausedPastLease(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 3 daemons and 200 simulated devices")
	}
	labtest.PostgresDSN(t)
	exe := crashBinary(t)
	sim, kh := startReplicaSim(t)
	f := newReplicaFixture(t, exe, sim, kh, 420)
	r1 := f.start(t, "r1", "NETRECON_TEST_STOP_AT=committed")
	poll(t, "r1 holds a lease", 30*time.Second, func() bool { return f.tokenOf(t, "r1") != 0 })
	r1tok := f.tokenOf(t, "r1")
	r2 := f.start(t, "r2")
	r3 := f.start(t, "r3")
	poll(t, "r1 stops itself at committed", 3*time.Minute, func() bool { return processStopped(r1.cmd.Process.Pid) })
	// r1 holds the NETCONF locks of the devices it was applying, as a real
	// paused process would (its sessions stay open): the survivors take its
	// devices in the journal, and wait for the locks.
	poll(t, "survivors take r1's devices over", 2*time.Minute, func() bool { return f.ownedBy(t, r1tok) == 0 })
	// r1's writes to the runs it was applying: under its old lease, or
	// under the new one its keeper takes once it runs again.
	before := f.writesBy(t, r1tok, r2, r3)
	r1.cmd.Process.Signal(syscall.SIGCONT)
	poll(t, "r1 finds its lease lost", time.Minute, func() bool { return strings.Contains(r1.out.String(), "lease lost") })
	// r1 goes on with a new lease; give its resumed apply a few passes.
	newTok := time.Now()
	poll(t, "r1 takes a new lease", time.Minute, func() bool { t2 := f.tokenOf(t, "r1"); return t2 != 0 && t2 != r1tok })
	t.Logf("r1 back with a new lease after %v", time.Since(newTok).Round(time.Millisecond))
	// Its next pass claims its share again; the apply it resumed in
	// wrote nothing the database took.
	if after := f.writesBy(t, r1tok, r2, r3); after != before {
		t.Errorf("the database accepted %d writes of r1 to the runs it was applying, after it resumed", after-before)
	}
	poll(t, "every device in sync after r1's return", 4*time.Minute, func() bool { alive(t, r1, r2, r3); return f.converged(t) })
	if got := f.deviceStates(); got["new"] != replicaDevices {
		t.Errorf("devices: %v, want all %d new", got, replicaDevices)
	}
	f.checkJournal(t)
}

// writesBy counts the transitions in the runs lease token wrote to that
// were written by any lease but the survivors'.
func (f *replicaFixture) writesBy(t *testing.T, token int64, survivors ...*replicaProc) int {
	t.Helper()
	db, err := sql.Open("pgx", f.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var theirs []any
	q := `SELECT COUNT(*) FROM transitions WHERE run_id IN (SELECT run_id FROM transitions WHERE writer = $1)`
	for i, p := range survivors {
		theirs = append(theirs, f.tokenOf(t, p.id))
		q += fmt.Sprintf(" AND writer <> $%d", i+2)
	}
	var n int
	if err := db.QueryRow(q, append([]any{token}, theirs...)...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// processStopped reports whether pid is stopped (state T in /proc).
func processStopped(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] == 'T'
}
