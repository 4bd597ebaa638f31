package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// IsPostgres reports whether a journal location names a PostgreSQL database
// (a postgres:// or postgresql:// URL) rather than an SQLite file.
func IsPostgres(location string) bool {
	return strings.HasPrefix(location, "postgres://") || strings.HasPrefix(location, "postgresql://")
}

// The query parameters of a journal URL that name where its password is,
// so that the URL itself, in serve.yaml or on a command line, holds none.
const (
	passwordFileParam = "password_file"
	passwordEnvParam  = "password_env"
)

// RedactDSN returns a PostgreSQL URL fit for a log line or an error: its
// password, if any, replaced by "xxxxx". A location that does not parse is
// returned as its scheme alone, since any part of it could be the secret.
func RedactDSN(location string) string {
	u, err := url.Parse(location)
	if err != nil {
		if i := strings.Index(location, "://"); i >= 0 {
			return location[:i+3] + "(unparsable URL)"
		}
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// pgConfig turns a journal URL into pgx's configuration: the password taken
// from the file or environment variable the URL names (password_file,
// password_env), which pgx itself does not know and would send to the
// server as run-time parameters.
func pgConfig(location string) (*pgx.ConnConfig, error) {
	u, err := url.Parse(location)
	if err != nil {
		return nil, fmt.Errorf("not a URL: %v", redactURLError(err))
	}
	q := u.Query()
	file, env := q.Get(passwordFileParam), q.Get(passwordEnvParam)
	q.Del(passwordFileParam)
	q.Del(passwordEnvParam)
	u.RawQuery = q.Encode()
	var password string
	switch {
	case file != "" && env != "":
		return nil, fmt.Errorf("both %s and %s: name one place for the password", passwordFileParam, passwordEnvParam)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", passwordFileParam, err)
		}
		// A secret file mounted by Kubernetes or written by echo ends
		// with a newline that is not part of the password.
		password = strings.TrimRight(string(b), "\r\n")
	case env != "":
		v, ok := os.LookupEnv(env)
		if !ok {
			return nil, fmt.Errorf("%s: environment variable %s is not set", passwordEnvParam, env)
		}
		password = v
	}
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		// pgx's parse errors quote the connection string: say only what kind.
		return nil, errors.New("the URL is not a valid PostgreSQL connection string (see https://www.postgresql.org/docs/15/libpq-connect.html#LIBPQ-CONNSTRING)")
	}
	if file != "" || env != "" {
		cfg.Password = password
	}
	return cfg, nil
}

// redactURLError drops the URL that url.Parse quotes in its error.
func redactURLError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

// pgMigrateLock is the key of the advisory lock under which a journal's
// migrations run: replicas that start together take turns, and every one
// after the first finds the schema already there. Any constant will do, as
// long as it is the same for every netrecon ("nrjrnl" in ASCII).
const pgMigrateLock = 0x6e726a726e6c

// postgresDialect is PostgreSQL's dialect.
func postgresDialect() dialect {
	return dialect{
		name:         "postgres",
		placeholders: dollar,
		tableExists: `SELECT COUNT(*) FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_name = ?`,
		userTables: `SELECT COUNT(*) FROM information_schema.tables
			WHERE table_schema = current_schema()`,
		migrateLock: fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", pgMigrateLock),
		// One snapshot for every query of a read, as SQLite's read
		// transaction gives; READ COMMITTED would see each query's own.
		readIsolation: sql.LevelRepeatableRead,
		ddl:           pgDDL,
		nowNanos:      "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000000 AS BIGINT)",
		forShare:      " FOR SHARE",
	}
}

// pgMaxOpenConns bounds this process's connections: PostgreSQL has no
// single writer, but each connection is a server process.
const pgMaxOpenConns = 8

// pgWriteSlots is how many write transactions may be open at once: fewer
// than the connections, so that the lease's renewal (which passes the write
// semaphore by) and the readers always find one.
const pgWriteSlots = pgMaxOpenConns - 2

// openPostgres opens the journal in the PostgreSQL database at location.
func openPostgres(ctx context.Context, location string, cfg config) (*Journal, error) {
	shown := RedactDSN(location)
	pc, err := pgConfig(location)
	if err != nil {
		return nil, fmt.Errorf("journal: open %s: %w", shown, err)
	}
	db := stdlib.OpenDB(*pc)
	db.SetMaxOpenConns(pgMaxOpenConns)
	db.SetMaxIdleConns(pgMaxOpenConns)
	j := &Journal{
		db:       db,
		d:        postgresDialect(),
		path:     shown,
		log:      cfg.log,
		now:      cfg.now,
		writeSem: make(chan struct{}, pgWriteSlots),
		alone:    &sync.Mutex{},
		stats:    &stats{},
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("journal: open %s: %w", shown, scrub(err, pc.Password))
	}
	err = j.read(ctx, func(t txn) error {
		v, err := j.version(t)
		if err == nil && v > SchemaVersion() {
			err = &VersionError{Path: shown, Found: v, Known: SchemaVersion()}
		}
		return err
	})
	if err == nil {
		err = j.migrate(ctx)
	}
	if err != nil {
		db.Close()
		var verr *VersionError
		if errors.As(err, &verr) || errors.Is(err, ErrNotJournal) {
			return nil, err
		}
		return nil, fmt.Errorf("journal: open %s: %w", shown, scrub(err, pc.Password))
	}
	return j, nil
}

// scrub keeps a password out of an error whose text might quote it.
func scrub(err error, password string) error {
	if password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), password, "xxxxx"))
}
