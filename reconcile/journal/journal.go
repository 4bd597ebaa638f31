package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
)

// ErrNotFound is a run, a device of a run, or a pass that the journal does not hold.
var ErrNotFound = errors.New("not found in the journal")

// ErrFinished is a change to a run that is already finished: its record is
// final, so a late phase or a second outcome is refused rather than rewrite
// history.
var ErrFinished = errors.New("run already finished")

// ErrNotJournal is a file that Open cannot use as a journal: not an SQLite
// database, or an SQLite database of something else.
var ErrNotJournal = errors.New("not a netrecon journal")

// VersionError is a journal whose schema is newer than this netrecon knows:
// a newer netrecon wrote it, and this one would misread or damage it.
type VersionError struct {
	Path  string
	Found int // the file's schema version
	Known int // the newest version this netrecon knows
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("journal %s has schema version %d, newer than version %d that this netrecon knows: "+
		"run a netrecon at least as new as the one that wrote it", e.Path, e.Found, e.Known)
}

// LostError is a journal that is missing or empty in a folder that shows it
// held one: the journal's marker, or another sign of use the caller named
// (WithStateSigns). A new journal there would own nothing that netrecon
// created on the devices, so a removal would plan nothing; Open refuses
// rather than start over in silence.
type LostError struct {
	Path  string
	Signs []string // what shows the folder was used
}

func (e *LostError) Error() string {
	dir := filepath.Dir(e.Path)
	return fmt.Sprintf("journal %s is missing or empty, but this state folder was used before (%s): "+
		"the journal recorded what netrecon created on the devices, and a new one would own nothing. "+
		"Restore the journal from a backup; to start over deliberately, move the state folder %s aside "+
		"(or remove it), and netrecon starts a new one",
		e.Path, strings.Join(e.Signs, ", "), dir)
}

// markerSuffix names the file, next to the journal, that says a journal was
// created here. It outlives the journal's own file when that one is
// truncated or removed alone.
const markerSuffix = ".created"

// Journal is an open journal. It is safe for concurrent use by many
// goroutines, and several processes may open the same file.
type Journal struct {
	db   *sql.DB
	d    dialect
	path string
	log  *slog.Logger
	now  func() time.Time
	// fence, when set, is the lease every write carries (Fenced);
	// fenceFn, when set, says which lease that is at each write (FencedBy).
	fence   *Lease
	fenceFn func() (Lease, bool)
	// stats counts the statements sent, shared by the fenced views.
	stats *stats
	// writeSem bounds the write transactions this process has open at
	// once, in order and cancellable by the context. On SQLite it lets one
	// in: SQLite has one writer, and waiting here is cheaper than its
	// busy-wait sleeps. On PostgreSQL it lets in pgWriteSlots: each commit
	// waits for its WAL flush, and concurrent commits share flushes
	// (BenchmarkConcurrentWriters).
	writeSem chan struct{}
	// alone serialises the writes that take every slot of writeSem
	// (writeAlone), so that two of them never hold half the slots each.
	alone *sync.Mutex
}

// Option configures Open.
type Option func(*config) error

type config struct {
	log         *slog.Logger
	now         func() time.Time
	busyTimeout time.Duration
	signs       []string
}

// WithStateSigns names files or folders whose presence shows that the
// journal's folder was used (the daemon's repo mirror): with any of them
// present, a missing or empty journal is a *LostError, not a new journal.
// Files written before a first apply (known_hosts) are not signs.
func WithStateSigns(paths ...string) Option {
	return func(c *config) error {
		c.signs = append(c.signs, paths...)
		return nil
	}
}

// WithLogger sets the logger; nil (the default) discards.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.log = l
		return nil
	}
}

// WithClock sets the clock that stamps transitions and runs, for tests.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("WithClock: nil clock")
		}
		c.now = now
		return nil
	}
}

// WithBusyTimeout sets how long a write waits for another process's write to
// end before it fails (default 5s). A journal write takes milliseconds; the
// timeout covers a slow disk and the other process's checkpoint.
func WithBusyTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("WithBusyTimeout: negative duration %v", d)
		}
		c.busyTimeout = d
		return nil
	}
}

// maxOpenConns bounds the connections to the file: one writer at a time
// (writeSem) and a few concurrent readers, which WAL lets read while the
// writer writes.
const maxOpenConns = 4

