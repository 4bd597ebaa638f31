package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofrs/flock"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/gitsrc"
	"github.com/netrecon/netrecon/orders"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/apply"
	"github.com/netrecon/netrecon/reconcile/guard"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/planner"
	"github.com/netrecon/netrecon/reconcile/schedule"
	"github.com/netrecon/netrecon/reconcile/session"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
	"github.com/netrecon/netrecon/usage"
)

// Journal state keys the daemon owns.
const (
	// KeyLastApplied is the commit every device of the inventory was last
	// brought to (no device failing, deferred or left drifting).
	KeyLastApplied = "last-applied-commit"
	// KeyCommit is the last good commit: the head the daemon accepted (signed,
	// not rewritten, valid) and reconciles the network to.
	KeyCommit = "daemon/commit"
	// KeyAcceptedBase is a new base an operator accepted after the branch's
	// history was rewritten, until the next pass takes it as the last good
	// commit (accept-history).
	KeyAcceptedBase = "daemon/accepted-base"
)

// DefaultShutdownGrace is how long a stopping daemon lets a pass in flight
// finish before it cancels it (the apply engine then rolls the change set back).
const DefaultShutdownGrace = 20 * time.Second

// Options are what a Daemon gets besides its Config: the injected parts.
type Options struct {
	// Logger receives the daemon's JSON logs; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Dialer opens device sessions for a given intent (list keys depend on its
	// service types) with the inventory's credential references resolved
	// under the daemon's Credentials policy; required (cmd/netrecon dials
	// NETCONF with Config.KnownHosts and the timeouts).
	Dialer func(in *schema.Intent, c Credentials) reconcile.Dialer
	// SNMP opens the reader of the SNMP guard (guards.snmp: community,
	// timeout, retries); required when the config has one and usage: is off
	// (with usage: on, the guard reads through the usage pollers).
	SNMP func(c *SNMPConfig, log *slog.Logger) (guard.SNMPReader, error)
	// SNMPTables opens the table reader of the usage collection (usage:
	// community, timeout, retries); required when the config has usage:.
	SNMPTables func(c *UsageConfig, log *slog.Logger) (usage.TableReader, error)
	// HTTPClient posts notifications; nil uses a client with Config.Notify.Timeout.
	HTTPClient *http.Client
	// ShutdownGrace overrides DefaultShutdownGrace.
	ShutdownGrace time.Duration
	// ApplyReporter, when set, wraps the reporter each apply reports its
	// phases to: the crash tests' hook that kills or pauses the process at
	// a phase (cmd/netrecon, -tags netrecontest).
	ApplyReporter func(apply.Reporter) apply.Reporter
	// Sleep is handed to the apply engine for lock back-off pauses (tests).
	Sleep func(ctx context.Context, d time.Duration) error
	// ApplySummary words an apply's one-line summary for the journal
	// (apply.Options.Summary); cmd/netrecon passes the views' wording. Nil
	// journals none.
	ApplySummary func(*apply.Result) string
	// Evaluator evaluates the repo's own service types when a commit is
	// loaded (schema.Options.Evaluator): the CLI passes a sandbox's, so that
	// a runaway schema fails its commit instead of the daemon; nil is
	// in-process.
	Evaluator schema.Evaluator
	// Follower, when set, builds the Follower told of every pass (IRR
	// registration and sync), from the daemon's journal, its alarms and the
	// config (its irr: section, its repo and state folder); cmd/netrecon
	// passes irr's. A nil Follower follows nothing.
	Follower func(j *journal.Journal, alarms FollowerAlarms, cfg *Config) Follower
	// Pages makes the status page of d (cmd/netrecon gives views/page's);
	// nil serves none.
	Pages func(d *Daemon) PageHandler
	// httpLimits overrides defaultHTTPLimits (tests).
	httpLimits *httpLimits
}

