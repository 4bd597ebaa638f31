package netsim

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/netrecon/netrecon/configtree"
)

// Capabilities every simulated device advertises ([RFC6241 8]).
//
// [RFC6241 8]: https://www.rfc-editor.org/rfc/rfc6241#section-8
const (
	capBase10 = "urn:ietf:params:netconf:base:1.0"
	capBase11 = "urn:ietf:params:netconf:base:1.1"
)

// Capabilities lists what a simulated device advertises in its hello.
// with-defaults says explicit, as yuma123 netconfd does: the simulator keeps
// no schema defaults, so every mode returns what was set.
var capabilities = []string{
	capBase10,
	capBase11,
	"urn:ietf:params:netconf:capability:candidate:1.0",
	"urn:ietf:params:netconf:capability:confirmed-commit:1.1",
	"urn:ietf:params:netconf:capability:validate:1.1",
	"urn:ietf:params:netconf:capability:rollback-on-error:1.0",
	"urn:ietf:params:netconf:capability:with-defaults:1.0?basic-mode=explicit&also-supported=report-all,report-all-tagged,trim",
	"urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring?module=ietf-netconf-monitoring&revision=2010-10-04",
}

// Capabilities returns the capability URIs the devices advertise.
func Capabilities() []string { return append([]string(nil), capabilities...) }

// defaultConfirmTimeout is the confirm-timeout when a confirmed commit gives
// none: 600 seconds ([RFC6241 8.4.5.1]).
//
// [RFC6241 8.4.5.1]: https://www.rfc-editor.org/rfc/rfc6241#section-8.4.5.1
const defaultConfirmTimeout = 600 * time.Second

