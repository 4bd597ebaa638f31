package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Lease is a replica's hold on its share of the devices: a row in leases,
// renewed before it expires. Its token is the lease's epoch, from one
// counter that only grows: a replica that lost its lease and takes a new one
// gets a new token, so a write still carrying the old one is refused
// (fencing), whatever the replica believes.
type Lease struct {
	Replica string
	Token   int64
	// Acquired is when this epoch began; Expires when it ends unless
	// renewed. Both by the database's clock, the one arbiter of replicas
	// whose own clocks may differ.
	Acquired time.Time
	Expires  time.Time
}

// ErrLeaseLost is a write, a renewal or a claim by a replica whose lease
// expired or was replaced by a newer epoch: the database refused it, and the
// replica must stop acting on devices until it holds a new lease.
var ErrLeaseLost = errors.New("lease lost")

// FencedError is a write that the database refused because the writer's
// lease is gone or a device is owned by another lease (ErrLeaseLost).
type FencedError struct {
	Replica string
	Token   int64
	// Devices are the devices the lease does not own; empty when the lease
	// itself is gone.
	Devices []string
}

func (e *FencedError) Error() string {
	if e.Token == 0 {
		return fmt.Sprintf("replica %s: %v: holds no lease now", e.Replica, ErrLeaseLost)
	}
	if len(e.Devices) == 0 {
		return fmt.Sprintf("replica %s lease %d: %v: expired or replaced", e.Replica, e.Token, ErrLeaseLost)
	}
	return fmt.Sprintf("replica %s lease %d: %v: does not own %s", e.Replica, e.Token, ErrLeaseLost, strings.Join(e.Devices, ", "))
}

func (e *FencedError) Unwrap() error { return ErrLeaseLost }

// Fenced returns a view of the journal whose every write first checks, in
// the same transaction, that lease is still current (its token, unexpired by
// the database's clock), and whose writes for devices check that the lease
// owns them (ClaimDevices): refused, they are a *FencedError and record
// nothing. Reads are as j's. The view shares j's connections: close j, not
// the view.
func (j *Journal) Fenced(lease Lease) *Journal {
	v := *j
	v.fence = &lease
	return &v
}

// FencedBy is Fenced with a lease that may change: each write carries the
// lease current returns at that moment, and is refused (ErrLeaseLost),
// without a query, while current reports none. For a replica whose lease
// keeper renews and, once lost, re-acquires the lease.
func (j *Journal) FencedBy(current func() (Lease, bool)) *Journal {
	v := *j
	v.fence, v.fenceFn = nil, current
	return &v
}

// Lease returns the lease the journal's writes carry now (Fenced,
// FencedBy), and false for a journal that is not fenced (one process alone
// on its database) or whose lease is lost.
func (j *Journal) Lease() (Lease, bool) {
	l, err := j.currentLease()
	if err != nil || l == nil {
		return Lease{}, false
	}
	return *l, true
}

// currentLease is the lease a write carries: nil when unfenced, an error
// when fenced by a keeper that holds no lease now.
func (j *Journal) currentLease() (*Lease, error) {
	switch {
	case j.fence != nil:
		return j.fence, nil
	case j.fenceFn != nil:
		l, ok := j.fenceFn()
		if !ok {
			return nil, &FencedError{Replica: l.Replica}
		}
		return &l, nil
	}
	return nil, nil
}

// fenced reports whether the journal's writes carry a lease.
func (j *Journal) fenced() bool { return j.fence != nil || j.fenceFn != nil }

// writer is the token stamped on what a fenced journal writes: 0 unfenced.
func (t txn) writer() int64 {
	if t.fence == nil {
		return 0
	}
	return t.fence.Token
}

// checkLease refuses the transaction unless its lease is current. On
// PostgreSQL the row is locked FOR SHARE until the transaction ends, so a
// replica taking over (which replaces or deletes that row) waits for this
// write to commit, and a write never lands after its lease was taken.
func (t txn) checkLease() error {
	if t.fence == nil {
		return nil
	}
	var n int
	err := t.queryRow(`SELECT COUNT(*) FROM (SELECT 1 FROM leases WHERE replica = ? AND token = ? AND expires_at > `+
		t.d.nowNanos+t.d.forShare+`) AS l`, t.fence.Replica, t.fence.Token).Scan(&n)
	if err != nil {
		return fmt.Errorf("check lease: %w", err)
	}
	if n == 0 {
		return &FencedError{Replica: t.fence.Replica, Token: t.fence.Token}
	}
	return nil
}

