package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/reconcile/journal"
)

// Operator actions. Each is a POST of an api.ActionRequest with a write
// token and a reason, recorded in the journal (who, which token, why, what
// the daemon did) before it is answered. None of them writes the intent
// repo (DESIGN invariant 1): they say how the daemon follows it.
//
//	accept-history  take a commit of the rewritten branch as the new base
//	heal            apply the intent now over drift or a back-off (devices, or all)
//	acknowledge     mark an active alarm as in hand
//	pause, resume   stop and restart reading and changing a device

// ActionError is an action refused: its HTTP status and why.
type ActionError struct {
	Code int
	Msg  string
}

func (e *ActionError) Error() string { return e.Msg }

func refused(code int, format string, args ...any) error {
	return &ActionError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Who is the person behind an action: the name the request gives (the
// CLI's --as or $USER), else the token's.
type Who struct {
	Person string
	Token  string
}

func (w Who) String() string {
	if w.Person == "" {
		return w.Token
	}
	return w.Person
}

// actionHandler is one action: it checks the request, does the action and
// says what it did (the journal's detail), and the pass it triggered.
type actionHandler struct {
	name string
	run  func(ctx context.Context, req api.ActionRequest, who Who) (target, detail, pass string, err error)
}

func (d *Daemon) actionHandlers() []actionHandler {
	return []actionHandler{
		{"accept-history", d.acceptHistory},
		{"heal", d.heal},
		{"acknowledge", d.acknowledge},
		{"pause", d.pause},
		{"resume", d.resume},
	}
}

// maxActionBody caps an action's body: a reason and a few names.
const maxActionBody = 64 << 10

// action serves POST /api/v1/actions/{a.name}.
func (d *Daemon) action(a actionHandler) func(http.ResponseWriter, *http.Request, caller) {
	return func(w http.ResponseWriter, r *http.Request, c caller) {
		var req api.ActionRequest
		dec := json.NewDecoder(io.LimitReader(r.Body, maxActionBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, apiErr("body: want a JSON api.ActionRequest (docs/openapi.yaml): "+err.Error()))
			return
		}
		act, err := d.Act(r.Context(), a.name, req, Who{Person: strings.TrimSpace(req.As), Token: c.token})
		var ae *ActionError
		switch {
		case errors.As(err, &ae):
			writeJSON(w, ae.Code, apiErr(ae.Msg))
		case err != nil:
			writeJSON(w, http.StatusInternalServerError, apiErr(err.Error()))
		default:
			writeJSON(w, http.StatusOK, act)
		}
	}
}

// Act carries out the operator action name for who and records it in the
// journal. An *ActionError says why it was refused.
func (d *Daemon) Act(ctx context.Context, name string, req api.ActionRequest, who Who) (api.Action, error) {
	i := slices.IndexFunc(d.actionHandlers(), func(a actionHandler) bool { return a.name == name })
	if i < 0 {
		return api.Action{}, refused(http.StatusNotFound, "no action %q", name)
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if req.Reason == "" {
		return api.Action{}, refused(http.StatusBadRequest, "reason is required: say why, for the journal and the next operator")
	}
	target, detail, pass, err := d.actionHandlers()[i].run(ctx, req, who)
	if err != nil {
		return api.Action{}, err
	}
	ja := journal.Action{Action: name, Target: target, Who: who.String(), Token: who.Token, Reason: req.Reason, Detail: detail}
	id, err := d.journal.RecordAction(ctx, ja)
	if err != nil {
		return api.Action{}, err
	}
	ja.ID, ja.At = id, d.now()
	d.metrics.actions.WithLabelValues(name).Inc()
	d.log.Info("operator action", "action", name, "target", target, "who", who.String(), "token", who.Token, "why", req.Reason, "detail", detail, "pass", pass)
	d.changed()
	return apiAction(ja, pass), nil
}

// acceptHistory takes req.Commit, which the branch head must contain, as
// the new last good commit after the branch's history was rewritten. The
// next pass starts from it: the commits after it must pass the signature
// policy as any would; the base itself is taken on the operator's word.
func (d *Daemon) acceptHistory(ctx context.Context, req api.ActionRequest, _ Who) (string, string, string, error) {
	if req.Commit == "" {
		return "", "", "", refused(http.StatusBadRequest, "commit is required: the commit of the new history the network may move to (the head, or one of its ancestors)")
	}
	d.mu.Lock()
	head, old := d.head, d.commit
	d.mu.Unlock()
	if head == "" {
		return "", "", "", refused(http.StatusConflict, "the branch was never fetched: nothing to accept yet")
	}
	rev, err := d.mirror.Revision(req.Commit)
	if err != nil {
		return "", "", "", refused(http.StatusBadRequest, "commit %q: not in the daemon's mirror of the branch: %v", req.Commit, err)
	}
	commit := rev.Commit
	if commit != head {
		ok, err := d.mirror.IsAncestor(ctx, commit, head)
		if err != nil {
			return "", "", "", err
		}
		if !ok {
			return "", "", "", refused(http.StatusConflict, "commit %s is not on the branch: the head %s does not contain it", short(commit), short(head))
		}
	}
	if err := d.journal.SetState(ctx, KeyAcceptedBase, commit); err != nil {
		return "", "", "", err
	}
	d.mu.Lock()
	d.accepted = commit
	d.mu.Unlock()
	pass := d.Trigger(ReasonAction)
	return commit, fmt.Sprintf("new base %s (was %s); the next pass moves to the head %s from it", short(commit), orNoneWord(short(old)), short(head)), pass, nil
}

func orNoneWord(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// knownDevices returns names checked against the inventory of the last
// pass, or every device for none.
func (d *Daemon) knownDevices(names []string) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(names) == 0 {
		return sortedKeys(d.devices), nil
	}
	for _, n := range names {
		if _, ok := d.devices[n]; !ok {
			return nil, refused(http.StatusNotFound, "no device %q in the inventory", n)
		}
	}
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out), nil
}

// heal asks the next pass, triggered at once, to plan the devices whatever
// their back-off or guard retry time, and to heal their drift whatever the
// drift policy. Guards still apply, and a paused device is refused.
func (d *Daemon) heal(ctx context.Context, req api.ActionRequest, who Who) (string, string, string, error) {
	names, err := d.knownDevices(req.Devices)
	if err != nil {
		return "", "", "", err
	}
	now := d.now()
	d.mu.Lock()
	var paused []string
	for _, n := range names {
		if d.controls[n].Paused() {
			paused = append(paused, n)
		}
	}
	d.mu.Unlock()
	if len(req.Devices) > 0 && len(paused) > 0 {
		return "", "", "", refused(http.StatusConflict, "paused: %s; resume first", strings.Join(paused, ", "))
	}
	var healed []string
	for _, n := range names {
		if slices.Contains(paused, n) {
			continue // "all" leaves the paused ones paused
		}
		d.mu.Lock()
		c := d.controls[n]
		c.Device, c.HealBy, c.HealReason, c.HealAt = n, who.String(), req.Reason, now
		d.mu.Unlock()
		if err := d.journal.SetControl(ctx, c); err != nil {
			return "", "", "", err
		}
		d.mu.Lock()
		d.controls[n] = c
		d.mu.Unlock()
		healed = append(healed, n)
	}
	pass := d.Trigger(ReasonAction)
	target := strings.Join(req.Devices, ",")
	detail := fmt.Sprintf("heal now asked for %d devices (%s)", len(healed), strings.Join(first(healed, 10), ", "))
	if len(paused) > 0 {
		detail += "; left paused: " + strings.Join(paused, ", ")
	}
	return target, detail, pass, nil
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(slices.Clone(s[:n]), "...")
	}
	return s
}

func (d *Daemon) acknowledge(ctx context.Context, req api.ActionRequest, who Who) (string, string, string, error) {
	if req.Alarm < 1 {
		return "", "", "", refused(http.StatusBadRequest, "alarm is required: the id of an active alarm (GET /api/v1/alarms)")
	}
	a, err := d.alarms.acknowledge(ctx, req.Alarm, who.String(), req.Reason)
	if errors.Is(err, journal.ErrNotFound) {
		return "", "", "", refused(http.StatusNotFound, "no active alarm %d", req.Alarm)
	}
	if err != nil {
		return "", "", "", err
	}
	return fmt.Sprint(req.Alarm), fmt.Sprintf("acknowledged %s %s", a.Kind, a.Device), "", nil
}

func (d *Daemon) pause(ctx context.Context, req api.ActionRequest, who Who) (string, string, string, error) {
	return d.setPause(ctx, req, who, true)
}

func (d *Daemon) resume(ctx context.Context, req api.ActionRequest, who Who) (string, string, string, error) {
	return d.setPause(ctx, req, who, false)
}

// setPause pauses or resumes req.Device. A pass in flight that has planned
// the device already goes on with it; the ones after leave it alone.
func (d *Daemon) setPause(ctx context.Context, req api.ActionRequest, who Who, pause bool) (string, string, string, error) {
	if req.Device == "" {
		return "", "", "", refused(http.StatusBadRequest, "device is required")
	}
	if _, err := d.knownDevices([]string{req.Device}); err != nil {
		return "", "", "", err
	}
	d.mu.Lock()
	c := d.controls[req.Device]
	d.mu.Unlock()
	c.Device = req.Device
	switch {
	case pause && c.Paused():
		return "", "", "", refused(http.StatusConflict, "%s is paused already (by %s: %s)", req.Device, c.PausedBy, c.PausedReason)
	case !pause && !c.Paused():
		return "", "", "", refused(http.StatusConflict, "%s is not paused", req.Device)
	case pause:
		c.PausedBy, c.PausedReason, c.PausedAt = who.String(), req.Reason, d.now()
	default:
		c.PausedBy, c.PausedReason, c.PausedAt = "", "", time.Time{}
	}
	if err := d.journal.SetControl(ctx, c); err != nil {
		return "", "", "", err
	}
	d.mu.Lock()
	if c.Paused() || c.Heal() {
		d.controls[req.Device] = c
	} else {
		delete(d.controls, req.Device)
	}
	d.mu.Unlock()
	if pause {
		return req.Device, "paused: no pass reads or changes it until resumed", "", nil
	}
	pass := d.Trigger(ReasonAction)
	return req.Device, "resumed: the next pass plans it", pass, nil
}
