package journal

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver for rawDB and the admin connection

	"github.com/netrecon/netrecon/lab/labtest"
)

// backend is one database the journal runs on, for tests that must hold on
// every one of them.
type backend struct {
	name string
	// open opens a journal in a new, empty database (a temporary file, a
	// PostgreSQL database of its own) and closes it, and drops the
	// database, when the test ends. The location it returns reopens it
	// with Open.
	open func(t testing.TB, opts ...Option) (*Journal, string)
}

var sqliteBackend = backend{name: "sqlite", open: openTemp}

// postgresBackend is the lab's PostgreSQL server; a test that asks for it
// without a lab ends through labtest.Missing (fails under CI=true).
var postgresBackend = backend{name: "postgres", open: openPostgresTemp}

// eachBackend runs fn once per backend, as subtests named for it.
func eachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	t.Helper()
	for _, b := range []backend{sqliteBackend, postgresBackend} {
		t.Run(b.name, func(t *testing.T) { fn(t, b) })
	}
}

// openPostgresTemp creates a database with a unique name on the lab's
// server, opens a journal in it, and drops it when the test ends.
func openPostgresTemp(t testing.TB, opts ...Option) (*Journal, string) {
	t.Helper()
	dsn := createTempDatabase(t)
	j, err := Open(context.Background(), dsn, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	// Registered after the database's own cleanup, so run before it.
	t.Cleanup(func() {
		if err := j.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return j, dsn
}

// createTempDatabase creates an empty database on the lab's server and
// returns its URL; it is dropped, with any connection still open, at the end.
func createTempDatabase(t testing.TB) string {
	t.Helper()
	admin := labtest.PostgresDSN(t)
	if admin == "" {
		return ""
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	name := "nrj_" + hex.EncodeToString(rnd[:])
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database %s on the lab's PostgreSQL: %v", name, err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			t.Error(err)
			return
		}
		defer db.Close()
		if _, err := db.Exec("DROP DATABASE " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// rawDB opens a journal's database without the journal, to look at or tamper
// with it as another program would. Queries given to it use "?" placeholders
// only through rawQ.
func rawDB(t *testing.T, location string) *sql.DB {
	t.Helper()
	driver := "sqlite"
	if IsPostgres(location) {
		driver = "pgx"
	}
	db, err := sql.Open(driver, location)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rawQ rebinds query for the database at location.
func rawQ(location, query string) string {
	if IsPostgres(location) {
		return postgresDialect().rebind(query)
	}
	return query
}

// tempLocation is where a test that creates the journal itself opens it.
func tempLocation(t *testing.T, b backend) string {
	t.Helper()
	if b.name == "postgres" {
		return createTempDatabase(t)
	}
	return filepath.Join(t.TempDir(), "journal.db")
}
