package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/reconcile/guard"
	"github.com/netrecon/netrecon/schema"
	"github.com/netrecon/netrecon/usage"
)

// usageTick is how often the collector looks for a device due: each device
// is still read at most once per its usage.min_interval.
const usageTick = time.Second

// newUsage builds the usage collection of Config.Usage, and the per-device
// SNMP pollers the SNMP guard shares.
func (d *Daemon) newUsage() error {
	u := d.cfg.Usage
	if u == nil {
		return nil
	}
	if d.opts.SNMPTables == nil {
		return errors.New("usage: Options.SNMPTables is nil")
	}
	reader, err := d.opts.SNMPTables(u, d.log.With("component", "usage"))
	if err != nil {
		return fmt.Errorf("usage: %w", err)
	}
	var scalars []string
	if s := d.cfg.Guards.SNMP; s != nil {
		oid := s.OID
		if oid == "" {
			oid = guard.OIDHrSystemNumUsers
		}
		scalars = append(scalars, "."+strings.TrimPrefix(oid, "."))
	}
	d.usageSet, err = usage.NewSet(usage.SetOptions{Reader: reader, Scalars: scalars, Interval: u.interval, Now: d.now})
	if err != nil {
		return fmt.Errorf("usage: %w", err)
	}
	d.usage = usage.NewCollector(d.usageSet, d.log.With("component", "usage"))
	d.metrics.reg.MustRegister(d.usage)
	return nil
}

// usageTarget is a device's SNMP agent under usage: (and, with it, the
// guard's).
func (d *Daemon) usageTarget(dev *schema.Device) string {
	if a := d.cfg.Usage.Address; a != "" {
		return a
	}
	return net.JoinHostPort(dev.Address, strconv.Itoa(d.cfg.Usage.Port))
}

// setUsageServices gives the collector the intent's services that have an
// interface on one device; others (a static route) have no traffic of
// their own.
func (d *Daemon) setUsageServices(in *schema.Intent) {
	if d.usage == nil || in == nil {
		return
	}
	var ss []usage.Service
	for _, svc := range in.Services {
		if len(svc.Devices) != 1 {
			continue
		}
		dev := in.Device(svc.Devices[0])
		name, ok := ifName(d.cfg.Usage.IfName, svc.Spec)
		if dev == nil || !ok {
			continue
		}
		ss = append(ss, usage.Service{Name: svc.Name, Customer: svc.Customer, Device: dev.Name, Target: d.usageTarget(dev), IfName: name})
	}
	d.usage.SetServices(ss)
}

// ifName fills pattern's {field}s from the spec; false when the spec lacks
// one of them.
func ifName(pattern string, spec map[string]any) (string, bool) {
	out, ok := pattern, true
	for {
		i := strings.IndexByte(out, '{')
		j := strings.IndexByte(out, '}')
		if i < 0 || j < i {
			return out, ok
		}
		v, has := spec[out[i+1:j]]
		if !has {
			return "", false
		}
		out = out[:i] + fmt.Sprint(v) + out[j+1:]
	}
}

// serviceUsage is a service's reading for the API; nil without usage.
func (d *Daemon) serviceUsage(name string) *api.ServiceUsage {
	if d.usage == nil {
		return nil
	}
	s, ok := d.usage.Service(name)
	if !ok {
		return nil
	}
	out := &api.ServiceUsage{Device: s.Device, Interface: s.IfName}
	sm, ok := d.usage.Sample(name)
	if !ok {
		out.Error = "not polled yet"
		return out
	}
	out.InOctets, out.OutOctets, out.OperUp, out.Error = sm.InOctets, sm.OutOctets, sm.OperUp, sm.Err
	if !sm.At.IsZero() {
		at := sm.At
		out.SampledAt = &at
	}
	return out
}

// runUsage polls until ctx ends.
func (d *Daemon) runUsage(ctx context.Context) {
	if d.usage != nil {
		d.usage.Run(ctx, usageTick)
	}
}
