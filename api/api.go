package api

import (
	"encoding/json"
	"time"
)

// Version is the API version in the paths (/api/v1/...).
const Version = "v1"

// Device states. A service has the same states, for the devices and nodes
// that are its own.
const (
	StateInSync   = "in-sync"  // the managed configuration equals the target commit's intent
	StateApplied  = "applied"  // changed to the target commit's intent by the last pass
	StatePending  = "pending"  // in sync with an older commit: the target commit is not applied yet
	StateDrift    = "drift"    // managed nodes changed by hand, reported and left (drift policy report)
	StateDeferred = "deferred" // a guard held the change back; retried at deferral.until or the next pass
	StateFailing  = "failing"  // the last attempt failed; retried at next_retry
	StateBackoff  = "backoff"  // not looked at in the last pass: waiting for next_retry
	StatePaused   = "paused"   // an operator paused the device: no pass reads or changes it
	StateUnknown  = "unknown"  // not looked at yet
)

// States lists the device states, best first.
var States = []string{StateInSync, StateApplied, StatePending, StateUnknown, StatePaused, StateDeferred, StateDrift, StateBackoff, StateFailing}

// Status is GET /api/v1/status: is the network equal to the branch, and if
// not, where and why. It is precomputed when something changes, not per
// request.
type Status struct {
	APIVersion string `json:"api_version"`
	Branch     string `json:"branch"`
	// Head is the branch head last fetched.
	Head string `json:"head,omitempty"`
	// TargetCommit is the last good commit: the one the network is being
	// reconciled to. It differs from Head while Head is refused.
	TargetCommit string `json:"target_commit,omitempty"`
	// AppliedCommit is the last commit every device was brought to (none
	// failing, deferred, drifting or paused).
	AppliedCommit string `json:"applied_commit,omitempty"`
	// InSync: every device holds the target commit's intent, the target is
	// the head, and no pass is running.
	InSync      bool       `json:"in_sync"`
	Ready       bool       `json:"ready"`
	LastSync    *time.Time `json:"last_sync,omitempty"`
	GeneratedAt time.Time  `json:"generated_at"`
	// Pass is the pass in progress, if one runs.
	Pass     *PassProgress `json:"pass,omitempty"`
	LastPass *Pass         `json:"last_pass,omitempty"`
	// DevicesByState and ServicesByState count every state, zeros included.
	DevicesByState  map[string]int `json:"devices_by_state"`
	ServicesByState map[string]int `json:"services_by_state"`
	Alarms          []Alarm        `json:"alarms"` // active, acknowledged or not
	Devices         []Device       `json:"devices"`
	// Sessions is each device's pooled NETCONF session (docs/daemon.md).
	Sessions []Session `json:"sessions"`
	// IRR is each provider as-set's registration per IRR database
	// (docs/irr.md); absent when the daemon registers nothing.
	IRR []IRRRegistration `json:"irr,omitempty"`
	// Upcoming are the target commit's scheduled activations and
	// deactivations still ahead, soonest first.
	Upcoming []ScheduledChange `json:"upcoming,omitempty"`
	// Replica is this daemon's lease and shard when replicas share one
	// database (docs/ha.md); Replicas every live one, the leader first.
	// Both absent for one daemon alone on its journal.
	Replica  *Replica       `json:"replica,omitempty"`
	Replicas []ReplicaLease `json:"replicas,omitempty"`
}

// Replica is one replica's own view: its lease, its shard, whether it leads.
type Replica struct {
	ID string `json:"id"`
	// HoldsLease is false while the lease is lost: the replica writes and
	// applies nothing until it holds a new one.
	HoldsLease bool  `json:"holds_lease"`
	Token      int64 `json:"token"`
	// Leader: the oldest live lease, which recovers the runs dead replicas
	// left.
	Leader          bool      `json:"leader"`
	ShardDevices    int       `json:"shard_devices"`
	LeaseAgeSeconds float64   `json:"lease_age_seconds"`
	LeaseExpires    time.Time `json:"lease_expires,omitzero"`
	LastRenewal     time.Time `json:"last_renewal,omitzero"`
	// Coordinated are the open change sets that span shards, which the
	// leader applies whole (docs/ha.md).
	Coordinated []CoordinatedChangeSet `json:"coordinated,omitempty"`
}

// CoordinatedChangeSet is an intent commit's change set that spans shards,
// open until the leader's run of it settles.
type CoordinatedChangeSet struct {
	Commit  string `json:"commit"`
	Devices int    `json:"devices"`
	Applier string `json:"applier"`
	// Gathered: this replica holds every device of the set.
	Gathered bool `json:"gathered"`
}

