package journal

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRedactDSN(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"postgres://netrecon:s3cret@db:5432/j?sslmode=require", "postgres://netrecon:xxxxx@db:5432/j?sslmode=require"},
		{"postgres://netrecon@db/j?password_file=/run/secrets/pg", "postgres://netrecon@db/j?password_file=/run/secrets/pg"},
		{"postgres://u:s3cret@db:bad port/j", "postgres://(unparsable URL)"},
	} {
		if got := RedactDSN(tt.in); got != tt.want {
			t.Errorf("RedactDSN(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzRedactDSN: whatever the rest of the URL, the redacted form does not
// depend on the password: it holds nothing of it.
func FuzzRedactDSN(f *testing.F) {
	f.Add("db:5432/j?sslmode=disable", "s3cret")
	f.Add("[::1]:5432/j", "p@ss:w/rd")
	f.Add("%zz/", "secret")
	f.Fuzz(func(t *testing.T, rest, password string) {
		with := func(p string) string {
			return "postgres://" + url.UserPassword("netrecon", p).String() + "@" + rest
		}
		if got, other := RedactDSN(with(password)), RedactDSN(with("another-one")); got != other {
			t.Errorf("RedactDSN(%q) = %q, but %q with another password: the password shows", with(password), got, other)
		}
	})
}

// The password comes from the file or variable the URL names, never from the
// URL itself, and no error quotes it.
func TestPostgresPasswordReference(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pg")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NETRECON_TEST_PG_PASSWORD", "from-env")
	for _, tt := range []struct{ dsn, password, err string }{
		{"postgres://u@db/j?password_file=" + file, "from-file", ""},
		{"postgres://u@db/j?password_env=NETRECON_TEST_PG_PASSWORD", "from-env", ""},
		{"postgres://u@db/j?password_env=NETRECON_TEST_UNSET", "", "NETRECON_TEST_UNSET is not set"},
		{"postgres://u@db/j?password_file=" + file + "&password_env=X", "", "name one place"},
		{"postgres://u@db/j?password_file=" + filepath.Join(dir, "missing"), "", "password_file"},
	} {
		cfg, err := pgConfig(tt.dsn)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("pgConfig(%q): %v, want an error saying %q", tt.dsn, err, tt.err)
			}
		case err != nil:
			t.Errorf("pgConfig(%q): %v", tt.dsn, err)
		case cfg.Password != tt.password:
			t.Errorf("pgConfig(%q): password %q, want %q", tt.dsn, cfg.Password, tt.password)
		case cfg.RuntimeParams["password_file"] != "" || cfg.RuntimeParams["password_env"] != "":
			t.Errorf("pgConfig(%q) sends the reference to the server: %v", tt.dsn, cfg.RuntimeParams)
		}
	}
	// A server that cannot be reached: the error names the URL, not the password.
	t.Setenv("NETRECON_TEST_PG_PASSWORD", "hunter2-secret")
	for _, dsn := range []string{
		"postgres://u:hunter2-secret@127.0.0.1:1/j?connect_timeout=2",
		"postgres://u@127.0.0.1:1/j?connect_timeout=2&password_env=NETRECON_TEST_PG_PASSWORD",
	} {
		_, err := Open(context.Background(), dsn)
		if err == nil {
			t.Fatalf("Open(%s) on a closed port succeeded", RedactDSN(dsn))
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open: %v quotes the password", err)
		}
		if !strings.Contains(err.Error(), "127.0.0.1:1") {
			t.Errorf("Open: %v does not name the server", err)
		}
	}
}

// A PostgreSQL database that holds other tables is not a journal: Open
// refuses it and changes nothing.
func TestPostgresNotAJournal(t *testing.T) {
	dsn := createTempDatabase(t)
	db := rawDB(t, dsn)
	if _, err := db.Exec(`CREATE TABLE customers (id BIGINT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), dsn)
	if !errors.Is(err, ErrNotJournal) || !strings.Contains(err.Error(), "1 other tables") {
		t.Fatalf("Open of a database of something else: %v, want ErrNotJournal", err)
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&n); err != nil || n != 1 {
		t.Errorf("tables after the refused Open: %d, %v; want 1 (customers alone)", n, err)
	}
}