// Daemon is one running reconciler. New prepares it (state lock, journal,
// mirror), Run runs its loop until the context ends, Close releases it.
type Daemon struct {
	cfg     *Config
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	lock    *flock.Flock
	journal *journal.Journal
	// replica is the lease and shard of a daemon that shares its journal
	// (state.database); nil for the one daemon of an SQLite journal.
	replica *replica
	mirror  *gitsrc.Mirror
	policy  gitsrc.Policy
	guards  guard.Guard
	metrics *metrics
	alarms  *alarmSet
	notify  *notifier
	env     map[string]string // Config.Credentials.EnvFile
	// usage measures the services' interfaces over SNMP; usageSet is its
	// per-device pollers, which the SNMP guard reads through. nil: off.
	usage    *usage.Collector
	usageSet *usage.Set
	// orders is the order intake (Config.Orders); nil when it is off.
	orders *orders.Intake
	// sessions keeps one session per device open between passes.
	sessions *session.Pool
	// verified is each device's last in-sync plan and what it was computed
	// from (planner.Verified): a no-op pass reads every device but parses
	// and diffs only those whose record or reply changed.
	verified planner.Verified

	webhookSecret []byte
	tokens        []apiToken // every token of api.*
	warnedFiles   sync.Map   // insecure secret files already warned about
	deliveries    *recentSet

	wake chan struct{} // a trigger; capacity 1 coalesces triggers

	// passMu serialises passes: Run's loop and SyncOnce never overlap,
	// and Close waits for the pass in flight.
	passMu sync.Mutex
	closed bool // under passMu

	// The devices' states are the journal's, read at New and written by
	// every pass (record); devices is this process's copy, and the journal
	// keeps the passes.
	mu            sync.Mutex
	pending       *PassStatus // the next pass, announced to triggers
	current       *PassStatus
	progress      *passProgress // of current, as the status shows it
	lastPass      *PassStatus   // the last finished by this process
	devices       map[string]journal.DeviceState
	controls      map[string]journal.Control // operators' pauses and heals, by device
	byDevice      map[string][]string        // device → its services, at the last pass
	services      []serviceInfo              // of the intent at the last pass, by name
	platforms     map[string]string          // device → platform, at the last pass
	head          string
	commit        string // last good commit
	lastApplied   string // KeyLastApplied
	accepted      string // KeyAcceptedBase
	lastSync      time.Time
	ready         bool
	fetchFailures int
	// fetchFailingSince is the first failed fetch of the current row of
	// failures; zero after a fetch that worked.
	fetchFailingSince time.Time
	// loopAt is when Run's loop last moved (started, woke, finished a
	// pass); zero while no loop runs. Liveness reads it.
	loopAt time.Time
	cache  *intentCache
	// nextBoundary is the followed commit's next activate or deactivate
	// after the last pass's moment; zero: none.
	nextBoundary time.Time
	// upcoming are the followed commit's boundaries, for the status.
	upcoming []schedule.Boundary
	// tasks are the journal's manual-step tasks as of tasksCommit's sync,
	// stepDefs the rendered steps (instructions) by service and step.
	tasks       []journal.Task
	stepDefs    map[[2]string]render.Step
	tasksCommit string
	recorded    map[string]recordedDesired // device → desired tree known to be in the journal
	// statesBehind: the last write of device states failed, so devices
	// may differ from the journal's rows; the next pass writes them all.
	statesBehind bool
	irr          []api.IRRRegistration // the follower's status after the last pass

	follower Follower

	// version counts the changes of what the status shows; snap is the
	// status as JSON at one version.
	version atomic.Uint64
	snap    snapshot
}

