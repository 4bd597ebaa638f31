package irrsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/netrecon/netrecon/rpsl"
)

// Options configure a Sim.
type Options struct {
	// Databases to serve; at least one, names unique.
	Databases []DatabaseOptions
	// Relay is the SMTP server (host:port) the databases mail their replies
	// through, the lab's MTA; empty keeps replies in Database.Replies only.
	Relay string
	// Logger receives the servers' events; nil discards them.
	Logger *slog.Logger
	// Now is the clock for delayed changes; nil is time.Now.
	Now func() time.Time
}

// DatabaseOptions configure one simulated registry.
type DatabaseOptions struct {
	// Name is the database's source name, e.g. "JPIRR"; stored upper-case.
	Name string
	// WhoisAddr and SMTPAddr are the listen addresses; empty is
	// "127.0.0.1:0" (a free port, see Database.WhoisAddr and SMTPAddr).
	WhoisAddr string
	SMTPAddr  string
	// HTTPAddr is where IRRd's HTTP submission API (/v1/submit/) listens;
	// empty is "127.0.0.1:0" (see Database.SubmitURL).
	HTTPAddr string
	// MailDomain is the domain of the database's submission address
	// (auto-dbm@<domain>); empty is "<name lower-cased>.irrsim.test".
	MailDomain string
	// Seed is RPSL text loaded at start; its source: attributes are not
	// checked.
	Seed string
	// Faults start as given and can be changed with Database.SetFaults.
	Faults Faults
}

// Faults are the knobs that make a database misbehave as real registries do.
type Faults struct {
	// RefuseTemp answers that many submissions with a temporary failure
	// (SMTP 451 at RCPT; HTTP 503) before accepting again.
	RefuseTemp int
	// RefusePerm answers every submission with a permanent failure (SMTP
	// 554; HTTP 403).
	RefusePerm bool
	// ShowAfter delays the visibility of an accepted change: the reply says
	// it succeeded at once, whois shows it only after this time.
	ShowAfter time.Duration
	// Lose accepts submissions and then drops them: by mail, 250 and then
	// no change and no reply; over HTTP, an answer that each object
	// succeeded, and no change.
	Lose bool
}

// Sim is a running set of simulated registries.
type Sim struct {
	dbs   []*Database
	log   *slog.Logger
	relay string

	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	lns    []net.Listener
	// closers stop servers that own their connections (the SMTP servers).
	closers []func()
	// stop detaches Close from the context given to Start; done is closed
	// when Close has finished.
	stop func() bool
	done chan struct{}
}

// Database is one simulated registry of a Sim.
type Database struct {
	name   string
	domain string
	sim    *Sim
	log    *slog.Logger
	store  *store
	whois  net.Listener
	smtp   net.Listener
	http   net.Listener

	mu          sync.Mutex
	faults      Faults
	refused     int
	submissions []Submission
	replies     []Reply
}

// Start starts every database's servers. It fails when a database's seed does
// not parse or an address cannot be listened on; ctx ends the Sim as Close does.
func Start(ctx context.Context, opts Options) (*Sim, error) {
	if len(opts.Databases) == 0 {
		return nil, errors.New("irrsim: no databases")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := &Sim{log: log, relay: opts.Relay, conns: map[net.Conn]struct{}{}, stop: func() bool { return false }, done: make(chan struct{})}
	seen := map[string]bool{}
	for _, do := range opts.Databases {
		name := strings.ToUpper(do.Name)
		if name == "" || seen[name] {
			s.Close()
			return nil, fmt.Errorf("irrsim: database name %q is empty or used twice", do.Name)
		}
		seen[name] = true
		db, err := s.startDatabase(name, do, now)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("irrsim: %s: %w", name, err)
		}
		s.dbs = append(s.dbs, db)
	}
	// Close runs in its own goroutine when ctx ends; it waits for the
	// handlers, never for itself.
	stop := context.AfterFunc(ctx, func() { s.Close() })
	s.mu.Lock()
	s.stop = stop
	s.mu.Unlock()
	return s, nil
}

func (s *Sim) startDatabase(name string, do DatabaseOptions, now func() time.Time) (*Database, error) {
	db := &Database{
		name:   name,
		domain: do.MailDomain,
		sim:    s,
		log:    s.log.With("db", name),
		store:  newStore(now),
		faults: do.Faults,
	}
	if db.domain == "" {
		db.domain = strings.ToLower(name) + ".irrsim.test"
	}
	objs, err := rpsl.Parse(do.Seed)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	for _, o := range objs {
		db.store.change(o, false, 0)
	}
	if db.whois, err = s.listen(do.WhoisAddr); err != nil {
		return nil, fmt.Errorf("whois: %w", err)
	}
	s.wg.Go(func() { s.acceptLoop(db.whois, name+" whois", db.serveWhois) })
	if db.smtp, err = s.listen(do.SMTPAddr); err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	if err := db.startSMTP(); err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	if db.http, err = s.listen(do.HTTPAddr); err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	db.startHTTP()
	return db, nil
}

func (s *Sim) listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.lns = append(s.lns, ln)
	s.mu.Unlock()
	return ln, nil
}

// trackConn records an open connection for Close; false when closing.
func (s *Sim) trackConn(c net.Conn, open bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !open {
		delete(s.conns, c)
		return true
	}
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

// DB returns the database called name (case-insensitive), or nil.
func (s *Sim) DB(name string) *Database {
	for _, db := range s.dbs {
		if strings.EqualFold(db.name, name) {
			return db
		}
	}
	return nil
}

// Databases returns the databases in the order of Options.Databases.
func (s *Sim) Databases() []*Database { return append([]*Database(nil), s.dbs...) }

// Close stops every server and ends open connections; it waits for their
// handlers. Calling it again waits for the first call to finish.
func (s *Sim) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.done
		return nil
	}
	s.closed = true
	closers, stop := s.closers, s.stop
	s.mu.Unlock()
	stop()
	// The SMTP servers first: go-smtp tells its own close from a failure
	// only when it closes the listener itself.
	for _, c := range closers {
		c()
	}
	s.mu.Lock()
	for _, ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	close(s.done)
	return nil
}

// Name is the database's source name, e.g. "JPIRR".
func (db *Database) Name() string { return db.name }

// WhoisAddr is the whois server's host:port.
func (db *Database) WhoisAddr() string { return db.whois.Addr().String() }

// SMTPAddr is the submission SMTP server's host:port.
func (db *Database) SMTPAddr() string { return db.smtp.Addr().String() }

// SubmitURL is the URL of the database's HTTP submission API.
func (db *Database) SubmitURL() string { return "http://" + db.http.Addr().String() + "/v1/submit/" }

// SubmissionAddress is where submissions are mailed: auto-dbm@<mail domain>.
func (db *Database) SubmissionAddress() string { return "auto-dbm@" + db.domain }

// MailDomain is the domain the database receives mail for.
func (db *Database) MailDomain() string { return db.domain }

// SetFaults replaces the database's fault knobs (and restarts the RefuseTemp
// count).
func (db *Database) SetFaults(f Faults) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.faults = f
	db.refused = 0
}

// Object returns the object of class with key as whois shows it now.
func (db *Database) Object(class, key string) (*rpsl.Object, bool) {
	return db.store.get(class, key)
}

// Put stores an object at once, as an administrator would, bypassing
// submission and its checks.
func (db *Database) Put(o *rpsl.Object) { db.store.change(o, false, 0) }