// fenceDevices refuses the transaction unless the lease owns every one of
// devices ("" is no device and passes).
func (t txn) fenceDevices(devices ...string) error {
	if t.fence == nil {
		return nil
	}
	want := map[string]bool{}
	for _, d := range devices {
		if d != "" {
			want[d] = true
		}
	}
	if len(want) == 0 {
		return nil
	}
	// In device order, as claims and releases lock them: rows locked in
	// one order everywhere cannot deadlock.
	rows, err := t.query(`SELECT device FROM device_owners WHERE replica = ? AND token = ? ORDER BY device`+t.d.forShare,
		t.fence.Replica, t.fence.Token)
	if err != nil {
		return fmt.Errorf("check device owners: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return err
		}
		delete(want, d)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(want) > 0 {
		missing := make([]string, 0, len(want))
		for d := range want {
			missing = append(missing, d)
		}
		sort.Strings(missing)
		return &FencedError{Replica: t.fence.Replica, Token: t.fence.Token, Devices: missing}
	}
	return nil
}

// fenceRun checks that the lease owns every device of run id.
func (t txn) fenceRun(id RunID) error {
	if t.fence == nil {
		return nil
	}
	rows, err := t.query(`SELECT device FROM device_runs WHERE run_id = ?`, id)
	if err != nil {
		return err
	}
	var devices []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return err
		}
		devices = append(devices, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	return t.fenceDevices(devices...)
}

// AcquireLease begins a new lease epoch for replica, valid for ttl: a new
// token, whatever the replica held before. A process that restarts under the
// same replica id takes a new epoch, so that an old process of that id, if it
// still runs (paused, partitioned), is fenced out at once.
func (j *Journal) AcquireLease(ctx context.Context, replica string, ttl time.Duration) (Lease, error) {
	if replica == "" || ttl <= 0 {
		return Lease{}, fmt.Errorf("journal: acquire lease: replica %q, ttl %v: want a replica id and a positive ttl", replica, ttl)
	}
	var l Lease
	err := j.leaseWrite(ctx, func(t txn) error {
		var token int64
		// One counter row, updated in place: its row lock orders every
		// acquisition, so tokens only grow, on any database.
		if err := t.queryRow(`UPDATE lease_epoch SET token = token + 1 WHERE id = 1 RETURNING token`).Scan(&token); err != nil {
			return err
		}
		var acquired, expires int64
		if err := t.queryRow(`INSERT INTO leases (replica, token, acquired_at, expires_at)
			VALUES (?, ?, `+t.d.nowNanos+`, `+t.d.nowNanos+` + ?)
			ON CONFLICT (replica) DO UPDATE SET token = excluded.token, acquired_at = excluded.acquired_at,
				expires_at = excluded.expires_at
			RETURNING acquired_at, expires_at`, replica, token, ttl.Nanoseconds()).Scan(&acquired, &expires); err != nil {
			return err
		}
		l = Lease{Replica: replica, Token: token, Acquired: time.Unix(0, acquired).UTC(), Expires: time.Unix(0, expires).UTC()}
		return nil
	})
	if err != nil {
		return Lease{}, fmt.Errorf("journal: replica %s: acquire lease: %w", replica, err)
	}
	j.log.InfoContext(ctx, "lease acquired", "replica", replica, "token", l.Token, "expires", l.Expires)
	return l, nil
}

// leaseWrite runs a lease's own write. On PostgreSQL it does not queue
// behind this process's other writes (the write semaphore): an apply
// journaling hundreds of devices must not delay the renewal past the
// lease's expiry. SQLite, with its one writer, takes turns as ever.
func (j *Journal) leaseWrite(ctx context.Context, fn func(txn) error) error {
	if j.d.placeholders == dollar {
		return j.writeTx(ctx, fn)
	}
	return j.write(ctx, fn)
}

// RenewLease extends l by ttl from now, if it is still current: an expired
// lease is not renewed (another replica may have taken its devices in
// between), it is lost (ErrLeaseLost), and the replica acquires a new one.
func (j *Journal) RenewLease(ctx context.Context, l Lease, ttl time.Duration) (Lease, error) {
	var expires int64
	err := j.leaseWrite(ctx, func(t txn) error {
		err := t.queryRow(`UPDATE leases SET expires_at = `+t.d.nowNanos+` + ?
			WHERE replica = ? AND token = ? AND expires_at > `+t.d.nowNanos+` RETURNING expires_at`,
			ttl.Nanoseconds(), l.Replica, l.Token).Scan(&expires)
		if errors.Is(err, sql.ErrNoRows) {
			return &FencedError{Replica: l.Replica, Token: l.Token}
		}
		return err
	})
	if err != nil {
		return l, fmt.Errorf("journal: renew lease: %w", err)
	}
	l.Expires = time.Unix(0, expires).UTC()
	return l, nil
}

// ReleaseLease ends l and gives up its devices, for a replica that stops:
// the others take its share at their next poll, without waiting for expiry.
func (j *Journal) ReleaseLease(ctx context.Context, l Lease) error {
	err := j.writeAlone(ctx, func(t txn) error {
		if _, err := t.exec(`DELETE FROM device_owners WHERE replica = ? AND token = ?`, l.Replica, l.Token); err != nil {
			return err
		}
		_, err := t.exec(`DELETE FROM leases WHERE replica = ? AND token = ?`, l.Replica, l.Token)
		return err
	})
	if err != nil {
		return fmt.Errorf("journal: replica %s: release lease: %w", l.Replica, err)
	}
	return nil
}

// Replicas returns the unexpired leases, oldest epoch first: the first is
// the leader, which applies the change sets that span replicas' shards.
func (j *Journal) Replicas(ctx context.Context) ([]Lease, error) {
	var out []Lease
	err := j.read(ctx, func(t txn) error {
		rows, err := t.query(`SELECT replica, token, acquired_at, expires_at FROM leases
			WHERE expires_at > ` + t.d.nowNanos + ` ORDER BY token`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var l Lease
			var acquired, expires int64
			if err := rows.Scan(&l.Replica, &l.Token, &acquired, &expires); err != nil {
				return err
			}
			l.Acquired, l.Expires = time.Unix(0, acquired).UTC(), time.Unix(0, expires).UTC()
			out = append(out, l)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("journal: replicas: %w", err)
	}
	return out, nil
}

// ClaimDevices makes l the owner of each of devices that no current lease
// owns (never owned, released, or owned by an expired or replaced lease) or
// that l owns already, and returns those l owns afterwards. A device another
// current lease owns is left to it: that replica releases it
// (ReleaseDevices) once it has settled its runs there, and l claims it at a
// later poll. Lease check and claims are one transaction.
func (j *Journal) ClaimDevices(ctx context.Context, l Lease, devices []string) ([]string, error) {
	// Each claim locks its row until the transaction ends. Replicas claim
	// overlapping sets at once (the leader gathers a change set while the
	// others claim their shares), so every claim locks in device order:
	// in the callers' orders, PostgreSQL found deadlocks (SQLSTATE 40P01)
	// and failed a pass.
	devices = slices.Sorted(slices.Values(devices))
	var owned []string
	fj := j.Fenced(l)
	err := fj.writeAlone(ctx, func(t txn) error {
		stmt, err := t.prepare(`INSERT INTO device_owners (device, replica, token, since)
			VALUES (?, ?, ?, ` + t.d.nowNanos + `)
			ON CONFLICT (device) DO UPDATE SET replica = excluded.replica, token = excluded.token, since = excluded.since
			WHERE (device_owners.replica = excluded.replica AND device_owners.token = excluded.token)
				OR NOT EXISTS (SELECT 1 FROM leases c WHERE c.replica = device_owners.replica
					AND c.token = device_owners.token AND c.expires_at > ` + t.d.nowNanos + `)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, d := range devices {
			res, err := stmt.ExecContext(ctx, d, l.Replica, l.Token)
			if err != nil {
				return fmt.Errorf("device %s: %w", d, err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n > 0 {
				owned = append(owned, d)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("journal: replica %s: claim devices: %w", l.Replica, err)
	}
	return owned, nil
}

// ReleaseDevices gives up l's ownership of devices, for devices that moved
// to another replica's share.
func (j *Journal) ReleaseDevices(ctx context.Context, l Lease, devices []string) error {
	devices = slices.Sorted(slices.Values(devices)) // lock order: see ClaimDevices
	err := j.writeAlone(ctx, func(t txn) error {
		stmt, err := t.prepare(`DELETE FROM device_owners WHERE device = ? AND replica = ? AND token = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, d := range devices {
			if _, err := stmt.ExecContext(ctx, d, l.Replica, l.Token); err != nil {
				return fmt.Errorf("device %s: %w", d, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("journal: replica %s: release devices: %w", l.Replica, err)
	}
	return nil
}

// DeviceOwners returns each owned device's replica, whatever the state of
// its lease.
func (j *Journal) DeviceOwners(ctx context.Context) (map[string]Lease, error) {
	out := map[string]Lease{}
	err := j.read(ctx, func(t txn) error {
		rows, err := t.query(`SELECT device, replica, token FROM device_owners`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d string
			var l Lease
			if err := rows.Scan(&d, &l.Replica, &l.Token); err != nil {
				return err
			}
			out[d] = l
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("journal: device owners: %w", err)
	}
	return out, nil
}

// ownedRuns keeps the runs whose every device the current lease owns.
func (j *Journal) ownedRuns(ctx context.Context, runs []Run) ([]Run, error) {
	l, ok := j.Lease()
	if !ok {
		return nil, nil
	}
	owners, err := j.DeviceOwners(ctx)
	if err != nil {
		return nil, err
	}
	var out []Run
	for _, r := range runs {
		mine := true
		for _, d := range r.Devices {
			if o := owners[d.Device]; o.Replica != l.Replica || o.Token != l.Token {
				mine = false
				break
			}
		}
		if mine {
			out = append(out, r)
		}
	}
	return out, nil
}
