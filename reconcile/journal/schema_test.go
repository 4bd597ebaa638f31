package journal

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSchemaVersionRecorded(t *testing.T) { eachBackend(t, testSchemaVersionRecorded) }

func testSchemaVersionRecorded(t *testing.T, be backend) {
	ctx := context.Background()
	j, path := be.open(t)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	// Opening again applies nothing twice.
	j2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := j2.Close(); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	rows, err := db.Query(`SELECT version, name FROM schema_version ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var versions []int
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			t.Fatal(err)
		}
		if name == "" {
			t.Errorf("migration %d has no name", v)
		}
		versions = append(versions, v)
	}
	if len(versions) != SchemaVersion() || versions[len(versions)-1] != SchemaVersion() {
		t.Errorf("schema_version rows %v, want 1..%d", versions, SchemaVersion())
	}
	if be.name != "sqlite" {
		return // WAL is SQLite's
	}
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q, %v; want wal", mode, err)
	}
}

func TestMigrationsOrdered(t *testing.T) {
	for i, m := range migrations() {
		if m.version != i+1 {
			t.Errorf("migration %d has version %d: versions must be 1, 2, 3... in order", i, m.version)
		}
		if m.name == "" || len(m.stmts) == 0 {
			t.Errorf("migration %d: empty name or no statements", m.version)
		}
	}
}

func TestNewerSchemaRefused(t *testing.T) { eachBackend(t, testNewerSchemaRefused) }

func testNewerSchemaRefused(t *testing.T, be backend) {
	j, path := be.open(t)
	j.Close()
	db := rawDB(t, path)
	if _, err := db.Exec(`INSERT INTO schema_version (version, name, applied_at) VALUES (99, 'from the future', 0)`); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), path)
	var verr *VersionError
	if !errors.As(err, &verr) {
		t.Fatalf("Open of a version 99 journal: %v, want a *VersionError", err)
	}
	if verr.Found != 99 || verr.Known != SchemaVersion() {
		t.Errorf("VersionError %+v", verr)
	}
	for _, s := range []string{path, "schema version 99", "newer", "at least as new"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
}

func TestNotAJournal(t *testing.T) {
	dir := t.TempDir()
	csv, err := os.ReadFile(filepath.Join("testdata", "not-a-database.csv"))
	if err != nil {
		t.Fatal(err)
	}
	notDB := filepath.Join(dir, "runs.csv")
	if err := os.WriteFile(notDB, csv, 0o600); err != nil {
		t.Fatal(err)
	}
	otherDB := filepath.Join(dir, "other.db")
	db := rawDB(t, otherDB)
	if _, err := db.Exec(`CREATE TABLE customers (id INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	tests := []struct {
		name, path, message string
	}{
		{"text file", notDB, "not an SQLite database"},
		{"other database", otherDB, "1 other tables and no schema_version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := os.ReadFile(tt.path)
			j, err := Open(context.Background(), tt.path)
			if err == nil {
				j.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, ErrNotJournal) {
				t.Errorf("error %q is not ErrNotJournal", err)
			}
			for _, s := range []string{tt.path, "not a netrecon journal", tt.message} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if after, _ := os.ReadFile(tt.path); !bytes.Equal(before, after) {
				t.Error("Open changed a file that is not a journal")
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, message string
		opts                []Option
	}{
		{"empty path", "", "empty path", nil},
		{"missing directory", filepath.Join(dir, "nope", "j.db"), "directory", nil},
		{"parent is a file", filepath.Join(file, "j.db"), "not a directory", nil},
		{"path is a directory", dir, "is a directory", nil},
		{"nil clock", filepath.Join(dir, "j.db"), "nil clock", []Option{WithClock(nil)}},
		{"negative timeout", filepath.Join(dir, "j.db"), "negative", []Option{WithBusyTimeout(-1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := Open(context.Background(), tt.path, tt.opts...)
			if err == nil {
				j.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not say %q", err, tt.message)
			}
		})
	}
}

func TestOpenOddPathAndMode(t *testing.T) {
	// '?', '#', '%' and a space would cut or change an SQLite URI.
	path := filepath.Join(t.TempDir(), "odd ?name#1%20.db")
	j, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	mustBegin(t, j, Run{}, "pe1")
	j.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("the journal is not at the path given: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600: the journal holds persist ids", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "odd ?name#1%20.db") {
			t.Errorf("stray file %q beside the journal", e.Name())
		}
	}
}

func TestRebind(t *testing.T) {
	d := dialect{placeholders: dollar}
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT a FROM t WHERE x = ? AND y = ?", "SELECT a FROM t WHERE x = $1 AND y = $2"},
		{"SELECT '?', \"a?\" FROM t WHERE x = ?", "SELECT '?', \"a?\" FROM t WHERE x = $1"},
		{"SELECT 'it''s ?' WHERE x = ?", "SELECT 'it''s ?' WHERE x = $1"},
		{"INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"},
	}
	for _, tt := range tests {
		if got := d.rebind(tt.in); got != tt.want {
			t.Errorf("rebind(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := sqliteDialect().rebind(tt.in); got != tt.in {
			t.Errorf("sqlite rebind(%q) = %q, want it unchanged", tt.in, got)
		}
	}
}

// A journal written before version 5 kept each run's plan in runs; the
// migration moves it to run_plans, and every run reads as before.
func TestMigratePlansApart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	db := rawDB(t, path)
	for _, m := range migrations()[:4] {
		for _, s := range m.stmts {
			if _, err := db.Exec(s); err != nil {
				t.Fatalf("migration %d: %v", m.version, err)
			}
		}
		if _, err := db.Exec(`INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, 0)`, m.version, m.name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`INSERT INTO runs (id, intent_commit, started_by, atomic, plan, started_at, finished_at, outcome, summary)
		VALUES (7, 'c1', 'cli:ana', 1, '{"format":1}', 1, NULL, 'running', '')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO device_runs (run_id, device, phase, persist_id, error) VALUES (7, 'pe1', 'committed', 'netrecon-1', '')`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	j, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	run, err := j.Run(context.Background(), 7)
	if err != nil {
		t.Fatal(err)
	}
	if string(run.Plan) != `{"format":1}` || run.IntentCommit != "c1" || len(run.Devices) != 1 || run.Devices[0].PersistID != "netrecon-1" {
		t.Errorf("run after the migration: %+v", run)
	}
	unfinished, err := j.Unfinished(context.Background())
	if err != nil || len(unfinished) != 1 || string(unfinished[0].Plan) != `{"format":1}` {
		t.Errorf("unfinished after the migration: %+v, %v", unfinished, err)
	}
	// A new run gets its plan row, and the old column is gone.
	id := mustBegin(t, j, Run{Plan: []byte(`{"format":2}`)}, "pe1")
	if r, err := j.Run(context.Background(), id); err != nil || string(r.Plan) != `{"format":2}` {
		t.Errorf("new run: %+v, %v", r, err)
	}
	var n int
	if err := rawDB(t, path).QueryRow(`SELECT COUNT(*) FROM pragma_table_info('runs') WHERE name = 'plan'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("runs still has a plan column (%d, %v)", n, err)
	}
}