// New checks cfg, takes the state folder's lock, opens the journal and the
// repo mirror, and reads the secrets the config names. Nothing talks to a
// device before Run.
func New(ctx context.Context, cfg *Config, opts Options) (_ *Daemon, err error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if opts.Dialer == nil {
		return nil, errors.New("daemon: Options.Dialer is nil")
	}
	d := &Daemon{
		cfg:        cfg,
		opts:       opts,
		log:        opts.Logger,
		now:        opts.Now,
		wake:       make(chan struct{}, 1),
		devices:    map[string]journal.DeviceState{},
		controls:   map[string]journal.Control{},
		platforms:  map[string]string{},
		recorded:   map[string]recordedDesired{},
		deliveries: newRecentSet(1024),
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.now == nil {
		d.now = time.Now
	}
	d.metrics = newMetrics(d.now, func() time.Time { d.mu.Lock(); defer d.mu.Unlock(); return d.lastSync })
	d.notify = newNotifier(cfg.Notify.URL, cfg.Notify.Timeout.D(), opts.HTTPClient, d.log, func(r string) { d.metrics.notifications.WithLabelValues(r).Inc() })
	d.alarms = &alarmSet{alarms: map[string]Alarm{}, log: d.log, notify: d.notify, now: d.now, gauge: d.metrics.alarms.Set, changed: d.changed}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	if d.sessions, err = d.newSessions(); err != nil {
		return nil, err
	}
	d.metrics.reg.MustRegister(newSessionCollector(d.sessions.Stats))
	if d.lock, err = lockState(cfg.StateDir); err != nil {
		return nil, err
	}
	if err := d.readSecrets(); err != nil {
		return nil, err
	}
	if err := d.newUsage(); err != nil {
		return nil, err
	}
	if d.guards, err = d.buildGuard(); err != nil {
		return nil, err
	}
	// The mirror is made after the journal: present at this point, it shows
	// the folder served a daemon before, and a missing journal was lost.
	if cfg.State.Replicated() {
		if err := d.openShared(ctx); err != nil {
			return nil, err
		}
	} else if d.journal, err = journal.Open(ctx, filepath.Join(cfg.StateDir, "journal.db"), journal.WithLogger(d.log), journal.WithClock(d.now),
		journal.WithStateSigns(filepath.Join(cfg.StateDir, "mirror"))); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	d.alarms.journal = d.journal
	d.newFollower(d.journal)
	url := cfg.Repo.URL
	if url == "" {
		url = cfg.Repo.Path
	}
	auth, err := d.repoAuth()
	if err != nil {
		return nil, err
	}
	if d.mirror, err = gitsrc.OpenMirror(ctx, url, cfg.Repo.Branch, filepath.Join(cfg.StateDir, "mirror"),
		append(auth, gitsrc.WithLogger(d.log), gitsrc.WithFetchTimeout(2*time.Minute))...); err != nil {
		return nil, fmt.Errorf("intent repo: %w", err)
	}
	if d.orders, err = d.newOrders(); err != nil {
		return nil, err
	}
	if err := d.restore(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// insecureFile is what a secret file that its group or others may access
// means to the daemon: an error naming the setting that allows it, or, when
// credentials.allow_insecure_files is set, a warning (once per file).
func (d *Daemon) insecureFile(e *schema.InsecureFileError) error {
	if !d.cfg.Credentials.AllowInsecureFiles {
		return fmt.Errorf("%w (or set credentials.allow_insecure_files: true to use it anyway)", e)
	}
	if _, seen := d.warnedFiles.LoadOrStore(e.Path, true); !seen {
		d.log.Warn("insecure credential file used (credentials.allow_insecure_files)", "err", e.Error())
	}
	return nil
}

// checkSecretFile applies insecureFile to the file at path.
func (d *Daemon) checkSecretFile(what, path string) error {
	var ie *schema.InsecureFileError
	if err := schema.CheckFileMode(path); errors.As(err, &ie) {
		if err := d.insecureFile(ie); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}

func (d *Daemon) readSecrets() error {
	read := func(what, path string) ([]byte, error) {
		if path == "" {
			return nil, nil
		}
		if err := d.checkSecretFile(what, path); err != nil {
			return nil, err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return nil, fmt.Errorf("%s %s is empty", what, path)
		}
		return []byte(s), nil
	}
	var err error
	if d.webhookSecret, err = read("webhook.secret_file", d.cfg.Webhook.SecretFile); err != nil {
		return err
	}
	tokens := []struct {
		field, name, path string
		scope             Scope
	}{{"api.token_file", tokenFileName, d.cfg.API.TokenFile, ScopeTrigger}, {"api.read_token_file", readTokenFileName, d.cfg.API.ReadTokenFile, ScopeRead}}
	for i, t := range d.cfg.API.Tokens {
		tokens = append(tokens, struct {
			field, name, path string
			scope             Scope
		}{fmt.Sprintf("api.tokens[%d].file", i), t.Name, t.File, t.Scope})
	}
	for _, t := range tokens {
		v, err := read(t.field, t.path)
		if err != nil {
			return err
		}
		if v != nil {
			d.tokens = append(d.tokens, apiToken{name: t.name, scope: t.scope, value: v})
		}
	}
	if d.cfg.Signature.Keyring != "" {
		b, err := os.ReadFile(d.cfg.Signature.Keyring)
		if err != nil {
			return fmt.Errorf("signature.keyring: %w", err)
		}
		d.policy.Keyring = string(b)
	}
	if d.cfg.Credentials.EnvFile != "" {
		if err := d.checkSecretFile("credentials.env_file", d.cfg.Credentials.EnvFile); err != nil {
			return err
		}
		if d.env, err = readEnvFile(d.cfg.Credentials.EnvFile); err != nil {
			return err
		}
	}
	return nil
}

// readEnvFile reads NAME=value lines; blank lines and # comments are skipped.
func readEnvFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("credentials.env_file: %w", err)
	}
	env := map[string]string{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || name == "" {
			// The line may hold a secret: name the line, not its content.
			return nil, fmt.Errorf("credentials.env_file %s:%d: want NAME=value", path, i+1)
		}
		env[strings.TrimSpace(strings.TrimPrefix(name, "export "))] = strings.Trim(strings.TrimSpace(value), `"'`)
	}
	return env, nil
}

// restore reads back what the previous process knew: the last good commit,
// failure counts and back-offs, the nodes that differ, operators' pauses and
// heals, alarms (not notified again: they are the same episodes).
func (d *Daemon) restore(ctx context.Context) error {
	for _, kv := range []struct {
		key string
		to  *string
	}{{KeyCommit, &d.commit}, {KeyLastApplied, &d.lastApplied}, {KeyAcceptedBase, &d.accepted}} {
		v, err := d.journal.State(ctx, kv.key)
		if err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		*kv.to = v
	}
	controls, err := d.journal.Controls(ctx)
	if err != nil {
		return err
	}
	for _, c := range controls {
		d.controls[c.Device] = c
	}
	states, err := d.journal.DeviceStates(ctx)
	if err != nil {
		return err
	}
	for _, st := range states {
		d.devices[st.Device] = st
	}
	alarms, err := d.journal.Alarms(ctx, false)
	if err != nil {
		return err
	}
	as := make([]Alarm, len(alarms))
	for i, a := range alarms {
		as[i] = alarmOf(a)
	}
	d.alarms.restore(as)
	return nil
}

// Close ends the device sessions and releases the journal, the notifier and
// the state lock. It waits up to 5 s for queued notifications.
func (d *Daemon) Close() error {
	// A pass in flight uses the journal: wait for it, and let none start.
	d.passMu.Lock()
	defer d.passMu.Unlock()
	d.closed = true
	var errs []error
	if d.sessions != nil {
		errs = append(errs, d.sessions.Close())
	}
	if d.notify != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		d.notify.close(ctx)
		cancel()
		d.notify = nil
	}
	if d.journal != nil {
		errs = append(errs, d.journal.Close())
		d.journal = nil
	}
	if d.lock != nil {
		errs = append(errs, d.lock.Unlock())
		d.lock = nil
	}
	return errors.Join(errs...)
}

// Journal is the daemon's journal, for tools that share its process (tests).
func (d *Daemon) Journal() *journal.Journal { return d.journal }

// Trigger asks for a pass as soon as possible and returns its id. Triggers
// that arrive before the pass starts share it (they coalesce): a burst of
// webhooks costs one pass. It never blocks.
func (d *Daemon) Trigger(reason PassReason) string {
	d.mu.Lock()
	if d.pending == nil {
		d.pending = &PassStatus{ID: newPassID(), Reason: reason}
	}
	id := d.pending.ID
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	return id
}

func newPassID() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return "p-" + hex.EncodeToString(b[:])
}

