package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/reconcile/journal"
)

// AlarmKind says what an alarm is about.
type AlarmKind string

const (
	// AlarmDeviceFailing: a device failed Config.Alarm.AfterFailures passes in a row.
	AlarmDeviceFailing AlarmKind = "device-failing"
	// AlarmDrift: a device has hand edits on managed nodes and its policy is report.
	AlarmDrift AlarmKind = "drift"
	// AlarmCommitRefused: the branch head is unsigned, rewrites history, or
	// does not validate; the daemon stays on the last good commit.
	AlarmCommitRefused AlarmKind = "commit-refused"
	// AlarmFetchFailing: the intent repo could not be fetched
	// Config.Alarm.AfterFailures times in a row.
	AlarmFetchFailing AlarmKind = "fetch-failing"
	// AlarmDeviceMixed: a rollback (or a recovery) could not bring a device
	// back: it runs neither its old nor its new configuration. Raised at
	// once, naming the nodes; it clears when the device is in sync again.
	AlarmDeviceMixed AlarmKind = "device-mixed"
)

// Alarm is a condition that needs a human. It is raised once per episode,
// notified once, and cleared (and notified) when the condition ends.
type Alarm struct {
	ID       int64 // the journal's
	Kind     AlarmKind
	Device   string
	Commit   string
	Message  string
	Failures int
	Since    time.Time
	// An operator's acknowledgement: in hand, still active.
	AckBy     string
	AckReason string
	AckAt     time.Time
}

func (a Alarm) key() string { return string(a.Kind) + "/" + a.Device }

// Notification is the JSON body POSTed to Config.Notify.URL.
type Notification struct {
	Event string    `json:"event"` // raised, acknowledged or cleared
	Alarm api.Alarm `json:"alarm"`
	At    time.Time `json:"at"`
}

// alarmSet holds the raised alarms, keyed by kind and device (one alarm per
// condition: a device failing for the 10th time keeps its one alarm). Each
// raise and clear is written through to the journal, which keeps the past
// alarms too; the map is this process's copy of the active ones.
type alarmSet struct {
	mu      sync.Mutex
	alarms  map[string]Alarm
	journal *journal.Journal
	log     *slog.Logger
	notify  *notifier
	now     func() time.Time
	gauge   func(float64)
	changed func() // the status snapshot is stale
}

// news reports whether raising a over old (had: there is one) starts a new
// episode, the only thing that is notified. The same condition raised again
// — on the next pass, for a new commit, after a restart — is the same
// episode, and its message is updated in silence. Only a refused commit
// that another refused commit replaces is news: it names another commit
// for the operator to look at.
func news(old Alarm, had bool, a Alarm) bool {
	if !had {
		return true
	}
	return a.Kind == AlarmCommitRefused && old.Commit != a.Commit
}

// raise records a; it logs and notifies only when it starts an episode.
func (s *alarmSet) raise(ctx context.Context, a Alarm) {
	now := s.now()
	s.mu.Lock()
	old, had := s.alarms[a.key()]
	isNews := news(old, had, a)
	if had {
		a.Since, a.ID = old.Since, old.ID
		if !isNews {
			a.AckBy, a.AckReason, a.AckAt = old.AckBy, old.AckReason, old.AckAt
		}
	} else {
		a.Since = now
	}
	s.mu.Unlock()
	ja := journal.Alarm{Kind: string(a.Kind), Device: a.Device, Commit: a.Commit, Message: a.Message, Failures: a.Failures, Since: a.Since}
	if isNews && had {
		// A new episode of a condition still active: the old one ends
		// here, so that its acknowledgement does not cover the new one.
		if err := s.journal.ClearAlarm(ctx, string(a.Kind), a.Device); err != nil {
			s.log.Error("journal: clear alarm", "alarm", string(a.Kind), "device", a.Device, "err", err)
		}
		ja.Since, a.Since = now, now
	}
	if isNews {
		ja.Raised = now
	}
	id, err := s.journal.RaiseAlarm(ctx, ja)
	if err != nil {
		s.log.Error("journal: record alarm", "alarm", string(a.Kind), "device", a.Device, "err", err)
	} else {
		a.ID = id
	}
	s.mu.Lock()
	s.alarms[a.key()] = a
	n := len(s.alarms)
	s.mu.Unlock()
	s.gauge(float64(n))
	s.changed()
	if !isNews {
		return
	}
	s.log.Error("alarm raised", "alarm", string(a.Kind), "device", a.Device, "commit", a.Commit, "failures", a.Failures, "message", a.Message)
	s.notify.send(Notification{Event: "raised", Alarm: apiAlarm(a, time.Time{}), At: now})
}