// Open opens the journal at path, creating the file and its schema when they
// do not exist; the directory must exist. A file that is not a journal is
// ErrNotJournal, a journal of a newer netrecon is a *VersionError. A journal
// that is missing or empty where one existed before (its marker, path +
// ".created", or a sign given with WithStateSigns, is present) is a
// *LostError, and nothing is created.
func Open(ctx context.Context, path string, opts ...Option) (*Journal, error) {
	cfg := config{now: time.Now, busyTimeout: 5 * time.Second}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
	}
	if cfg.log == nil {
		cfg.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if IsPostgres(path) {
		return openPostgres(ctx, path, cfg)
	}
	if err := checkLost(path, cfg.signs); err != nil {
		return nil, err
	}
	abs, err := createFile(path)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", dsn(abs, cfg.busyTimeout))
	if err != nil {
		return nil, fmt.Errorf("journal: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(maxOpenConns)
	db.SetMaxIdleConns(maxOpenConns)
	j := &Journal{
		db:       db,
		d:        sqliteDialect(),
		path:     path,
		log:      cfg.log,
		now:      cfg.now,
		writeSem: make(chan struct{}, 1),
		alone:    &sync.Mutex{},
		stats:    &stats{},
	}
	if err := j.init(ctx); err != nil {
		db.Close()
		return nil, err
	}
	// Written once the schema is in the file, so a creation that dies
	// earlier leaves an empty file that is still new, not lost.
	if err := writeMarker(abs + markerSuffix); err != nil {
		db.Close()
		return nil, fmt.Errorf("journal: open %s: %w", path, err)
	}
	return j, nil
}

// CheckLost returns a *LostError when the journal at path is missing or
// empty although its marker or one of signs is present, and nil otherwise;
// for callers that read a journal only when there is one.
func CheckLost(path string, signs ...string) error { return checkLost(path, signs) }

func checkLost(path string, signs []string) error {
	if path == "" {
		return nil // createFile says so
	}
	if fi, err := os.Stat(path); err == nil && (fi.IsDir() || fi.Size() > 0) {
		return nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil // createFile reports it with its cause
	}
	var found []string
	for _, s := range append([]string{path + markerSuffix, path + "-wal"}, signs...) {
		if _, err := os.Lstat(s); err == nil {
			found = append(found, s)
		}
	}
	if len(found) == 0 {
		return nil
	}
	return &LostError{Path: path, Signs: found}
}

// writeMarker creates the marker if it does not exist yet.
func writeMarker(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = f.WriteString("netrecon created a journal here. If the journal goes missing or empty, netrecon refuses to start a new one: restore it, or move this folder aside to start over.\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// createFile checks path and creates the file, readable by its owner only,
// if it does not exist: SQLite would create it with the umask's mode, and the
// journal holds persist ids, which let any session confirm a pending commit.
func createFile(path string) (string, error) {
	if path == "" {
		return "", errors.New("journal: open: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("journal: open %s: %w", path, err)
	}
	dir := filepath.Dir(abs)
	fi, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("journal: open %s: directory: %w", path, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("journal: open %s: %s is not a directory", path, dir)
	}
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		return "", fmt.Errorf("journal: open %s: is a directory", path)
	}
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return "", fmt.Errorf("journal: open %s: %w", path, err)
		}
	case !errors.Is(err, fs.ErrExist):
		return "", fmt.Errorf("journal: open %s: %w", path, err)
	}
	return abs, nil
}

// dsn is the data source name of the file at abs: an SQLite URI, so that any
// file name works ('?' and '#' escaped), with the settings every connection
// of the pool applies when it opens. WAL is not among them: init sets it
// once, in the file, after checking that the file is a journal.
func dsn(abs string, busy time.Duration) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(busy.Milliseconds(), 10)+")")
	q.Add("_pragma", "foreign_keys(1)")
	// FULL: a write-ahead record that a power cut loses would make recovery
	// act on an older phase than the device's.
	q.Add("_pragma", "synchronous(FULL)")
	// BEGIN IMMEDIATE for write transactions (read-only ones stay deferred):
	// a deferred transaction that reads then writes must upgrade its lock,
	// and SQLite fails that at once, without the busy timeout, when another
	// connection wrote in between.
	q.Set("_txlock", "immediate")
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	return u.String()
}

// init checks the file and brings its schema up to date.
func (j *Journal) init(ctx context.Context) error {
	// Look before changing anything: WAL mode is written into the file, and
	// a file that is not a journal (or a newer one) must be left as found.
	err := j.read(ctx, func(t txn) error {
		v, err := j.version(t)
		if err == nil && v > SchemaVersion() {
			err = &VersionError{Path: j.path, Found: v, Known: SchemaVersion()}
		}
		return err
	})
	if err != nil {
		return j.openError(err)
	}
	var mode string
	if err := j.db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return j.openError(err)
	}
	// SQLite silently keeps another mode where WAL is impossible (some
	// network filesystems); two processes would then block each other.
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal: open %s: journal mode is %q, not WAL: put the journal on a local filesystem", j.path, mode)
	}
	if err := j.migrate(ctx); err != nil {
		return j.openError(err)
	}
	return nil
}