// ReplicaLease is a live replica as the shared database lists it.
type ReplicaLease struct {
	ID       string    `json:"id"`
	Token    int64     `json:"token"`
	Acquired time.Time `json:"acquired"`
	Expires  time.Time `json:"expires"`
	Leader   bool      `json:"leader"`
}

// ScheduledChange is a service's activate or deactivate still ahead.
type ScheduledChange struct {
	At      time.Time `json:"at"` // in the zone the intent wrote it in
	Service string    `json:"service"`
	Action  string    `json:"action"` // ScheduleActivate or ScheduleDeactivate
}

// Actions of a ScheduledChange.
const (
	ScheduleActivate   = "activate"
	ScheduleDeactivate = "deactivate"
)

// IRRRegistration is one provider as-set in one IRR database: where
// netrecon's last change of its members stands.
type IRRRegistration struct {
	Database string   `json:"database"`
	Object   string   `json:"object"`
	Members  []string `json:"members"` // netrecon's own share of the members
	// State is registered (whois shows the change), submitted, accepted
	// (the registry said yes, whois does not show it yet), refused (the
	// registry said no: message has its words; not retried), or failed
	// (the last send did not get through; retried at next_try).
	State     string     `json:"state"`
	Commit    string     `json:"commit,omitempty"`
	Attempts  int        `json:"attempts"`
	Submitted *time.Time `json:"submitted,omitempty"`
	NextTry   *time.Time `json:"next_try,omitempty"`
	Message   string     `json:"message,omitempty"`
	Updated   time.Time  `json:"updated"`
}

// IRR registration states.
const (
	IRRRegistered = "registered"
	IRRSubmitted  = "submitted"
	IRRAccepted   = "accepted"
	IRRRefused    = "refused"
	IRRFailed     = "failed"
)

