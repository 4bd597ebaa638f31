package daemon

import (
	"slices"
	"strings"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/reconcile/apply"
)

// passProgress is the pass in flight as the status shows it: its step, and
// per device of the apply what it is doing and what it waits on. The pass
// writes it under Daemon.mu; the status copies it.
type passProgress struct {
	p       api.PassProgress
	devices map[string]*api.DeviceProgress
}

// stepNames are the pass's steps in the status's words.
var stepNames = map[string]string{"fetch": "fetch", "check": "check", "load": "render", "shard": "plan", "plan": "plan", "sort": "plan", "gate": "plan", "apply": "apply"}

func (pp *passProgress) view() api.PassProgress {
	v := pp.p
	v.Devices = make([]api.DeviceProgress, 0, len(pp.devices))
	for _, dp := range pp.devices {
		c := *dp
		if c.Waiting != nil {
			w := *c.Waiting
			c.Waiting = &w
		}
		v.Devices = append(v.Devices, c)
	}
	slices.SortFunc(v.Devices, func(a, b api.DeviceProgress) int { return strings.Compare(a.Device, b.Device) })
	return v
}

// startProgress announces pass p in the status.
func (d *Daemon) startProgress(p *PassStatus) {
	d.mu.Lock()
	d.progress = &passProgress{p: api.PassProgress{ID: p.ID, Trigger: string(p.Reason), Started: p.Started, Step: "fetch"},
		devices: map[string]*api.DeviceProgress{}}
	d.mu.Unlock()
	d.changed()
}

// stepProgress records that the pass entered step, knowing head and commit.
func (d *Daemon) stepProgress(step, head, commit string) {
	d.mu.Lock()
	if pp := d.progress; pp != nil {
		pp.p.Step, pp.p.Head, pp.p.Commit = step, head, commit
	}
	d.mu.Unlock()
	d.changed()
}

func (d *Daemon) endProgress() {
	d.mu.Lock()
	d.progress = nil
	d.mu.Unlock()
	d.changed()
}

// progressReporter is the apply engine's Reporter in the daemon: each event
// goes to the log and into the pass's progress, so that the status says
// which device waits on whose lock until when.
type progressReporter struct {
	d   *Daemon
	log apply.Reporter
}

func (r progressReporter) Event(e apply.Event) {
	r.log.Event(e)
	d := r.d
	now := d.now()
	d.mu.Lock()
	// A journal batch names no device: it is the run's, not a device's step.
	if pp := d.progress; pp != nil && e.Device != "" {
		dp := pp.devices[e.Device]
		if dp == nil {
			dp = &api.DeviceProgress{Device: e.Device}
			pp.devices[e.Device] = dp
		}
		if dp.Phase != e.Phase {
			dp.Since = now
		}
		dp.Phase, dp.Detail, dp.Waiting = e.Phase, e.Detail, nil
		if e.Phase == "lock-wait" {
			dp.Waiting = &api.Wait{Reason: "lock held: " + e.Detail, HeldBy: e.HeldBy, RetryAt: now.Add(e.Retry)}
		}
	}
	d.mu.Unlock()
	d.changed()
}