func (s *alarmSet) clear(ctx context.Context, kind AlarmKind, device string) {
	s.mu.Lock()
	k := string(kind) + "/" + device
	a, had := s.alarms[k]
	delete(s.alarms, k)
	n := len(s.alarms)
	s.mu.Unlock()
	if !had {
		return
	}
	s.gauge(float64(n))
	s.changed()
	if err := s.journal.ClearAlarm(ctx, string(kind), device); err != nil {
		s.log.Error("journal: clear alarm", "alarm", string(kind), "device", device, "err", err)
	}
	now := s.now()
	s.log.Info("alarm cleared", "alarm", string(kind), "device", device, "commit", a.Commit)
	s.notify.send(Notification{Event: "cleared", Alarm: apiAlarm(a, now), At: now})
}

// acknowledge records who took the active alarm id in hand, and why.
// ErrNotFound (from the journal) when id is no active alarm.
func (s *alarmSet) acknowledge(ctx context.Context, id int64, who, reason string) (Alarm, error) {
	if err := s.journal.AcknowledgeAlarm(ctx, id, who, reason); err != nil {
		return Alarm{}, err
	}
	now := s.now()
	s.mu.Lock()
	var a Alarm
	for k, x := range s.alarms {
		if x.ID == id {
			x.AckBy, x.AckReason, x.AckAt = who, reason, now
			s.alarms[k], a = x, x
		}
	}
	s.mu.Unlock()
	s.changed()
	s.notify.send(Notification{Event: "acknowledged", Alarm: apiAlarm(a, time.Time{}), At: now})
	return a, nil
}

func (s *alarmSet) has(kind AlarmKind, device string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.alarms[string(kind)+"/"+device]
	return ok
}

func (s *alarmSet) list() []Alarm {
	s.mu.Lock()
	out := make([]Alarm, 0, len(s.alarms))
	for _, a := range s.alarms {
		out = append(out, a)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Alarm) int { return strings.Compare(a.key(), b.key()) })
	return out
}

// restore puts back the alarms of the previous process without notifying
// them again: they are the same episodes.
func (s *alarmSet) restore(as []Alarm) {
	s.mu.Lock()
	for _, a := range as {
		s.alarms[a.key()] = a
	}
	n := len(s.alarms)
	s.mu.Unlock()
	s.gauge(float64(n))
}

// notifier POSTs notifications from one goroutine through a bounded queue, so
// a slow or dead receiver never holds up a pass; when the queue is full the
// notification is dropped and counted (the alarm stays in status and metrics).
type notifier struct {
	url    string
	client *http.Client
	log    *slog.Logger
	queue  chan Notification
	done   chan struct{}
	count  func(result string)
}

func newNotifier(url string, timeout time.Duration, client *http.Client, log *slog.Logger, count func(string)) *notifier {
	n := &notifier{url: url, client: client, log: log, count: count, queue: make(chan Notification, 64), done: make(chan struct{})}
	if n.client == nil {
		n.client = &http.Client{Timeout: timeout}
	}
	if url == "" {
		close(n.done)
		return n
	}
	go n.loop()
	return n
}

func (n *notifier) send(msg Notification) {
	if n.url == "" {
		return
	}
	select {
	case n.queue <- msg:
	default:
		n.count("dropped")
		n.log.Warn("notification dropped: queue full", "alarm", string(msg.Alarm.Kind), "device", msg.Alarm.Device)
	}
}

func (n *notifier) loop() {
	defer close(n.done)
	for msg := range n.queue {
		if err := n.post(msg); err != nil {
			n.count("error")
			n.log.Warn("notification failed", "alarm", string(msg.Alarm.Kind), "device", msg.Alarm.Device, "err", err)
			continue
		}
		n.count("sent")
	}
}

func (n *notifier) post(msg Notification) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.client.Timeout+time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "netrecon-daemon")
	resp, err := n.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("notification receiver answered %s", resp.Status)
	}
	return nil
}

// close stops taking notifications and waits (at most until ctx ends) for the
// queued ones to be sent.
func (n *notifier) close(ctx context.Context) {
	if n.url != "" {
		close(n.queue)
	}
	select {
	case <-n.done:
	case <-ctx.Done():
	}
	n.client.CloseIdleConnections()
}