// takePass returns the pass to run and its scope: the one triggers
// announced, which plans every device, or a new one of reason and scope.
func (d *Daemon) takePass(reason PassReason, scope passScope) (*PassStatus, passScope) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.pending
	d.pending = nil
	if p == nil {
		p = &PassStatus{ID: newPassID(), Reason: reason}
	} else {
		scope = scopeAll
	}
	p.Started = d.now()
	d.current = p
	return p, scope
}

// Run recovers what a previous process left half-applied, then runs passes
// until ctx ends: one at once, then one per poll interval, sooner when
// triggered or when a device's back-off ends. It serves HTTP on
// Config.Listen when set.
//
// Ending ctx is a graceful stop: no new pass starts, and a pass in flight
// gets ShutdownGrace to finish before its context is cancelled (the apply
// engine then cancels the confirmed commits, so every device stays on its old
// or its new configuration). Run returns when the pass and the HTTP server
// are done.
func (d *Daemon) Run(ctx context.Context) error {
	var srvErr chan error
	var srv *http.Server
	if d.cfg.Listen != "" {
		ln, err := net.Listen("tcp", d.cfg.Listen)
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		lim := defaultHTTPLimits
		if d.opts.httpLimits != nil {
			lim = *d.opts.httpLimits
		}
		srv, ln = d.httpServer(ln, lim)
		srvErr = make(chan error, 1)
		go func() { srvErr <- srv.Serve(ln) }()
		d.log.Info("serving HTTP", "addr", ln.Addr().String())
	}
	started := d.now()
	d.log.Info("daemon started", "branch", d.cfg.Repo.Branch, "repo", repoName(d.cfg.Repo), "state_dir", d.cfg.StateDir,
		"listen", d.cfg.Listen, "poll_interval_seconds", d.cfg.PollInterval.D().Seconds(), "devices_known", len(d.devices))
	if d.replica != nil {
		kctx, stopKeeper := context.WithCancel(context.WithoutCancel(ctx))
		kept := make(chan struct{})
		go func() { defer close(kept); d.replica.keep(kctx) }()
		defer func() {
			stopKeeper()
			<-kept
			rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			d.replica.release(rctx)
			cancel()
		}()
	}
	d.recover(ctx)
	usageCtx, stopUsage := context.WithCancel(ctx)
	usageDone := make(chan struct{})
	go func() { defer close(usageDone); d.runUsage(usageCtx) }()
	err := d.loop(ctx)
	stopUsage()
	<-usageDone
	defer func() {
		d.log.Info("daemon stopped", "uptime_seconds", d.now().Sub(started).Seconds(), "cause", stopCause(ctx, err))
	}()
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if e := srv.Shutdown(sctx); e != nil {
			d.log.Warn("HTTP shutdown", "err", e)
		}
		cancel()
		if e := <-srvErr; e != nil && !errors.Is(e, http.ErrServerClosed) {
			err = errors.Join(err, e)
		}
	}
	return err
}