func (d *Device) hello(id uint32) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<hello xmlns="` + nsBase + `"><capabilities>`)
	for _, c := range capabilities {
		b.WriteString("<capability>")
		xml.EscapeText(&b, []byte(c))
		b.WriteString("</capability>")
	}
	fmt.Fprintf(&b, "</capabilities><session-id>%d</session-id></hello>", id)
	return b.Bytes()
}

// Error types of <rpc-error> ([RFC6241 4.3]).
const (
	errTypeRPC      = "rpc"
	errTypeProtocol = "protocol"
	errTypeApp      = "application"
)

// handle answers one message and says what the session does next.
func (s *session) handle(msg []byte) ([]byte, after) {
	var b bytes.Buffer
	root, err := parseMessage(msg)
	if err != nil {
		replyStart(&b, nil)
		newError(errTypeRPC, "malformed-message", err.Error()).writeTo(&b)
		b.WriteString("</rpc-reply>")
		return b.Bytes(), actReply
	}
	replyStart(&b, root)
	body, next, rerr := s.dispatch(root)
	var re *rpcError
	switch {
	case next == actDrop, next == actSwallow:
		return nil, next
	case errors.As(rerr, &re):
		re.writeTo(&b)
	case rerr != nil:
		newError(errTypeApp, "operation-failed", rerr.Error()).writeTo(&b)
	case body == nil:
		b.WriteString("<ok/>")
	default:
		b.Write(body)
	}
	b.WriteString("</rpc-reply>")
	return b.Bytes(), next
}

// dispatch checks the envelope and runs the operation. A nil body with a nil
// error answers <ok/>.
func (s *session) dispatch(root *elem) ([]byte, after, error) {
	if root.name.Local != "rpc" || root.name.Space != nsBase {
		return nil, actReply, newError(errTypeProtocol, "unknown-element",
			fmt.Sprintf("expected <rpc> in %s", nsBase), [2]string{"bad-element", root.name.Local})
	}
	// [RFC6241 4.1]: an <rpc> without message-id is answered with
	// missing-attribute.
	if _, ok := root.attr("message-id"); !ok {
		return nil, actReply, newError(errTypeRPC, "missing-attribute", "rpc has no message-id",
			[2]string{"bad-attribute", "message-id"}, [2]string{"bad-element", "rpc"})
	}
	if len(root.children) != 1 {
		return nil, actReply, newError(errTypeRPC, "malformed-message",
			fmt.Sprintf("rpc holds %d operations, want 1", len(root.children)))
	}
	op := root.children[0]
	name := op.name.Local
	switch s.dev.arrive(name) {
	case actDrop:
		return nil, actDrop, nil
	case actSwallow:
		// Carry the rpc out, then keep the reply.
		_, _, _ = s.run(op)
		return nil, actSwallow, nil
	}
	return s.run(op)
}

// run carries out one operation.
func (s *session) run(op *elem) ([]byte, after, error) {
	name := op.name.Local
	s.log.Debug("rpc", "op", name)
	if op.name.Space == nsMonitoring && name == "get-schema" {
		if s.dev.repeatedGetSchema(op) {
			return nil, actDrop, nil
		}
		body, err := s.dev.getSchema(op)
		return body, actReply, err
	}
	if op.name.Space != nsBase {
		return nil, actReply, newError(errTypeProtocol, "operation-not-supported",
			fmt.Sprintf("rpc %s in namespace %q is not supported", name, op.name.Space),
			[2]string{"bad-element", name})
	}
	d := s.dev
	switch name {
	case "get-config":
		body, err := d.getConfig(op)
		return body, actReply, err
	case "get":
		body, err := d.get(op)
		return body, actReply, err
	case "edit-config":
		return nil, actReply, d.editConfig(s, op)
	case "lock":
		return nil, actReply, d.lock(s, op)
	case "unlock":
		return nil, actReply, d.unlock(s, op)
	case "discard-changes":
		return nil, actReply, d.discardChanges(s)
	case "validate":
		err := d.validate(op)
		if err == nil {
			d.mu.Lock()
			d.validated = d.loseCommit
			d.mu.Unlock()
		}
		return nil, actReply, err
	case "commit":
		return nil, actReply, d.commit(s, op)
	case "cancel-commit":
		return nil, actReply, d.cancelCommit(s, op)
	case "close-session":
		return nil, actClose, nil
	case "kill-session":
		// netrecon never kills another session (DESIGN.md, invariant 5),
		// so the simulator does not offer it.
		return nil, actReply, newError(errTypeProtocol, "operation-not-supported",
			"kill-session is not supported by the simulator", [2]string{"bad-element", name})
	default:
		return nil, actReply, newError(errTypeProtocol, "operation-not-supported",
			fmt.Sprintf("rpc %s is not supported", name), [2]string{"bad-element", name})
	}
}

// arrive counts an rpc and returns the fault that fires for it: actDrop,
// actSwallow, or actReply for none.
func (d *Device) arrive(op string) after {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.counts[op]++
	fault := actReply
	for _, act := range []after{actDrop, actSwallow} {
		k := faultKey{op, act}
		r, ok := d.faults[k]
		if !ok {
			continue
		}
		if r.seen++; r.seen >= r.n {
			delete(d.faults, k)
			if fault == actReply {
				fault = act
			}
		}
	}
	return fault
}

// datastoreParam reads <source> or <target>: exactly one of <running/> or
// <candidate/>.
func datastoreParam(op *elem, param string) (string, error) {
	p := op.child(param)
	if p == nil {
		return "", newError(errTypeProtocol, "missing-element", "missing <"+param+">",
			[2]string{"bad-element", param})
	}
	if len(p.children) != 1 {
		return "", newError(errTypeProtocol, "invalid-value", "<"+param+"> must name one datastore",
			[2]string{"bad-element", param})
	}
	switch ds := p.children[0].name.Local; ds {
	case Running, Candidate:
		return ds, nil
	case "config":
		return "config", nil
	default:
		return "", newError(errTypeProtocol, "invalid-value", "datastore "+ds+" is not supported",
			[2]string{"bad-element", ds})
	}
}

// datastore returns the tree of ds; d.mu must be held. The tree is shared:
// callers copy it before changing it.
func (d *Device) datastore(ds string) *configtree.Tree {
	if ds == Candidate && d.candidate != nil {
		return d.candidate
	}
	return d.running
}

// checkWithDefaults accepts the with-defaults parameter ([RFC6243 3]); every
// mode returns the same data here, as the simulator knows no defaults.
//
// [RFC6243 3]: https://www.rfc-editor.org/rfc/rfc6243#section-3
func checkWithDefaults(op *elem) error {
	wd := op.child("with-defaults")
	if wd == nil {
		return nil
	}
	switch wd.text {
	case "report-all", "report-all-tagged", "trim", "explicit":
		return nil
	}
	return newError(errTypeProtocol, "invalid-value", "unknown with-defaults mode "+strconv.Quote(wd.text),
		[2]string{"bad-element", "with-defaults"})
}

// filterParam returns the subtree filter's content, or nil when there is no
// filter. An empty filter is a non-nil empty slice: it selects nothing
// ([RFC6241 6.4.2]).
//
// [RFC6241 6.4.2]: https://www.rfc-editor.org/rfc/rfc6241#section-6.4.2
func filterParam(op *elem) ([]byte, error) {
	f := op.child("filter")
	if f == nil {
		return nil, nil
	}
	if t, ok := f.attr("type"); ok && t != "subtree" {
		// :xpath is not advertised ([RFC6241 8.9]).
		return nil, newError(errTypeProtocol, "bad-attribute", "filter type "+strconv.Quote(t)+" is not supported",
			[2]string{"bad-attribute", "type"}, [2]string{"bad-element", "filter"})
	}
	return append([]byte{}, f.inner...), nil
}

// getConfig answers the rpc of that name ([RFC6241 7.1]).
//
// [RFC6241 7.1]: https://www.rfc-editor.org/rfc/rfc6241#section-7.1
func (d *Device) getConfig(op *elem) ([]byte, error) {
	ds, err := datastoreParam(op, "source")
	if err != nil {
		return nil, err
	}
	if ds == "config" {
		return nil, newError(errTypeProtocol, "invalid-value", "get-config reads running or candidate",
			[2]string{"bad-element", "config"})
	}
	if err := checkWithDefaults(op); err != nil {
		return nil, err
	}
	filter, err := filterParam(op)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	t := d.datastore(ds)
	d.mu.Unlock()
	// Trees in the datastores are never changed in place (edits work on a
	// copy), so reading one outside the lock is safe.
	return d.dataReply(t, filter)
}

// get answers the rpc of that name ([RFC6241 7.7]).
//
// [RFC6241 7.7]: https://www.rfc-editor.org/rfc/rfc6241#section-7.7
func (d *Device) get(op *elem) ([]byte, error) {
	if err := checkWithDefaults(op); err != nil {
		return nil, err
	}
	filter, err := filterParam(op)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	t := withState(d.running, d.monitoringState())
	d.mu.Unlock()
	return d.dataReply(t, filter)
}

func (d *Device) dataReply(t *configtree.Tree, filter []byte) ([]byte, error) {
	if filter != nil {
		sel, err := selectTree(t, filter)
		if err != nil {
			return nil, editRPCError(err)
		}
		t = sel
	}
	var b bytes.Buffer
	b.WriteString("<data>")
	if err := writeTree(&b, t); err != nil {
		return nil, err
	}
	b.WriteString("</data>")
	return b.Bytes(), nil
}

// lockedByOther returns a lock-holder's id when ds is locked by a session
// other than s; d.mu must be held.
func (d *Device) lockedByOther(s *session, ds string) (uint32, bool) {
	id, ok := d.locks[ds]
	return id, ok && id != s.id
}

func inUse(ds string, holder uint32) error {
	return newError(errTypeProtocol, "in-use", ds+" is locked by another session",
		[2]string{"session-id", strconv.FormatUint(uint64(holder), 10)})
}

// editConfig answers the rpc of that name ([RFC6241 7.2]).
//
// [RFC6241 7.2]: https://www.rfc-editor.org/rfc/rfc6241#section-7.2
func (d *Device) editConfig(s *session, op *elem) error {
	ds, err := datastoreParam(op, "target")
	if err != nil {
		return err
	}
	if ds != Candidate {
		// Without :writable-running, running changes only by commit.
		return newError(errTypeProtocol, "operation-not-supported", "edit-config targets the candidate only",
			[2]string{"bad-element", ds})
	}
	defOp := "merge"
	if e := op.child("default-operation"); e != nil {
		switch e.text {
		case "merge", "replace", "none":
			defOp = e.text
		default:
			return newError(errTypeProtocol, "invalid-value", "bad default-operation "+strconv.Quote(e.text),
				[2]string{"bad-element", "default-operation"})
		}
	}
	testOnly := false
	if e := op.child("test-option"); e != nil {
		switch e.text {
		case "test-then-set", "set":
		case "test-only":
			testOnly = true
		default:
			return newError(errTypeProtocol, "invalid-value", "bad test-option "+strconv.Quote(e.text),
				[2]string{"bad-element", "test-option"})
		}
	}
	if e := op.child("error-option"); e != nil {
		// Every edit is applied to a copy and kept only when all of it
		// succeeded, which is rollback-on-error; the other two options get
		// the same all-or-nothing behaviour, which RFC 6241 permits a
		// server to be stricter with.
		switch e.text {
		case "stop-on-error", "continue-on-error", "rollback-on-error":
		default:
			return newError(errTypeProtocol, "invalid-value", "bad error-option "+strconv.Quote(e.text),
				[2]string{"bad-element", "error-option"})
		}
	}
	cfg := op.child("config")
	if cfg == nil {
		return newError(errTypeProtocol, "missing-element", "edit-config needs <config> (:url is not supported)",
			[2]string{"bad-element", "config"})
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if holder, ok := d.lockedByOther(s, Candidate); ok {
		return inUse(Candidate, holder)
	}
	next, err := applyEdit(d.datastore(Candidate), cfg.standalone("config"), defOp, d.keys, d.editQuirks)
	if err != nil {
		return editRPCError(err)
	}
	if !testOnly {
		d.candidate = next
	}
	return nil
}

// lock answers the rpc of that name ([RFC6241 7.5]).
//
// [RFC6241 7.5]: https://www.rfc-editor.org/rfc/rfc6241#section-7.5
func (d *Device) lock(s *session, op *elem) error {
	ds, err := datastoreParam(op, "target")
	if err != nil {
		return err
	}
	if ds == "config" {
		return newError(errTypeProtocol, "invalid-value", "lock running or candidate", [2]string{"bad-element", ds})
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if holder, ok := d.locks[ds]; ok {
		return newError(errTypeProtocol, "lock-denied", ds+" is already locked",
			[2]string{"session-id", strconv.FormatUint(uint64(holder), 10)})
	}
	// [RFC6241 8.3.5.1]: the candidate cannot be locked while it holds
	// changes not committed or discarded; session-id 0 says no session
	// holds a lock.
	if ds == Candidate && d.candidate != nil {
		return newError(errTypeProtocol, "lock-denied", "candidate has uncommitted changes; discard-changes first",
			[2]string{"session-id", "0"})
	}
	d.locks[ds] = s.id
	return nil
}

// unlock answers the rpc of that name ([RFC6241 7.6]).
//
// [RFC6241 7.6]: https://www.rfc-editor.org/rfc/rfc6241#section-7.6
func (d *Device) unlock(s *session, op *elem) error {
	ds, err := datastoreParam(op, "target")
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	holder, ok := d.locks[ds]
	if !ok || holder != s.id {
		return newError(errTypeProtocol, "operation-failed", ds+" is not locked by this session")
	}
	delete(d.locks, ds)
	return nil
}

// discardChanges answers the rpc of that name ([RFC6241 8.3.4.2]).
//
// [RFC6241 8.3.4.2]: https://www.rfc-editor.org/rfc/rfc6241#section-8.3.4.2
func (d *Device) discardChanges(s *session) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if holder, ok := d.lockedByOther(s, Candidate); ok {
		return inUse(Candidate, holder)
	}
	d.candidate = nil
	return nil
}

// validate answers the rpc of that name ([RFC6241 8.6.4.1]).
//
// [RFC6241 8.6.4.1]: https://www.rfc-editor.org/rfc/rfc6241#section-8.6.4.1
func (d *Device) validate(op *elem) error {
	ds, err := datastoreParam(op, "source")
	if err != nil {
		return err
	}
	if ds == "config" {
		// Inline configuration must at least be well formed.
		if _, err := parseConfig(op.child("source").child("config").standalone("config"), d.keys); err != nil {
			return editRPCError(err)
		}
	}
	// The simulator has no YANG schema: a stored datastore is always valid.
	return nil
}

// commitParams are the parameters of <commit> ([RFC6241 8.4.5.1]).
type commitParams struct {
	confirmed bool
	timeout   time.Duration
	persist   string
	persistID string
	hasPID    bool
}

func parseCommit(op *elem) (commitParams, error) {
	p := commitParams{timeout: defaultConfirmTimeout}
	p.confirmed = op.child("confirmed") != nil
	if e := op.child("confirm-timeout"); e != nil {
		n, err := strconv.ParseUint(e.text, 10, 32)
		if err != nil || n == 0 {
			return p, newError(errTypeProtocol, "invalid-value", "confirm-timeout must be a positive integer",
				[2]string{"bad-element", "confirm-timeout"})
		}
		p.timeout = time.Duration(n) * time.Second
	}
	if e := op.child("persist"); e != nil {
		p.persist = e.text
	}
	if e := op.child("persist-id"); e != nil {
		p.persistID, p.hasPID = e.text, true
	}
	return p, nil
}

// commit answers <commit>: a plain commit ([RFC6241 8.3.4.1]), a confirmed
// commit, a follow-up confirmed commit, or the confirming commit ([RFC6241 8.4]).
//
// [RFC6241 8.3.4.1]: https://www.rfc-editor.org/rfc/rfc6241#section-8.3.4.1
// [RFC6241 8.4]: https://www.rfc-editor.org/rfc/rfc6241#section-8.4
func (d *Device) commit(s *session, op *elem) error {
	p, err := parseCommit(op)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.rejecting {
		return newError(errTypeApp, "operation-failed", d.rejectMsg)
	}
	for _, ds := range []string{Running, Candidate} {
		if holder, ok := d.lockedByOther(s, ds); ok {
			return inUse(ds, holder)
		}
	}
	if d.validated {
		// The netconfd bug LoseCommitAfterValidate reproduces.
		d.validated = false
		return nil
	}
	pending := d.confirm
	if pending != nil {
		if err := d.mayFollow(s, pending, p.persistID, p.hasPID); err != nil {
			return err
		}
	} else if p.hasPID {
		return newError(errTypeProtocol, "invalid-value", "no confirmed commit is pending",
			[2]string{"bad-element", "persist-id"})
	}
	preImage := d.running
	if pending != nil {
		// A follow-up confirmed commit keeps the first pre-image: a
		// rollback undoes the whole confirmed sequence ([RFC6241 8.4.1]).
		preImage = pending.preImage
		pending.timer.Stop()
	}
	if d.candidate != nil {
		d.running, d.candidate = d.candidate, nil
	}
	if !p.confirmed {
		d.confirm = nil
		return nil
	}
	pc := &pendingCommit{preImage: preImage, persistID: p.persist, session: s.id}
	pc.timer = time.AfterFunc(p.timeout, func() { d.confirmTimeout(pc) })
	d.confirm = pc
	return nil
}

// mayFollow checks that a commit or cancel-commit may act on the pending
// confirmed commit: with <persist>, any session giving the same persist-id;
// without, only the session that issued it ([RFC6241 8.4.1]).
//
// [RFC6241 8.4.1]: https://www.rfc-editor.org/rfc/rfc6241#section-8.4.1
func (d *Device) mayFollow(s *session, pc *pendingCommit, persistID string, hasPID bool) error {
	if pc.persistID != "" {
		if !hasPID || persistID != pc.persistID {
			return newError(errTypeProtocol, "invalid-value", "persist-id does not match the pending confirmed commit",
				[2]string{"bad-element", "persist-id"})
		}
		return nil
	}
	if hasPID {
		return newError(errTypeProtocol, "invalid-value", "the pending confirmed commit has no persist",
			[2]string{"bad-element", "persist-id"})
	}
	if pc.session != s.id {
		return newError(errTypeProtocol, "in-use",
			fmt.Sprintf("a confirmed commit of session %d is pending", pc.session),
			[2]string{"session-id", strconv.FormatUint(uint64(pc.session), 10)})
	}
	return nil
}

// cancelCommit answers the rpc of that name ([RFC6241 8.4.4.1]).
//
// [RFC6241 8.4.4.1]: https://www.rfc-editor.org/rfc/rfc6241#section-8.4.4.1
func (d *Device) cancelCommit(s *session, op *elem) error {
	var pid string
	e := op.child("persist-id")
	if e != nil {
		pid = e.text
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.confirm == nil {
		return newError(errTypeProtocol, "operation-failed", "no confirmed commit is pending")
	}
	if err := d.mayFollow(s, d.confirm, pid, e != nil); err != nil {
		return err
	}
	if d.cancelKeeps {
		// The netconfd bug CancelCommitKeepsUnderRunningLock reproduces.
		if holder, ok := d.lockedByOther(s, Running); ok {
			return inUse(Running, holder)
		}
		if holder, ok := d.locks[Running]; ok && holder == s.id {
			d.confirm.timer.Stop()
			d.confirm = nil
			d.sim.log.Info("cancel-commit under the running lock: answered ok, rollback lost", "device", d.Name)
			return nil
		}
	}
	d.rollback("cancel-commit")
	return nil
}

// rollback restores running to the pre-image of the pending confirmed commit;
// d.mu must be held. The candidate is reset too, so the rolled-back change is
// not committed again by the next plain commit.
func (d *Device) rollback(why string) {
	pc := d.confirm
	if pc == nil {
		return
	}
	pc.timer.Stop()
	d.running = pc.preImage
	d.candidate = nil
	d.confirm = nil
	d.saveLocked()
	d.sim.log.Info("confirmed commit rolled back", "device", d.Name, "reason", why)
}

func (d *Device) confirmTimeout(pc *pendingCommit) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.confirm != pc || d.stoppedAll {
		return // confirmed, cancelled or superseded meanwhile
	}
	d.rollback("confirm-timeout expired")
}

// closeSession frees what a session held ([RFC6241 7.5], [RFC6241 8.4.1]):
// its locks; the candidate's uncommitted changes if it held the candidate
// lock; and its confirmed commit, when that had no <persist>.
func (d *Device) closeSession(s *session) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.sessions, s.id)
	for ds, id := range d.locks {
		if id != s.id {
			continue
		}
		delete(d.locks, ds)
		if ds == Candidate {
			d.candidate = nil
		}
	}
	if pc := d.confirm; pc != nil && pc.persistID == "" && pc.session == s.id && !d.stoppedAll && d.sim.ctx.Err() == nil {
		d.rollback("session of the confirmed commit ended")
	}
	s.log.Debug("netconf session closed")
}

// editRPCError turns a configtree error into an rpc-error.
func editRPCError(err error) error {
	var ee *configtree.EditError
	if errors.As(err, &ee) {
		return &rpcError{Type: errTypeApp, Tag: ee.Tag, AppTag: ee.AppTag, Path: string(ee.Path), Message: ee.Msg}
	}
	var se *configtree.SyntaxError
	if errors.As(err, &se) {
		return newError(errTypeRPC, "malformed-message", se.Msg)
	}
	return newError(errTypeApp, "operation-failed", err.Error())
}
