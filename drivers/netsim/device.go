package netsim

import (
	"cmp"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/netrecon/netrecon/configtree"
)

// Datastore names, as in <source><running/></source>.
const (
	Running   = "running"
	Candidate = "candidate"
)

// Device is one simulated router. Its exported fields are fixed once Start
// returns; its methods are the fault knobs and are safe for concurrent use
// while sessions run.
type Device struct {
	Name     string
	Platform string
	Address  string
	Port     int

	sim      *Sim
	keys     configtree.Keys
	ln       net.Listener
	stateDir string // "" without Options.StateDir

	mu      sync.Mutex
	signer  ssh.Signer
	running *configtree.Tree
	// candidate is nil while it equals running, so an idle device costs one
	// tree, and a hand edit of running (SetRunning) shows in the candidate as
	// it would on a router whose candidate has no uncommitted changes.
	candidate *configtree.Tree
	nextID    uint32
	sessions  map[uint32]*session
	// locks maps a datastore to the id of the session holding it.
	locks map[string]uint32
	// operatorLock is the fake session id HoldLock uses, 0 if none.
	operatorLock uint32
	operators    []operatorSession
	confirm      *pendingCommit

	latency   time.Duration
	rejecting bool
	rejectMsg string
	faults    map[faultKey]*faultRule
	// loseCommit is the LoseCommitAfterValidate knob; validated records a
	// validate since the last commit while it is on.
	loseCommit bool
	validated  bool
	// cancelKeeps is the CancelCommitKeepsUnderRunningLock knob.
	cancelKeeps bool
	// editQuirks holds the RefuseRemoveOfEntryUnderAbsentParent knob, on
	// from the start.
	editQuirks configtree.EditQuirks
	// schemas are what ServeSchemas set; unlistedSubmodules and
	// yumaNotFound the two yuma123 knobs of schemas.go.
	schemas            []Schema
	unlistedSubmodules bool
	yumaNotFound       bool
	// dropRepeated is the DropOnRepeatedGetSchema knob; schemaGets counts
	// the get-schemas of that identifier.
	dropRepeated string
	schemaGets   int
	counts       map[string]int
	// opened counts the NETCONF sessions started (hello sent), for tests
	// that a run dials each device once.
	opened     int
	stoppedAll bool
	// saved is the tree last written to stateDir.
	saved *configtree.Tree
}

// operatorSession is a login that AddOperatorSession shows in monitoring.
type operatorSession struct {
	id    uint32
	user  string
	login time.Time
}

// faultKey names a one-shot fault: what happens at which rpc.
type faultKey struct {
	op  string
	act after // actDrop or actSwallow
}

// faultRule fires when the n-th matching rpc arrives.
type faultRule struct {
	n, seen int
}

// pendingCommit is a confirmed commit not yet confirmed ([RFC6241 8.4]).
//
// [RFC6241 8.4]: https://www.rfc-editor.org/rfc/rfc6241#section-8.4
type pendingCommit struct {
	preImage  *configtree.Tree // running before the first confirmed commit
	persistID string           // "" when the commit had no <persist>
	session   uint32           // the issuing session, when persistID is ""
	timer     *time.Timer
}

func newDevice(s *Sim, spec DeviceSpec) (*Device, error) {
	dir, err := s.deviceDir(spec.Name)
	if err != nil {
		return nil, err
	}
	signer, err := loadHostKey(dir)
	if err != nil {
		return nil, fmt.Errorf("%w (device %s)", err, spec.Name)
	}
	var keys configtree.Keys
	if s.opts.Keys != nil {
		keys = s.opts.Keys(spec.Platform)
	}
	running, err := loadRunning(dir, keys)
	if err != nil {
		return nil, fmt.Errorf("%w (device %s)", err, spec.Name)
	}
	return &Device{
		Name:       spec.Name,
		Platform:   spec.Platform,
		Address:    cmp.Or(spec.Address, s.opts.ListenAddr),
		Port:       spec.Port,
		sim:        s,
		keys:       keys,
		editQuirks: configtree.EditQuirks{RefuseRemoveOfEntryUnderAbsentParent: true},
		signer:     signer,
		running:    running,
		saved:      running,
		stateDir:   dir,
		sessions:   map[uint32]*session{},
		locks:      map[string]uint32{},
		faults:     map[faultKey]*faultRule{},
		counts:     map[string]int{},
	}, nil
}

// String returns the device's name, for logs and errors.
func (d *Device) String() string { return d.Name }

// HostKey returns the device's current public host key.
func (d *Device) HostKey() ssh.PublicKey {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.signer.PublicKey()
}