// loopMoved notes that the loop made progress, for liveness.
func (d *Daemon) loopMoved() {
	d.mu.Lock()
	d.loopAt = d.now()
	d.mu.Unlock()
}

func (d *Daemon) loop(ctx context.Context) error {
	d.loopMoved()
	d.Trigger(ReasonStart)
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	retry := false    // the timer was set for a back-off, not the poll interval
	boundary := false // the timer was set for a scheduled service's boundary
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-d.wake:
			retry, boundary = false, false
		case <-timer.C:
		}
		if ctx.Err() != nil {
			return nil
		}
		reason, scope := ReasonTick, scopeAll
		switch {
		case boundary:
			reason = ReasonSchedule
		case retry:
			reason, scope = ReasonRetry, scopeWaiting
		}
		p, scope := d.takePass(reason, scope)
		d.runPass(ctx, p, scope)
		d.loopMoved()
		var wait time.Duration
		wait, retry = d.nextWait()
		boundary = false
		if b, ok := d.boundaryWait(); ok && b <= wait {
			wait, retry, boundary = b, false, true
		}
		timer.Reset(wait)
	}
}

// nextWait is the time until the next pass: the poll interval, or sooner
// when a device's back-off or a guard's retry time ends first (retry).
func (d *Daemon) nextWait() (wait time.Duration, retry bool) {
	wait = d.cfg.PollInterval.D()
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, ds := range d.devices {
		t := ds.NextRetry
		if ds.DeferGuard != "" && !ds.DeferUntil.IsZero() {
			t = ds.DeferUntil
		}
		if !t.IsZero() {
			if w := t.Sub(now); w < wait {
				wait, retry = max(w, 100*time.Millisecond), true
			}
		}
	}
	return wait, retry
}

