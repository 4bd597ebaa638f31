package daemon

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A warm daemon's no-op pass answers in-sync devices from their verified
// plans (planner.Verified); one leaf changed by hand on a device between two
// such passes, with the commit, the record and every other device the same,
// is still drift in the very next pass, and the device is not taken as
// verified until it is in sync again.
func TestNoopPassSeesDriftTheSamePass(t *testing.T) {
	l, d := exampleApplied(t)
	ctx := context.Background()
	// The second pass verifies the records the first wrote; the third is
	// answered from the verified plans.
	for i := range 2 {
		if p := d.SyncOnce(ctx, "test"); len(p.Applied)+len(p.Drift)+len(p.Failed) != 0 {
			t.Fatalf("no-op pass %d: %+v", i+2, p)
		}
	}
	if n := d.verified.Len(); n != 3 {
		t.Fatalf("%d devices verified in sync after two no-op passes, want 3", n)
	}
	handEdit(t, l, "pe2-osa")
	p := d.SyncOnce(ctx, "test")
	if !slices.Equal(p.Drift, []string{"pe2-osa"}) || len(p.Applied) != 0 {
		t.Fatalf("pass after a hand edit: drift %v applied %v failed %v; want drift on pe2-osa", p.Drift, p.Applied, p.Failed)
	}
	if n := d.verified.Len(); n != 2 {
		t.Errorf("%d devices verified in sync with pe2-osa drifted, want 2", n)
	}
	if p := d.SyncOnce(ctx, "test"); !slices.Equal(p.Drift, []string{"pe2-osa"}) {
		t.Errorf("reported drift is no longer seen: %+v", p)
	}
}

// A no-op pass writes no device state and no state key: the journal already
// holds them. A pass that sees drift writes the drifted device's row alone.
func TestNoopPassWritesNoDeviceState(t *testing.T) {
	l, d := exampleApplied(t)
	ctx := context.Background()
	d.SyncOnce(ctx, "test")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(l.state, "journal.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	written := func() map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, q := range []string{`SELECT 'device_state/' || device, updated_at FROM device_state`, `SELECT 'state/' || key, updated_at FROM state`} {
			rows, err := db.Query(q)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var k string
				var at int64
				if err := rows.Scan(&k, &at); err != nil {
					t.Fatal(err)
				}
				out[k] = fmt.Sprint(at)
			}
			if err := rows.Close(); err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	before := written()
	if len(before) < 3 {
		t.Fatalf("journal rows: %v", before)
	}
	if p := d.SyncOnce(ctx, "test"); len(p.Applied)+len(p.Drift)+len(p.Failed) != 0 {
		t.Fatalf("no-op pass: %+v", p)
	}
	if after := written(); !maps.Equal(before, after) {
		t.Errorf("a no-op pass wrote journal rows:\nbefore %v\nafter  %v", before, after)
	}
	handEdit(t, l, "pe2-osa")
	if p := d.SyncOnce(ctx, "test"); !slices.Equal(p.Drift, []string{"pe2-osa"}) {
		t.Fatalf("drift pass: %+v", p)
	}
	var changed []string
	after := written()
	for k, v := range after {
		if before[k] != v {
			changed = append(changed, k)
		}
	}
	slices.Sort(changed)
	if strings.Join(changed, " ") != "device_state/pe2-osa" {
		t.Errorf("the drift pass wrote %v, want device_state/pe2-osa alone", changed)
	}
	var state string
	if err := db.QueryRow(`SELECT state FROM device_state WHERE device = 'pe2-osa'`).Scan(&state); err != nil || state != string(StateDrift) {
		t.Errorf("journal: pe2-osa is %q (%v), want %s", state, err, StateDrift)
	}
}

// A pass whose device states the journal refused writes them all at the next
// pass, though nothing changed since: this process's copy is not the
// journal's until a write succeeds.
func TestDeviceStatesWrittenAgainAfterAFailedWrite(t *testing.T) {
	l, d := exampleApplied(t)
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(l.state, "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The journal refuses every device-state write, as a full disk would.
	for _, op := range []string{"INSERT", "UPDATE"} {
		if _, err := db.Exec(`CREATE TRIGGER test_refuse_` + op + ` BEFORE ` + op + ` ON device_state BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`); err != nil {
			t.Fatal(err)
		}
	}
	handEdit(t, l, "pe2-osa")
	if p := d.SyncOnce(ctx, "test"); !slices.Equal(p.Drift, []string{"pe2-osa"}) {
		t.Fatalf("drift pass: %+v", p)
	}
	state := func() string {
		t.Helper()
		var s string
		if err := db.QueryRow(`SELECT state FROM device_state WHERE device = 'pe2-osa'`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := state(); s == string(StateDrift) {
		t.Fatal("the journal took the write it was to refuse")
	}
	for _, op := range []string{"INSERT", "UPDATE"} {
		if _, err := db.Exec(`DROP TRIGGER test_refuse_` + op); err != nil {
			t.Fatal(err)
		}
	}
	// The same drift again: unchanged for this process, not for the journal.
	if p := d.SyncOnce(ctx, "test"); !slices.Equal(p.Drift, []string{"pe2-osa"}) {
		t.Fatalf("next pass: %+v", p)
	}
	if s := state(); s != string(StateDrift) {
		t.Errorf("journal: pe2-osa is %q after the failed write, want %s", s, StateDrift)
	}
}