// RotateHostKey gives the device a new host key, as a re-installed router
// would (kept in Options.StateDir, when set); new connections present it, so
// a client that pinned the old one must refuse to connect.
func (d *Device) RotateHostKey() error {
	newKey := newHostKey
	if d.stateDir != "" {
		newKey = func() (ssh.Signer, error) { return writeHostKey(filepath.Join(d.stateDir, hostKeyFile)) }
	}
	signer, err := newKey()
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.signer = signer
	d.mu.Unlock()
	d.sim.log.Info("host key rotated", "device", d.Name)
	return nil
}

// SetLatency delays every reply by dur.
func (d *Device) SetLatency(dur time.Duration) {
	d.mu.Lock()
	d.latency = dur
	d.mu.Unlock()
}

func (d *Device) getLatency() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.latency
}

// HoldLock makes datastore locked as if by another session (an operator's,
// or another tool's); a lock request then answers lock-denied naming that
// session's id, and edits and commits answer in-use. The session is not
// listed in monitoring: AddOperatorSession does that, so a test can tell
// lock contention and "operator logged in" apart.
func (d *Device) HoldLock(datastore string) error {
	if datastore != Running && datastore != Candidate {
		return fmt.Errorf("netsim: %s: unknown datastore %q", d.Name, datastore)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if holder, ok := d.locks[datastore]; ok && holder != d.operatorLock {
		return fmt.Errorf("netsim: %s: %s is locked by session %d", d.Name, datastore, holder)
	}
	if d.operatorLock == 0 {
		d.operatorLock = d.newSessionID()
	}
	d.locks[datastore] = d.operatorLock
	return nil
}

// ReleaseLock releases every lock HoldLock took.
func (d *Device) ReleaseLock() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for ds, id := range d.locks {
		if id == d.operatorLock {
			delete(d.locks, ds)
		}
	}
	d.operatorLock = 0
}

// RejectCommit makes every commit answer an operation-failed rpc-error with
// msg, as a router whose commit check fails does. Running does not change.
func (d *Device) RejectCommit(msg string) {
	d.mu.Lock()
	d.rejecting, d.rejectMsg = true, msg
	d.mu.Unlock()
}

// ClearRejectCommit undoes RejectCommit.
func (d *Device) ClearRejectCommit() {
	d.mu.Lock()
	d.rejecting, d.rejectMsg = false, ""
	d.mu.Unlock()
}

// DropConnectionAt closes the SSH connection, without a reply, when the n-th
// rpc named op (counted from this call, over all sessions) arrives. The rule
// fires once. n < 1 removes the rule.
func (d *Device) DropConnectionAt(op string, n int) { d.setFault(op, actDrop, n) }

// SwallowReplyAt makes the device carry out the n-th rpc named op (counted
// from this call) but never answer it, the connection staying open: yuma123
// netconfd sometimes loses the reply to an rpc sent right after the hello
// (lab/NOTES.md), and a client must then give up on a deadline. The rule
// fires once; n < 1 removes it.
func (d *Device) SwallowReplyAt(op string, n int) { d.setFault(op, actSwallow, n) }

func (d *Device) setFault(op string, act after, n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := faultKey{op, act}
	if n < 1 {
		delete(d.faults, k)
		return
	}
	d.faults[k] = &faultRule{n: n}
}

// LoseCommitAfterValidate reproduces a yuma123 netconfd bug (lab/NOTES.md):
// after <validate>, the next <commit> answers <ok/> but running does not
// change and the candidate keeps the edit. A reconciler that reads running
// back after commit catches it; one that trusts <ok/> does not.
func (d *Device) LoseCommitAfterValidate(on bool) {
	d.mu.Lock()
	d.loseCommit, d.validated = on, false
	d.mu.Unlock()
}

// CancelCommitKeepsUnderRunningLock reproduces a yuma123 netconfd bug
// (lab/NOTES.md "More server behaviour"): a <cancel-commit> sent by a session
// that holds the lock on running answers <ok/> and ends the pending confirmed
// commit without rolling it back, so running keeps the change for good (no
// confirm-timeout follows). While the knob is on, a cancel-commit from any
// other session while running is locked answers in-use, as netconfd does
// ("config locked"). From a session without the running lock the cancel
// works. A reconciler that reads running back after cancel-commit catches it.
func (d *Device) CancelCommitKeepsUnderRunningLock(on bool) {
	d.mu.Lock()
	d.cancelKeeps = on
	d.mu.Unlock()
}

