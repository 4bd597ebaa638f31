package daemon

import (
	"bytes"
	"strings"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/planfile"
)

// RunView is a journal run as the API shows it, and with full as
// `netrecon history` on the state folder shows it. The API's is a list of
// what may be shown, not the journal's record minus what may not: persist
// ids let any session confirm or cancel a pending commit, and transition
// details carry pre-images of managed configuration (plain commits), so
// neither is in it, nor the plan file (it holds desired trees); the plan's
// changes are, with secret values redacted, as the plan comment of a pull
// request shows them. A persist id quoted in an error or the summary is
// masked.
func RunView(run *journal.Run, full bool) api.Run {
	ids := persistIDs(run)
	mask := func(s string) string {
		if full {
			return s
		}
		return maskIDs(s, ids)
	}
	v := api.Run{ID: int64(run.ID), IntentCommit: run.IntentCommit, StartedBy: run.StartedBy, Atomic: run.Atomic,
		StartedAt: run.StartedAt, FinishedAt: timePtr(run.FinishedAt), Outcome: string(run.Outcome), Summary: mask(run.Summary),
		Devices: make([]api.RunDevice, 0, len(run.Devices))}
	if p, ok := strings.CutPrefix(run.StartedBy, "daemon:"); ok {
		v.Pass = p
	}
	if !run.FinishedAt.IsZero() {
		v.Seconds = run.FinishedAt.Sub(run.StartedAt).Seconds()
	}
	changes := planChanges(run.Plan)
	for _, dr := range run.Devices {
		a := api.RunDevice{Device: dr.Device, Phase: string(dr.Phase), Error: mask(dr.Error), Changes: changes[dr.Device]}
		if full {
			a.PersistID = dr.PersistID
		}
		for i, t := range dr.Transitions {
			tv := api.Transition{Phase: string(t.Phase), At: t.At}
			if i+1 < len(dr.Transitions) {
				tv.Seconds = dr.Transitions[i+1].At.Sub(t.At).Seconds()
			}
			if full {
				tv.Detail = t.Detail
			}
			a.Transitions = append(a.Transitions, tv)
		}
		if n := len(dr.Transitions); n > 1 {
			a.Seconds = dr.Transitions[n-1].At.Sub(dr.Transitions[0].At).Seconds()
		}
		v.Devices = append(v.Devices, a)
	}
	if full && len(run.Plan) > 0 {
		v.Plan = run.Plan
	}
	return v
}

// planChanges are the changes per device of a run's saved plan, secret
// values redacted; none when the run holds no plan (lists leave it out) or
// one this netrecon cannot read.
func planChanges(doc []byte) map[string][]api.Change {
	if len(doc) == 0 {
		return nil
	}
	p, _, err := planfile.Read(bytes.NewReader(doc))
	if err != nil {
		return nil
	}
	out := map[string][]api.Change{}
	for _, pd := range p.Devices {
		for _, c := range pd.Changes {
			ch := api.Change{Action: actionWord(c.Action), Path: string(c.Path), Owners: append([]string{}, c.Owners...), Reason: c.Reason}
			if c.Leaf && c.Action != configtree.Create {
				ch.Before = strPtr(shown(c.Path, c.Before))
			}
			if c.Leaf && c.Action != configtree.Delete {
				ch.After = strPtr(shown(c.Path, c.After))
			}
			out[pd.Name] = append(out[pd.Name], ch)
		}
	}
	return out
}

func persistIDs(run *journal.Run) []string {
	var ids []string
	for _, dr := range run.Devices {
		if dr.PersistID != "" {
			ids = append(ids, dr.PersistID)
		}
	}
	return ids
}

func maskIDs(s string, ids []string) string {
	for _, id := range ids {
		s = strings.ReplaceAll(s, id, "[persist id]")
	}
	return s
}

func apiAction(a journal.Action, pass string) api.Action {
	return api.Action{ID: int64(a.ID), At: a.At, Action: a.Action, Target: a.Target, Who: a.Who, Token: a.Token,
		Reason: a.Reason, Detail: a.Detail, Pass: pass}
}