// openError turns SQLite's "file is not a database" into ErrNotJournal.
func (j *Journal) openError(err error) error {
	var serr *sqlite.Error
	if errors.As(err, &serr) && serr.Code()&0xff == sqliteNotADB {
		return fmt.Errorf("journal: open %s: %w (not an SQLite database: %v)", j.path, ErrNotJournal, err)
	}
	var verr *VersionError
	if errors.As(err, &verr) || errors.Is(err, ErrNotJournal) {
		return err
	}
	return fmt.Errorf("journal: open %s: %w", j.path, err)
}

// sqliteNotADB is SQLITE_NOTADB, the primary result code of a file that is
// not a database.
const sqliteNotADB = 26

// Close closes the journal. Nothing is lost: every method commits before it
// returns.
func (j *Journal) Close() error {
	if err := j.db.Close(); err != nil {
		return fmt.Errorf("journal: close %s: %w", j.path, err)
	}
	return nil
}

// txn is a transaction whose queries are written with "?" placeholders and
// rebound for the dialect.
type txn struct {
	ctx   context.Context
	tx    *sql.Tx
	d     dialect
	fence *Lease // nil: unfenced
	stats *stats
}

// stats counts what the journal asks of its database.
type stats struct {
	statements, transactions atomic.Uint64
}

// Stats is what a journal asked of its database since it was opened.
type Stats struct {
	// Statements counts queries and executions, a prepared statement's
	// each execution included; Transactions counts reads and writes.
	Statements, Transactions uint64
}

// Stats returns what the journal (and its fenced views) asked of the
// database so far: for benchmarks and metrics.
func (j *Journal) Stats() Stats {
	return Stats{Statements: j.stats.statements.Load(), Transactions: j.stats.transactions.Load()}
}

func (t txn) exec(query string, args ...any) (sql.Result, error) {
	t.count()
	return t.tx.ExecContext(t.ctx, t.d.rebind(query), args...)
}

func (t txn) count() {
	if t.stats != nil {
		t.stats.statements.Add(1)
	}
}

func (t txn) query(query string, args ...any) (*sql.Rows, error) {
	t.count()
	return t.tx.QueryContext(t.ctx, t.d.rebind(query), args...)
}

func (t txn) queryRow(query string, args ...any) *sql.Row {
	t.count()
	return t.tx.QueryRowContext(t.ctx, t.d.rebind(query), args...)
}

func (t txn) prepare(query string) (stmt, error) {
	s, err := t.tx.PrepareContext(t.ctx, t.d.rebind(query))
	return stmt{Stmt: s, stats: t.stats}, err
}

// stmt is a prepared statement whose executions Stats counts.
type stmt struct {
	*sql.Stmt
	stats *stats
}

func (s stmt) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	if s.stats != nil {
		s.stats.statements.Add(1)
	}
	return s.Stmt.ExecContext(ctx, args...)
}

// write runs fn in a write transaction and commits it when fn returns nil.
func (j *Journal) write(ctx context.Context, fn func(txn) error) error {
	select {
	case j.writeSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-j.writeSem }()
	return j.writeTx(ctx, fn)
}

// writeAlone is write with no other write of this process in flight: for
// the writes that change which lease owns a device (claims, releases).
// Every fenced write locks its lease's device_owners rows FOR SHARE; a
// release deleting those rows while another write of the process takes
// them could lock them in the other order, and PostgreSQL would abort one
// as a deadlock. On SQLite, with one slot, it is write.
func (j *Journal) writeAlone(ctx context.Context, fn func(txn) error) error {
	j.alone.Lock()
	defer j.alone.Unlock()
	taken := 0
	defer func() {
		for range taken {
			<-j.writeSem
		}
	}()
	for taken < cap(j.writeSem) {
		select {
		case j.writeSem <- struct{}{}:
			taken++
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return j.writeTx(ctx, fn)
}

// writeTx is write without the process's write semaphore.
func (j *Journal) writeTx(ctx context.Context, fn func(txn) error) error {
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	j.stats.transactions.Add(1)
	t := txn{ctx: ctx, tx: tx, d: j.d, stats: j.stats}
	t.fence, err = j.currentLease()
	if err == nil {
		err = t.checkLease()
	}
	if err == nil {
		err = fn(t)
	}
	if err != nil {
		_ = tx.Rollback() // the error that made us roll back is the one to report
		return err
	}
	return tx.Commit()
}

// read runs fn in a read-only transaction: one consistent snapshot, however
// many queries fn makes, while writers go on.
func (j *Journal) read(ctx context.Context, fn func(txn) error) error {
	tx, err := j.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: j.d.readIsolation})
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to lose
	j.stats.transactions.Add(1)
	return fn(txn{ctx: ctx, tx: tx, d: j.d, stats: j.stats})
}

// nanos stores a time; the zero time is stored as NULL.
func nanos(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

// fromNanos reads a time stored by nanos.
func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}
