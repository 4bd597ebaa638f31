package daemon

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/session"
)

// The API's documents are mapped here from the daemon's own state (the
// journal's rows and this process's copy of them): the API's types are its
// own, and an internal field can change without a client noticing.

// serviceInfo is what the status needs of a service of the intent last
// reconciled to.
type serviceInfo struct {
	name, kind string
	devices    []string
}

// viewState is a device's state as the API shows it: an operator's pause
// first; then a device in sync with an older commit than the target is
// pending, never in-sync for a commit it has not been brought to.
func viewState(ds journal.DeviceState, ctl journal.Control, target string) string {
	if ctl.Paused() {
		return api.StatePaused
	}
	st := DeviceState(ds.State)
	if (st == StateInSync || st == StateApplied) && target != "" && ds.Commit != target {
		return api.StatePending
	}
	return ds.State
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func strPtr(s string) *string { return &s }

func apiNodes(ns []journal.Node) []api.Node {
	out := make([]api.Node, 0, len(ns))
	for _, n := range ns {
		a := api.Node{Kind: string(n.Kind), Action: n.Action, Path: n.Path, Owners: n.Owners, Leaf: n.Leaf}
		if a.Owners == nil {
			a.Owners = []string{}
		}
		if n.Leaf && n.Action != "create" {
			a.Live = strPtr(n.Live)
		}
		if n.Leaf && n.Action != "delete" {
			a.Desired = strPtr(n.Desired)
		}
		out = append(out, a)
	}
	return out
}

func pendingCount(ns []journal.Node) int {
	n := 0
	for _, x := range ns {
		if x.Kind == journal.NodePending {
			n++
		}
	}
	return n
}

// apiDevice maps a device; full adds its services and nodes. Call with d.mu held.
func (d *Daemon) apiDevice(name string, full bool) api.Device {
	ds, ctl := d.devices[name], d.controls[name]
	st := viewState(ds, ctl, d.commit)
	v := api.Device{Name: name, Platform: d.platforms[name], State: st, AppliedCommit: ds.Commit, Failures: ds.Failures,
		LastError: ds.LastError, DriftNodes: ds.DriftNodes, PendingNodes: pendingCount(ds.Nodes), Changed: timePtr(ds.Changed)}
	if st == string(StateFailing) || st == string(StateBackoff) {
		v.NextRetry = timePtr(ds.NextRetry)
	}
	if ds.DeferGuard != "" {
		v.Deferral = &api.Deferral{Guard: ds.DeferGuard, Reason: ds.DeferReason, Until: timePtr(ds.DeferUntil)}
	}
	if ctl.Paused() {
		v.Paused = &api.Request{By: ctl.PausedBy, Reason: ctl.PausedReason, At: ctl.PausedAt}
	}
	if ctl.Heal() {
		v.HealRequested = &api.Request{By: ctl.HealBy, Reason: ctl.HealReason, At: ctl.HealAt}
	}
	if full {
		v.Services = append([]string{}, d.byDevice[name]...)
		v.Nodes = apiNodes(ds.Nodes)
	}
	return v
}

// apiService maps a service; full adds its own nodes per device. Call with d.mu held.
func (d *Daemon) apiService(si serviceInfo, full bool) api.Service {
	v := api.Service{Name: si.name, Type: si.kind, State: api.StateInSync, Devices: make([]api.ServiceDevice, 0, len(si.devices))}
	for _, dn := range si.devices {
		ds, ok := d.devices[dn]
		state := api.StateUnknown
		if ok {
			state = serviceStateOn(viewState(ds, d.controls[dn], d.commit), ds, si.name)
		}
		sd := api.ServiceDevice{Device: dn, State: state}
		if full && ok {
			if ns := serviceNodes(ds, si.name); len(ns) > 0 {
				sd.Nodes = apiNodes(ns)
			}
		}
		v.Devices = append(v.Devices, sd)
		if rank(state) > rank(v.State) {
			v.State = state
		}
	}
	v.Usage = d.serviceUsage(si.name)
	return v
}

// alarmHint says what an operator does about a, in the CLI's words (the
// API's action is named beside).
func alarmHint(a Alarm) string {
	switch a.Kind {
	case AlarmDrift:
		return "apply the intent over the hand edit: netrecon heal " + a.Device + ` --reason "..."` +
			" (POST /api/v1/actions/heal); or change the intent to what the device holds"
	case AlarmCommitRefused:
		if strings.Contains(a.Message, "history was rewritten") {
			return "if the new history is meant, accept it: netrecon accept-history --commit " + short(a.Commit) + ` --reason "..."` +
				" (POST /api/v1/actions/accept-history, naming the new base); otherwise restore the branch"
		}
		return "push a commit that fixes the branch (valid intent, signed when signature.keyring is set); the network stays on the last good commit"
	case AlarmDeviceFailing:
		return "see the device's last_error; netrecon heal " + a.Device + ` --reason "..." retries now; netrecon pause ` + a.Device + " stops the retries"
	case AlarmDeviceMixed:
		return "the device runs neither its old nor its new configuration: check it by hand (the nodes are named), then netrecon heal " + a.Device
	case AlarmFetchFailing:
		return "check repo.url, the network and the credentials of the intent repo; the network stays on the last good commit"
	case AlarmTasksOverdue:
		return `do the steps (netrecon tasks shows the values to type), then netrecon tasks done SERVICE STEP --ref "..." (POST /api/v1/tasks/{service}/{step}/done)`
	}
	return ""
}

func apiAlarm(a Alarm, cleared time.Time) api.Alarm {
	v := api.Alarm{ID: a.ID, Kind: string(a.Kind), Device: a.Device, Commit: a.Commit, Message: a.Message, Hint: alarmHint(a),
		Failures: a.Failures, Since: a.Since, Cleared: timePtr(cleared)}
	if a.AckBy != "" {
		v.Acknowledged = &api.Acknowledgement{By: a.AckBy, Reason: a.AckReason, At: a.AckAt}
	}
	return v
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func apiPass(p PassStatus) api.Pass {
	v := api.Pass{ID: p.ID, Trigger: string(p.Reason), Started: p.Started, Finished: timePtr(p.Finished), Head: p.Head,
		Commit: p.Commit, Outcome: string(p.Outcome()), Error: p.Error, RunIDs: []int64{},
		Applied: orEmpty(p.Applied), Healed: orEmpty(p.Healed), Failed: orEmpty(p.Failed), Drift: orEmpty(p.Drift), Deferred: orEmpty(p.Deferred)}
	if !p.Finished.IsZero() {
		v.Seconds = p.Finished.Sub(p.Started).Seconds()
	}
	for _, id := range p.RunIDs {
		var n int64
		if err := json.Unmarshal([]byte(id), &n); err == nil {
			v.RunIDs = append(v.RunIDs, n)
		}
	}
	return v
}

// Status is the daemon's status document (GET /api/v1/status), made now.
func (d *Daemon) Status() api.Status {
	alarms := d.alarms.list()
	sessions := d.sessionStatus()
	rep, reps := d.replicaStatus()
	d.mu.Lock()
	defer d.mu.Unlock()
	st := api.Status{
		APIVersion:      api.Version,
		Branch:          d.cfg.Repo.Branch,
		Head:            d.head,
		TargetCommit:    d.commit,
		AppliedCommit:   d.lastApplied,
		Ready:           d.ready,
		LastSync:        timePtr(d.lastSync),
		GeneratedAt:     d.now(),
		DevicesByState:  map[string]int{},
		ServicesByState: map[string]int{},
		Alarms:          make([]api.Alarm, 0, len(alarms)),
		Devices:         make([]api.Device, 0, len(d.devices)),
		Sessions:        sessions,
		IRR:             d.irr,
		Replica:         rep,
		Replicas:        reps,
	}
	for _, s := range api.States {
		st.DevicesByState[s], st.ServicesByState[s] = 0, 0
	}
	for _, a := range alarms {
		st.Alarms = append(st.Alarms, apiAlarm(a, time.Time{}))
	}
	if d.lastPass != nil {
		p := apiPass(*d.lastPass)
		st.LastPass = &p
	}
	if d.progress != nil {
		p := d.progress.view()
		st.Pass = &p
	}
	good := true
	for _, name := range sortedKeys(d.devices) {
		v := d.apiDevice(name, false)
		st.Devices = append(st.Devices, v)
		st.DevicesByState[v.State]++
		good = good && (v.State == api.StateInSync || v.State == api.StateApplied)
	}
	for _, si := range d.services {
		st.ServicesByState[d.apiService(si, false).State]++
	}
	for _, b := range d.upcoming {
		for _, e := range b.Events {
			action := api.ScheduleDeactivate
			if e.Activate {
				action = api.ScheduleActivate
			}
			st.Upcoming = append(st.Upcoming, api.ScheduledChange{At: e.At, Service: e.Service, Action: action})
		}
	}
	st.InSync = good && d.progress == nil && d.commit != "" && d.commit == d.head
	return st
}

// snapshot is the status document as JSON, and gzipped, made at most once
// per change of what it shows (changed), whatever the number of readers: at
// a thousand devices, building and encoding it per request would cost each
// reader milliseconds of both cores, and sending it whole ten times more
// bytes than gzipped.
type snapshot struct {
	mu       sync.Mutex
	version  uint64
	sessions session.Stats // the pool's counters it was made with
	body, gz []byte
	// doc is the document of body, for the status page: the value body
	// was encoded from when masking changed nothing in it (the usual case),
	// else body decoded on the page's first read of this version; either
	// way the page shows the very document the API serves.
	doc *api.Status
}

// changed says that what the status shows changed: the next reader makes a
// new snapshot.
func (d *Daemon) changed() { d.version.Add(1) }

// statusJSON returns the snapshot, plain and gzipped, made anew when
// something changed.
func (d *Daemon) statusJSON() (body, gz []byte) {
	d.snap.mu.Lock()
	defer d.snap.mu.Unlock()
	return d.refreshSnapshot()
}

// refreshSnapshot is statusJSON with d.snap.mu held.
func (d *Daemon) refreshSnapshot() (body, gz []byte) {
	v := d.version.Load()
	// The session pool changes on its own (keepalives, reconnects, idle
	// closes): its counters are part of what the snapshot shows.
	ss := d.sessions.Stats()
	if d.snap.body != nil && d.snap.version == v && d.snap.sessions == ss {
		return d.snap.body, d.snap.gz
	}
	st := d.Status()
	var doc *api.Status
	raw, err := json.Marshal(st)
	if err != nil {
		raw = []byte(`{"error": "internal error: encoding the status"}`)
	}
	b := maskPersistIDs(raw)
	if err == nil && bytes.Equal(b, raw) {
		// Nothing to mask: the value is the document. Decoding it back
		// would cost the page more than making it did.
		doc = &st
	}
	b = append(b, '\n')
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestSpeed)
	zw.Write(b)
	zw.Close()
	d.snap.version, d.snap.sessions, d.snap.body, d.snap.gz, d.snap.doc = v, ss, b, z.Bytes(), doc
	return b, d.snap.gz
}

// StatusDoc is the status snapshot GET /api/v1/status answers, decoded: the
// status page's overview. It is shared by every reader until the next
// change: read it, never change it.
func (d *Daemon) StatusDoc() *api.Status {
	d.snap.mu.Lock()
	defer d.snap.mu.Unlock()
	body, _ := d.refreshSnapshot()
	if d.snap.doc == nil {
		var st api.Status
		if err := json.Unmarshal(body, &st); err != nil {
			st = api.Status{APIVersion: api.Version, GeneratedAt: d.now()}
		}
		d.snap.doc = &st
	}
	return d.snap.doc
}

// writeRaw answers a JSON document already encoded (and masked).
func writeRaw(w http.ResponseWriter, code int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}

// writeStatus answers the snapshot, gzipped to a client that takes it.
func (d *Daemon) writeStatus(w http.ResponseWriter, r *http.Request) {
	body, gz := d.statusJSON()
	w.Header().Set("Vary", "Accept-Encoding")
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Header().Set("Content-Encoding", "gzip")
		body = gz
	}
	writeRaw(w, http.StatusOK, body)
}

// devicesList is GET /api/v1/devices. Call with d.mu unheld.
func (d *Daemon) devicesList() api.DeviceList {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := api.DeviceList{Devices: make([]api.Device, 0, len(d.devices))}
	for _, name := range sortedKeys(d.devices) {
		out.Devices = append(out.Devices, d.apiDevice(name, false))
	}
	return out
}

// device is GET /api/v1/devices/{name}; false when there is none.
func (d *Daemon) device(name string) (api.Device, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.devices[name]; !ok {
		return api.Device{}, false
	}
	return d.apiDevice(name, true), true
}

// servicesList is GET /api/v1/services.
func (d *Daemon) servicesList() api.ServiceList {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := api.ServiceList{Services: make([]api.Service, 0, len(d.services))}
	for _, si := range d.services {
		out.Services = append(out.Services, d.apiService(si, false))
	}
	return out
}

// service is GET /api/v1/services/{name}; false when there is none.
func (d *Daemon) service(name string) (api.Service, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	i, ok := slices.BinarySearchFunc(d.services, name, func(s serviceInfo, n string) int { return strings.Compare(s.name, n) })
	if !ok {
		return api.Service{}, false
	}
	return d.apiService(d.services[i], true), true
}
