package daemon

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the test's own database

	"github.com/netrecon/netrecon/lab/labtest"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/schema"
)

// probeCode GETs path from d's handler and returns the code and the body.
func probeCode(t *testing.T, d *Daemon, path string) (int, string) {
	t.Helper()
	w := do(t, d.Handler(), "GET", path, nil, nil)
	return w.Code, w.Body.String()
}

func wantProbe(t *testing.T, d *Daemon, path string, code int, reason string) {
	t.Helper()
	got, body := probeCode(t, d, path)
	if got != code || !strings.Contains(body, reason) {
		t.Errorf("GET %s = %d %q, want %d with %q", path, got, strings.TrimSpace(body), code, reason)
	}
}

// A loop stuck in a pass that ignores its context, or one that stopped
// starting passes, fails /healthz; the loop moving again passes it. The
// clock is the daemon's own, moved by the test: no test waits 30 minutes.
func TestHealthzWedgedLoop(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	clock := newTestClock(time.Now())
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	d := l.start(Options{Now: clock.Now, Dialer: func(*schema.Intent, Credentials) reconcile.Dialer {
		return reconcile.DialFunc(func(context.Context, *schema.Device) (reconcile.Device, error) {
			once.Do(func() { close(entered) })
			<-release // a device call that ignores the pass's context
			return nil, errors.New("released")
		})
	}})
	runDaemon(t, d)
	t.Cleanup(unblock) // before runDaemon's stop, which waits for the pass
	<-entered
	wantProbe(t, d, "/healthz", 200, "in a pass")

	clock.Set(clock.Now().Add(d.passBound() + time.Second))
	wantProbe(t, d, "/healthz", 503, "the loop is wedged")

	unblock()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, _ := probeCode(t, d, "/healthz"); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/healthz not 200 within 30 s of the pass ending")
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
	// Between passes: the loop sleeps at most poll_interval (an hour in the
	// lab's config). Past twice that with no pass, it is wedged too.
	clock.Set(clock.Now().Add(d.idleBound() + time.Second))
	wantProbe(t, d, "/healthz", 503, "no pass started for")
	p := waitPass(t, d, d.Trigger(ReasonTick))
	if p.Finished.IsZero() {
		t.Fatal("the triggered pass did not finish")
	}
	wantProbe(t, d, "/healthz", 200, "ok")
}

// /readyz goes back to 503 when the intent repo has failed to fetch for
// longer than health.fetch_failing_for, and to 200 once a fetch works.
func TestReadyzFetchFailing(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	clock := newTestClock(time.Now())
	d := l.start(Options{Now: clock.Now})
	wantProbe(t, d, "/readyz", 503, "no pass has compared")
	if p := d.SyncOnce(context.Background(), ReasonStart); p.Commit == "" {
		t.Fatalf("first pass: %+v", p)
	}
	wantProbe(t, d, "/readyz", 200, "ok")

	gone := l.repo + ".gone"
	if err := os.Rename(l.repo, gone); err != nil {
		t.Fatal(err)
	}
	d.SyncOnce(context.Background(), ReasonTick)
	// One failed fetch: still reconciling to the last good commit, ready.
	wantProbe(t, d, "/readyz", 200, "ok")
	clock.Set(clock.Now().Add(l.cfg.Health.FetchFailingFor.D() + time.Second))
	wantProbe(t, d, "/readyz", 503, "the intent repo has failed to fetch since")
	// Liveness is not readiness: the loop is fine.
	wantProbe(t, d, "/healthz", 200, "ok")

	if err := os.Rename(gone, l.repo); err != nil {
		t.Fatal(err)
	}
	d.SyncOnce(context.Background(), ReasonTick)
	wantProbe(t, d, "/readyz", 200, "ok")
}

// A replica on PostgreSQL: /readyz is 503 while the database does not
// answer its lease keeper and while it holds no lease, 200 again when the
// database is back and the keeper holds a lease. The keeper's renewals are
// driven by the test (no Run), so each state is held as long as the test
// looks at it.
func TestReadyzReplicaDatabaseAndLease(t *testing.T) {
	admin := labtest.PostgresDSN(t)
	if admin == "" {
		return
	}
	dsn, name := healthDatabase(t, admin)
	l := newLab(t, exampleFiles(t))
	l.cfg.State = StateConfig{Database: dsn, Replica: ReplicaConfig{ID: "r1", LeaseTTL: Duration(3 * time.Second), Renew: Duration(time.Second)}}
	d := l.start(Options{})
	if p := d.SyncOnce(context.Background(), ReasonStart); p.Commit == "" || p.Error != "" {
		t.Fatalf("first pass: %+v", p)
	}
	wantProbe(t, d, "/readyz", 200, "ok")

	adm, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	exec := func(q string) {
		t.Helper()
		if _, err := adm.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// The database goes away for this replica: new connections refused,
	// the open ones cut.
	exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS false")
	t.Cleanup(func() { adm.Exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true") })
	exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "'")
	d.replica.renewOnce(context.Background())
	wantProbe(t, d, "/readyz", 503, "the journal's database has not answered since")
	wantProbe(t, d, "/healthz", 200, "ok")

	exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true")
	// The journal's pool still holds the connections the server cut: each
	// fails once (pgx through database/sql does not retry them), as the
	// keeper's next renewals would, until one reaches the server again.
	deadline := time.Now().Add(30 * time.Second)
	for {
		d.replica.renewOnce(context.Background())
		if code, _ := probeCode(t, d, "/readyz"); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz not 200 within 30 s of the database's return")
		}
	}

	// No renewal past the lease's ttl (a paused process, a keeper stuck):
	// by its own clock the replica holds no lease, and it says so.
	deadline = time.Now().Add(30 * time.Second)
	for {
		if _, held := d.replica.current(); !held {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lease did not run out within 30 s")
		}
		time.Sleep(20 * time.Millisecond) // polling the lease's deadline
	}
	wantProbe(t, d, "/readyz", 503, "holds no lease")
	d.replica.renewOnce(context.Background()) // refused as expired; a new epoch
	wantProbe(t, d, "/readyz", 200, "ok")
}

// healthDatabase creates an empty database on the lab's server and returns
// its URL and name; it is dropped when the test ends.
func healthDatabase(t *testing.T, admin string) (dsn, name string) {
	t.Helper()
	var rnd [6]byte
	rand.Read(rnd[:])
	name = "nrh_" + hex.EncodeToString(rnd[:])
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		db.Exec("DROP DATABASE " + name + " WITH (FORCE)")
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String(), name
}