// Session is one device's pooled session: its state (idle, leased,
// connecting, keepalive, down, closed) and health.
type Session struct {
	Device    string    `json:"device"`
	State     string    `json:"state"`
	SessionID string    `json:"session_id,omitempty"`
	OpenedAt  time.Time `json:"opened_at,omitzero"`
	// AgeSeconds is how long the open session has been open.
	AgeSeconds float64   `json:"age_seconds,omitempty"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	// Failures counts, in a row, dials that failed and sessions lost; 0
	// once a session opens.
	Failures      int       `json:"failures"`
	Reconnects    int       `json:"reconnects"`
	LastError     string    `json:"last_error,omitempty"`
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
}

// PassProgress is a pass while it runs: where it is and what it waits on.
type PassProgress struct {
	ID      string    `json:"id"`
	Trigger string    `json:"trigger"` // start, tick, retry, webhook, api, action, once
	Started time.Time `json:"started"`
	Head    string    `json:"head,omitempty"`
	Commit  string    `json:"commit,omitempty"` // being applied; known after the check step
	// Step is fetch, check, render, plan, apply or record.
	Step    string           `json:"step"`
	Devices []DeviceProgress `json:"devices"` // the devices the apply step works on
}

// DeviceProgress is one device of the apply step in progress.
type DeviceProgress struct {
	Device string `json:"device"`
	// Phase is the apply engine's: dial, lock-wait, locked, edited,
	// committed, verified, confirmed, skipped, ... (docs/daemon.md).
	Phase  string    `json:"phase"`
	Detail string    `json:"detail,omitempty"`
	Since  time.Time `json:"since"`
	// Waiting says what the device waits on, while it waits.
	Waiting *Wait `json:"waiting,omitempty"`
}

// Wait is what a device of a running pass waits on.
type Wait struct {
	Reason  string    `json:"reason"`
	HeldBy  string    `json:"held_by,omitempty"` // the lock's holder, as the device names it
	RetryAt time.Time `json:"retry_at"`
}

// Device is a device as the API shows it. Lists leave out Nodes and
// Services; GET /api/v1/devices/{name} fills them.
type Device struct {
	Name     string `json:"name"`
	Platform string `json:"platform,omitempty"`
	State    string `json:"state"`
	// AppliedCommit is the commit the device was last brought to or found
	// in sync with.
	AppliedCommit string `json:"applied_commit,omitempty"`
	// Failures counts consecutive failed attempts.
	Failures  int        `json:"failures"`
	LastError string     `json:"last_error,omitempty"`
	NextRetry *time.Time `json:"next_retry,omitempty"`
	Deferral  *Deferral  `json:"deferral,omitempty"`
	Paused    *Request   `json:"paused,omitempty"`
	// HealRequested is an operator's heal-now, until a pass carries it out.
	HealRequested *Request   `json:"heal_requested,omitempty"`
	DriftNodes    int        `json:"drift_nodes"`
	PendingNodes  int        `json:"pending_nodes"`
	Changed       *time.Time `json:"changed,omitempty"` // when State last changed
	Services      []string   `json:"services,omitempty"`
	Nodes         []Node     `json:"nodes,omitempty"`
}

// Deferral is a guard's reason to hold a device back.
type Deferral struct {
	Guard  string     `json:"guard"`
	Reason string     `json:"reason"`
	Until  *time.Time `json:"until,omitempty"` // the guard's retry time; absent: the next pass
}

// Request is who asked for something (a pause, a heal) and why.
type Request struct {
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// Node is one configuration node that differs from the intent.
type Node struct {
	// Kind is drift (changed on the device by hand) or pending (an intent
	// change not applied yet).
	Kind string `json:"kind"`
	// Action is what applying the intent does to it: create, update, delete.
	Action string   `json:"action"`
	Path   string   `json:"path"`
	Owners []string `json:"owners"` // the services that render it
	Leaf   bool     `json:"leaf"`
	// Live and Desired are the leaf's values on the device and in the
	// intent; absent where the node is absent. A secret leaf's values read
	// "[redacted]".
	Live    *string `json:"live,omitempty"`
	Desired *string `json:"desired,omitempty"`
}

// Service is a service instance as the API shows it: drifting only when one
// of its own nodes is, failing or deferred only when one of its own changes
// is held back. Lists leave out Devices' nodes.
type Service struct {
	Name    string          `json:"name"`
	Type    string          `json:"type,omitempty"`
	State   string          `json:"state"`
	Devices []ServiceDevice `json:"devices"`
	// Usage is the service's interface traffic at its device's last SNMP
	// poll, when usage collection is on (docs/usage.md).
	Usage *ServiceUsage `json:"usage,omitempty"`
}

// ServiceUsage is a service's interface as SNMP last read it: the 64-bit
// octet counters since the interface's counters began (a rate is the
// difference of two reads over their time), and its operational state.
type ServiceUsage struct {
	Device    string     `json:"device"`
	Interface string     `json:"interface"` // its ifName
	InOctets  uint64     `json:"in_octets"`
	OutOctets uint64     `json:"out_octets"`
	OperUp    bool       `json:"oper_up"`
	SampledAt *time.Time `json:"sampled_at,omitempty"`
	// Error says why there is no reading: no answer, or no such interface.
	Error string `json:"error,omitempty"`
}

// ServiceDevice is a device a service renders to, and the service's state there.
type ServiceDevice struct {
	Device string `json:"device"`
	State  string `json:"state"`
	Nodes  []Node `json:"nodes,omitempty"` // the service's own differing nodes there
}

// Alarm is a condition that needs a human: raised once per episode,
// notified once, cleared when the condition ends.
type Alarm struct {
	ID      int64  `json:"id"`
	Kind    string `json:"kind"` // device-failing, device-mixed, drift, commit-refused, fetch-failing
	Device  string `json:"device,omitempty"`
	Commit  string `json:"commit,omitempty"`
	Message string `json:"message"`
	// Hint says what to do about it, when netrecon knows.
	Hint         string           `json:"hint,omitempty"`
	Failures     int              `json:"failures,omitempty"`
	Since        time.Time        `json:"since"`
	Cleared      *time.Time       `json:"cleared,omitempty"`
	Acknowledged *Acknowledgement `json:"acknowledged,omitempty"`
}

// Acknowledgement is an operator's "in hand" on an active alarm.
type Acknowledgement struct {
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// Pass is one reconcile pass of the daemon.
type Pass struct {
	ID       string     `json:"id"`
	Trigger  string     `json:"trigger"`
	Started  time.Time  `json:"started"`
	Finished *time.Time `json:"finished,omitempty"`
	Seconds  float64    `json:"seconds,omitempty"`
	Head     string     `json:"head,omitempty"`
	Commit   string     `json:"commit,omitempty"`
	// Outcome is running, ok, drift (reported), deferred, failed or error
	// (the pass itself failed: see error).
	Outcome  string   `json:"outcome"`
	Error    string   `json:"error,omitempty"`
	RunIDs   []int64  `json:"run_ids"`
	Applied  []string `json:"applied"`
	Healed   []string `json:"healed"`
	Failed   []string `json:"failed"`
	Drift    []string `json:"drift"`
	Deferred []string `json:"deferred"`
	// Runs are the journal runs of the pass (GET /api/v1/passes/{id} only).
	Runs []Run `json:"runs,omitempty"`
}

// Run is one apply: by the daemon (StartedBy "daemon:p-...", Pass set) or
// by `netrecon apply`. `netrecon history --output json` writes the same
// document, with the fields only the state folder's owner may read.
type Run struct {
	ID           int64      `json:"id"`
	Pass         string     `json:"pass,omitempty"`
	IntentCommit string     `json:"intent_commit"`
	StartedBy    string     `json:"started_by"`
	Atomic       bool       `json:"atomic"`
	StartedAt    time.Time  `json:"started_at"`
	FinishedAt   *time.Time `json:"finished_at"` // null while running
	Seconds      float64    `json:"seconds,omitempty"`
	// Outcome is running, applied, no-changes, deferred, rolled-back,
	// partial, failed, mixed or recovered.
	Outcome string      `json:"outcome"`
	Summary string      `json:"summary"`
	Devices []RunDevice `json:"devices"`
	// Plan is the saved plan (history show only: it holds the desired trees).
	Plan json.RawMessage `json:"plan,omitempty"`
}

// RunDevice is one device of a run.
type RunDevice struct {
	Device  string  `json:"device"`
	Phase   string  `json:"phase"`
	Error   string  `json:"error,omitempty"`
	Seconds float64 `json:"seconds,omitempty"` // first phase to last
	// PersistID is history only: any session that knows it can confirm or
	// cancel the commit, so the daemon never shows it.
	PersistID   string       `json:"persist_id,omitempty"`
	Changes     []Change     `json:"changes,omitempty"`
	Transitions []Transition `json:"transitions,omitempty"`
}

// Change is one planned change of a run's device, secret values redacted.
type Change struct {
	Action string   `json:"action"`
	Path   string   `json:"path"`
	Owners []string `json:"owners"`
	Reason string   `json:"reason,omitempty"`
	Before *string  `json:"before,omitempty"`
	After  *string  `json:"after,omitempty"`
}

// Transition is one phase a device entered, and how long it stayed.
type Transition struct {
	Phase   string    `json:"phase"`
	At      time.Time `json:"at"`
	Seconds float64   `json:"seconds,omitempty"`
	// Detail is history only: a plain commit's carries its pre-image.
	Detail string `json:"detail,omitempty"`
}

// Action is one operator action, as the journal recorded it.
type Action struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Action string    `json:"action"` // accept-history, heal, acknowledge, pause, resume
	Target string    `json:"target,omitempty"`
	Who    string    `json:"who"`
	Token  string    `json:"token"`
	Reason string    `json:"reason"`
	Detail string    `json:"detail"`
	// Pass is the pass the action triggered, if any.
	Pass string `json:"pass,omitempty"`
}

// ActionRequest is the body of POST /api/v1/actions/{action}. Reason is
// required; As names the person behind a shared token (the CLI sends --as
// or $USER).
type ActionRequest struct {
	Reason string `json:"reason"`
	As     string `json:"as,omitempty"`
	// Commit: accept-history, the new base (the head or one of its ancestors).
	Commit string `json:"commit,omitempty"`
	// Devices: heal, the devices to heal now; empty is every device.
	Devices []string `json:"devices,omitempty"`
	// Device: pause and resume.
	Device string `json:"device,omitempty"`
	// Alarm: acknowledge, the alarm's id.
	Alarm int64 `json:"alarm,omitempty"`
}

// Triggered is the answer to POST /api/v1/runs: the pass that will run.
type Triggered struct {
	ID  string `json:"id"`
	URL string `json:"url"` // the pass's /api/v1/passes/{id}
}

// Lists. NextBefore, when set, asks for the next page (?before=...).
type (
	DeviceList struct {
		Devices []Device `json:"devices"`
	}
	ServiceList struct {
		Services []Service `json:"services"`
	}
	AlarmList struct {
		Alarms     []Alarm `json:"alarms"`
		NextBefore int64   `json:"next_before,omitempty"`
	}
	RunList struct {
		Runs       []Run `json:"runs"`
		NextBefore int64 `json:"next_before,omitempty"`
	}
	PassList struct {
		Passes     []Pass `json:"passes"`
		NextBefore string `json:"next_before,omitempty"`
	}
	ActionList struct {
		Actions    []Action `json:"actions"`
		NextBefore int64    `json:"next_before,omitempty"`
	}
)

// Error is every error answer.
type Error struct {
	Error string `json:"error"`
}

// TaskList answers GET /api/v1/tasks: every manual step of the target
// commit's services, open ones first, then by service and step.
type TaskList struct {
	Tasks []Task `json:"tasks"`
}

// Task is one manual step of one service (a service type's manual_steps):
// something only a person can do, with the values to type rendered from the
// intent. While a new service's step is open the service is not configured.
type Task struct {
	Service      string      `json:"service"`
	Step         string      `json:"step"`
	Title        string      `json:"title"`
	Instructions string      `json:"instructions,omitempty"`
	Data         []TaskValue `json:"data"`
	// State is TaskStateOpen or TaskStateDone.
	State    string    `json:"state"`
	OpenedAt time.Time `json:"opened_at"`
	// AgeSeconds: an open task, how long it has been open.
	AgeSeconds float64 `json:"age_seconds,omitempty"`
	// Overdue: open longer than the daemon's tasks.alarm_after.
	Overdue bool `json:"overdue,omitempty"`
	// Holds: the service waits for this step before it is configured (a
	// step reopened by changed data lists and alarms, but does not take a
	// running service down).
	Holds     bool      `json:"holds,omitempty"`
	Reopened  int       `json:"reopened,omitempty"`
	DoneBy    string    `json:"done_by,omitempty"`
	DoneAt    time.Time `json:"done_at,omitzero"`
	Reference string    `json:"reference,omitempty"`
}

// TaskValue is one value of a task, ready to copy.
type TaskValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// States of a Task.
const (
	TaskStateOpen = "open"
	TaskStateDone = "done"
)

// TaskDone is the body of POST /api/v1/tasks/{service}/{step}/done.
type TaskDone struct {
	// Reference is what the person has to show for it: a registry's
	// receipt number. Required.
	Reference string `json:"reference"`
	// As names the person (the CLI's --as or $USER); else the token's name.
	As string `json:"as,omitempty"`
}

// Order states (docs/orders.md).
const (
	OrderProposing = "proposing" // recorded; its branch or pull request not confirmed yet: send it again
	OrderPROpen    = "pr_open"   // its branch is pushed and, with GitHub, its pull request open
	OrderMerged    = "merged"    // the applied branch holds its file
	OrderApplied   = "applied"   // the service's devices were brought to a commit containing the merge
	OrderFailed    = "failed"    // a pass at such a commit failed on a device of the service
)

// OrderRequest is the body of POST /api/v1/orders: one service instance,
// its fields those of the service type's spec.
type OrderRequest struct {
	OrderID     string            `json:"order_id"`
	ServiceType string            `json:"service_type"`
	Name        string            `json:"name"`
	Customer    string            `json:"customer"`
	Labels      map[string]string `json:"labels,omitempty"`
	Fields      map[string]any    `json:"fields"`
}

// Order is an order as it stands: GET /api/v1/orders/{id}, and the answer
// to POST /api/v1/orders.
type Order struct {
	OrderID     string     `json:"order_id"`
	State       string     `json:"state"`
	Path        string     `json:"path"`   // the service file it adds
	Branch      string     `json:"branch"` // order/<order_id>
	PRURL       string     `json:"pr_url,omitempty"`
	Commit      string     `json:"commit,omitempty"`       // the branch's commit
	MergeCommit string     `json:"merge_commit,omitempty"` // the first head holding the file
	Detail      string     `json:"detail,omitempty"`       // why it failed, or what it waits for
	Created     time.Time  `json:"created"`
	Updated     time.Time  `json:"updated"`
	Merged      *time.Time `json:"merged,omitempty"`
	Applied     *time.Time `json:"applied,omitempty"`
	URL         string     `json:"url"` // this order's /api/v1/orders/{id}
}

// OrderInvalid is the answer to an order with errors (422): every error,
// each at its field of the order (fields.vlan, name), and nothing written.
type OrderInvalid struct {
	Error    string         `json:"error"`
	Problems []OrderProblem `json:"problems"`
}

// OrderProblem is one error of an order. At, when set, is a place in the
// intent repo the error also concerns (file:line:col field), such as the
// service the order clashes with.
type OrderProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	At      string `json:"at,omitempty"`
}