// boundaryWait is the time until the next scheduled service's activate or
// deactivate in the followed commit (schedule.Next), so that it applies at
// that moment and not at the next poll. A freeze still wins: the pass at the
// boundary defers the devices, which are retried when the window ends.
func (d *Daemon) boundaryWait() (time.Duration, bool) {
	d.mu.Lock()
	next := d.nextBoundary
	d.mu.Unlock()
	if next.IsZero() {
		return 0, false
	}
	// The moment itself, not a tick before it: a pass that finds the
	// boundary still ahead by the clock's jitter would plan the old state.
	return max(next.Sub(d.now()), 0) + time.Millisecond, true
}

// runPass runs one pass with the daemon's guard rails: the pass timeout, a
// grace period on shutdown before hard cancel, panic recovery, the pass id in
// every log line.
func (d *Daemon) runPass(stop context.Context, p *PassStatus, scope passScope) {
	d.passMu.Lock()
	defer d.passMu.Unlock()
	if d.closed {
		d.mu.Lock()
		p.Finished, p.Error = d.now(), "daemon closed"
		d.mu.Unlock()
		return
	}
	// The pass outlives a graceful stop by ShutdownGrace, so that an apply
	// in flight confirms or rolls back rather than being cut mid-phase.
	ctx, hardCancel := context.WithCancelCause(context.WithoutCancel(stop))
	defer hardCancel(nil)
	ctx, cancelTimeout := context.WithTimeoutCause(ctx, d.cfg.PassTimeout.D(), errors.New("pass timeout"))
	defer cancelTimeout()
	grace := d.opts.ShutdownGrace
	if grace <= 0 {
		grace = DefaultShutdownGrace
	}
	stopGrace := context.AfterFunc(stop, func() {
		t := time.AfterFunc(grace, func() { hardCancel(errors.New("shutdown grace period over")) })
		context.AfterFunc(ctx, func() { t.Stop() })
	})
	defer stopGrace()

	// "pass" and "trigger", not "run" and "reason": the apply engine adds
	// the journal's run, and lines about devices give their own reasons.
	log := d.log.With("pass", p.ID, "trigger", string(p.Reason))
	start := d.now()
	d.startProgress(p)
	defer d.endProgress()
	// The pass fills a copy; readers of p (status, runs API) see it whole
	// when the pass ends.
	d.mu.Lock()
	work := *p
	d.mu.Unlock()
	if err := d.journal.SavePass(ctx, journalPass(work)); err != nil {
		log.Error("journal: record pass", "err", err)
	}
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				d.metrics.panics.Inc()
				err = fmt.Errorf("pass panicked: %v", r)
				log.Error("pass panicked", "panic", fmt.Sprint(r))
			}
		}()
		return d.pass(ctx, log, &work, scope)
	}()
	elapsed := d.now().Sub(start)
	d.metrics.passDuration.Observe(elapsed.Seconds())
	work.Finished = d.now()
	if err != nil {
		work.Error = err.Error()
	}
	// Journal first: a reader that no longer finds the pass current finds
	// it finished there.
	if perr := d.journal.SavePass(context.WithoutCancel(ctx), journalPass(work)); perr != nil {
		log.Error("journal: record pass", "err", perr)
	}
	d.mu.Lock()
	*p = work
	last := work
	d.lastPass = &last
	d.changed()
	if err == nil && p.Commit != "" {
		// Ready means the network was compared with an accepted commit,
		// not merely that a pass ended (a first head refused is not a sync).
		d.lastSync = p.Finished
		d.ready = true
	}
	d.current = nil
	d.mu.Unlock()
	outcome := work.Outcome()
	d.metrics.passes.WithLabelValues(string(outcome)).Inc()
	if err != nil {
		log.Error("pass failed", "err", err, "seconds", elapsed.Seconds())
	} else {
		d.metrics.lastSync.Set(float64(p.Finished.UnixNano()) / 1e9)
		log.Info("pass done", "outcome", string(outcome), "head", p.Head, "commit", p.Commit, "applied", len(p.Applied), "failed", len(p.Failed),
			"deferred", len(p.Deferred), "drift", len(p.Drift), "seconds", elapsed.Seconds())
	}
}

