package daemon

import (
	"context"
	"errors"

	"github.com/netrecon/netrecon/reconcile/apply"
)

// recover settles the runs a previous process left unfinished (it died
// during an apply) before any new pass: each device ends on its old or its new
// configuration, as the journal's write-ahead phases decide (apply.Recover).
// The inventory is the last good commit's, or the head's on a first start.
func (d *Daemon) recover(ctx context.Context) {
	runs, err := d.journal.Unfinished(ctx)
	if err != nil {
		d.log.Error("recover: journal", "err", err)
		return
	}
	if len(runs) == 0 {
		return
	}
	commit := d.commit
	if commit == "" {
		if commit, err = d.mirror.Fetch(ctx); err != nil {
			d.log.Error("recover: fetch", "err", err)
			return
		}
	}
	in, _, err := d.render(ctx, commit)
	if err != nil {
		d.log.Error("recover: load the intent", "commit", commit, "err", err)
		return
	}
	acts, err := apply.Recover(ctx, d.journal, d.sessionDialer(in), in, d.log)
	for _, a := range acts {
		var mixed *apply.MixedError
		if errors.As(a.Err, &mixed) {
			d.alarms.raise(ctx, Alarm{Kind: AlarmDeviceMixed, Device: a.Device, Commit: commit, Message: a.Err.Error()})
		}
		if a.Err != nil {
			d.log.Error("recover", "run", a.Run, "device", a.Device, "action", a.Action, "err", a.Err)
			continue
		}
		d.log.Info("recover", "run", a.Run, "device", a.Device, "action", a.Action)
	}
	if err != nil {
		d.log.Error("recover", "err", err)
	}
}