// RefuseRemoveOfEntryUnderAbsentParent reproduces a yuma123 netconfd 2.13
// departure from RFC 6241 §7.2 (docs/quirks.md): an edit-config removing a
// list entry that does not exist, under a parent the candidate lacks too
// (<interfaces> gone altogether), is answered with an rpc-error data-missing,
// app-tag instance-required, "required value instance not found", instead of
// being ignored. The real server names the entry's mandatory leaf in
// error-path (.../interface[name='x']/type); the simulator, knowing no YANG,
// names the entry. A remove that is sent only for what running holds, read
// under lock, never meets it.
//
// It is on from Start, unlike the other server knobs: it only refuses what
// RFC 6241 would ignore, so every test and the demo catch an edit site that
// sends a blind remove; a test of the RFC behaviour turns it off.
func (d *Device) RefuseRemoveOfEntryUnderAbsentParent(on bool) {
	d.mu.Lock()
	d.editQuirks.RefuseRemoveOfEntryUnderAbsentParent = on
	d.mu.Unlock()
}

// AddOperatorSession lists a session of user in netconf-state/sessions, as a
// backbone operator logged in for maintenance would appear.
func (d *Device) AddOperatorSession(user string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.operators = append(d.operators, operatorSession{id: d.newSessionID(), user: user, login: time.Now().UTC()})
}

// RemoveOperatorSession removes the sessions AddOperatorSession added for user.
func (d *Device) RemoveOperatorSession(user string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.operators = slices.DeleteFunc(d.operators, func(o operatorSession) bool { return o.user == user })
}

// SetRunning replaces the running configuration with a copy of t, as a hand
// edit on the router would (for drift tests). It bypasses locks on purpose.
func (d *Device) SetRunning(t *configtree.Tree) {
	c := cloneTree(t)
	d.mu.Lock()
	d.running = c
	d.saveLocked()
	d.mu.Unlock()
}

// Running returns a copy of the running configuration.
func (d *Device) Running() *configtree.Tree {
	d.mu.Lock()
	defer d.mu.Unlock()
	return cloneTree(d.running)
}

// Candidate returns a copy of the candidate configuration.
func (d *Device) Candidate() *configtree.Tree {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.candidate == nil {
		return cloneTree(d.running)
	}
	return cloneTree(d.candidate)
}

// RPCCount returns how many rpcs named op (get-config, edit-config, ...) the
// device received since Start or ResetCounters.
func (d *Device) RPCCount(op string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.counts[op]
}

// RPCCounts returns a copy of all counters, by operation.
func (d *Device) RPCCounts() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := make(map[string]int, len(d.counts))
	for k, v := range d.counts {
		m[k] = v
	}
	return m
}

// ResetCounters sets every RPC counter, and SessionsOpened, to zero.
func (d *Device) ResetCounters() {
	d.mu.Lock()
	clear(d.counts)
	d.opened = 0
	d.mu.Unlock()
}

// Sessions returns the number of NETCONF sessions open on the device.
func (d *Device) Sessions() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.sessions)
}

// SessionsOpened returns how many NETCONF sessions clients opened on the
// device since Start or ResetCounters: the dials, so a test can tell a run
// that reuses its session from one that dials again.
func (d *Device) SessionsOpened() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.opened
}

// DropSessions closes the SSH connection of every NETCONF session open on
// the device, without a reply to anything in flight, as a router that
// restarts its NETCONF server or an idle timeout on the way does. It
// returns how many it dropped. A client holding a session learns it at its
// next rpc.
func (d *Device) DropSessions() int {
	d.mu.Lock()
	conns := make([]*ssh.ServerConn, 0, len(d.sessions))
	for _, s := range d.sessions {
		conns = append(conns, s.conn)
	}
	d.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
	if len(conns) > 0 {
		d.sim.log.Info("sessions dropped (fault knob)", "device", d.Name, "sessions", len(conns))
	}
	return len(conns)
}

// ConfirmPending reports whether a confirmed commit waits for confirmation.
func (d *Device) ConfirmPending() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.confirm != nil
}

// newSessionID returns a fresh session id; d.mu must be held. Ids start at
// 1: RFC 6241 reserves 0 for "not a NETCONF session" in lock-denied.
func (d *Device) newSessionID() uint32 {
	d.nextID++
	return d.nextID
}

// stopTimers stops a pending confirmed commit's timer, at Close.
func (d *Device) stopTimers() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stoppedAll = true
	if d.confirm != nil && d.confirm.timer != nil {
		d.confirm.timer.Stop()
	}
}