// SyncOnce runs one pass now and returns it; for tests and `serve --once`.
func (d *Daemon) SyncOnce(ctx context.Context, reason PassReason) *PassStatus {
	p, scope := d.takePass(reason, scopeAll)
	d.runPass(ctx, p, scope)
	d.mu.Lock()
	defer d.mu.Unlock()
	cp := *p
	return &cp
}

// Ready reports whether a pass has completed since the start.
func (d *Daemon) Ready() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ready
}

// passByID returns a copy of the pass with id: announced, running, or in
// the journal; nil when there is none.
func (d *Daemon) passByID(ctx context.Context, id string) (*PassStatus, error) {
	d.mu.Lock()
	for _, p := range []*PassStatus{d.pending, d.current} {
		if p != nil && p.ID == id {
			cp := *p
			d.mu.Unlock()
			return &cp, nil
		}
	}
	d.mu.Unlock()
	jp, err := d.journal.Pass(ctx, id)
	if errors.Is(err, journal.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p := passStatus(*jp)
	return &p, nil
}

// intentCache keeps the loaded intent and desired trees of one commit: a pass
// with no new commit re-renders nothing.
type intentCache struct {
	commit  string
	intent  *schema.Intent
	desired map[string]*configtree.Tree
	steps   []render.Step // the manual steps of every service
	// scoped is the commit as configured at the last pass's moment, when a
	// scheduled service was left out (schedule.At); nil: the whole intent.
	scoped *scopedIntent
}

// scopedIntent is a commit's intent narrowed to the services configured at
// a moment, rendered; key names the services left out, so a pass whose
// moment leaves out the same ones renders nothing again.
type scopedIntent struct {
	key     string
	intent  *schema.Intent
	desired map[string]*configtree.Tree
}

// repoName is the followed repo for a log line: its URL or path.
func repoName(r RepoConfig) string {
	if r.URL != "" {
		return r.URL
	}
	return r.Path
}

// stopCause says why Run returned, for its last line.
func stopCause(ctx context.Context, err error) string {
	switch {
	case err != nil:
		return err.Error()
	case context.Cause(ctx) != nil:
		return context.Cause(ctx).Error()
	}
	return "stopped"
}
