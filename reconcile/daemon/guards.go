package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/apply"
	"github.com/netrecon/netrecon/reconcile/guard"
	"github.com/netrecon/netrecon/schema"
)

// buildGuard makes the guard chain of the config: maintenance always, then
// freeze windows, operator sessions and SNMP when configured, in that order
// (cheapest first: a freeze window needs no device read).
func (d *Daemon) buildGuard() (guard.Guard, error) {
	gs := []guard.Guard{guard.Maintenance()}
	g := d.cfg.Guards
	if len(g.FreezeWindows) > 0 {
		ws, err := guard.ParseWindows(g.FreezeWindows)
		if err != nil {
			return nil, err
		}
		fw, err := guard.FreezeWindows(ws, d.now)
		if err != nil {
			return nil, err
		}
		gs = append(gs, fw)
	}
	if g.OperatorSessions != nil {
		gs = append(gs, guard.OperatorSessions(g.OperatorSessions.Allow))
	}
	if s := g.SNMP; s != nil {
		var client guard.SNMPReader
		var target func(dev *schema.Device) string
		if d.usageSet != nil {
			// One poller per device: the guard's read rides on the usage
			// poll of the device, within its usage.min_interval.
			client, target = d.usageSet, d.usageTarget
		} else {
			if d.opts.SNMP == nil {
				return nil, errors.New("guards.snmp: Options.SNMP is nil")
			}
			var err error
			if client, err = d.opts.SNMP(s, d.log); err != nil {
				return nil, fmt.Errorf("guards.snmp: %w", err)
			}
			port := strconv.Itoa(s.Port)
			target = func(dev *schema.Device) string { return net.JoinHostPort(dev.Address, port) }
			if s.Address != "" {
				addr := s.Address
				target = func(*schema.Device) string { return addr }
			}
		}
		sg, err := guard.SNMPUsers(guard.SNMPOptions{Client: client, OID: s.OID, Threshold: s.Threshold, MinInterval: s.MinInterval.D(), Target: target, Now: d.now})
		if err != nil {
			return nil, fmt.Errorf("guards.snmp: %w", err)
		}
		gs = append(gs, sg)
	}
	return guard.All(gs...), nil
}

// guard is the apply engine's Guard option.
func (d *Daemon) guard() func(ctx context.Context, dev *schema.Device, s reconcile.Monitor) error {
	g := d.guards
	if g == nil {
		return nil
	}
	return g.Check
}

// deferral describes a device the apply engine deferred.
func (d *Daemon) deferral(device string, e *apply.DeferredError) *Deferral {
	df := &Deferral{Device: device, Guard: "guard", Reason: e.Reason}
	var ge *guard.DeferredError
	if errors.As(e, &ge) {
		df.Guard, df.Reason = ge.Guard, ge.Reason
		if ge.Err != nil {
			df.Reason += ": " + ge.Err.Error()
		}
		if ge.RetryAfter > 0 {
			df.RetryAfter = d.now().Add(ge.RetryAfter)
		}
	}
	return df
}
