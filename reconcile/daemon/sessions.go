package daemon

import (
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/backoff"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/session"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
)

// newSessions is the daemon's session pool: one session per device, kept
// warm between passes (Config.Sessions).
func (d *Daemon) newSessions() (*session.Pool, error) {
	c := d.cfg.Sessions
	return session.New(session.Options{
		Keepalive:   c.Keepalive.D(),
		IdleTimeout: c.IdleTimeout.D(),
		Reconnect:   backoff.Policy{Base: c.Reconnect.Base.D(), Max: c.Reconnect.Max.D()},
		Concurrency: d.cfg.Concurrency,
		Logger:      d.log,
		Now:         d.now,
	})
}

// sessionDialer leases the devices of in from the pool, dialing with the
// dialer the daemon was given when a device has no open session.
func (d *Daemon) sessionDialer(in *schema.Intent) reconcile.Dialer {
	return d.sessions.Dialer(d.dialerFor(in), sessionIdentity(in))
}

// sessionIdentity is what a pooled session depends on: the device's
// inventory entry, and the list keys its replies are parsed with, which the
// repo's service types may change (render.Keys). A device whose identity
// changed between commits gets a new session.
func sessionIdentity(in *schema.Intent) func(*schema.Device) string {
	keys := map[string]string{}
	for _, dev := range in.Devices {
		if _, ok := keys[dev.Platform]; !ok {
			keys[dev.Platform] = keysFingerprint(render.Keys(dev.Platform, in.Types))
		}
	}
	return func(dev *schema.Device) string {
		k, ok := keys[dev.Platform]
		if !ok {
			k = keysFingerprint(render.Keys(dev.Platform, in.Types))
		}
		return session.DeviceIdentity(dev) + "|" + k
	}
}

func keysFingerprint(k map[string][]string) string {
	paths := make([]string, 0, len(k))
	for p := range k {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	var b strings.Builder
	for _, p := range paths {
		fmt.Fprintf(&b, "%s=%s;", p, strings.Join(k[p], ","))
	}
	return b.String()
}

func (d *Daemon) sessionStatus() []api.Session {
	now := d.now()
	hs := d.sessions.Health()
	out := make([]api.Session, len(hs))
	for i, h := range hs {
		out[i] = api.Session{Device: h.Device, State: string(h.State), SessionID: h.SessionID, OpenedAt: h.Opened,
			AgeSeconds: h.Age(now).Seconds(), LastUsedAt: h.LastUsed, Failures: h.Failures, Reconnects: h.Reconnects,
			LastError: h.LastError, NextAttemptAt: h.NextAttempt}
	}
	return out
}

// sessionCollector exports the pool's counters as netrecon_session_*
// metrics, read from one Stats call per scrape.
type sessionCollector struct {
	stats func() session.Stats
	descs []*prometheus.Desc
}

var sessionMetrics = []struct {
	name, help string
	counter    bool
	value      func(session.Stats) float64
}{
	{"netrecon_session_open", "Device sessions open (idle, leased or in keepalive).", false, func(s session.Stats) float64 { return float64(s.Open) }},
	{"netrecon_session_leased", "Device sessions in use by a pass.", false, func(s session.Stats) float64 { return float64(s.Leased) }},
	{"netrecon_session_down", "Devices whose session is lost or could not be opened, waiting for a reconnect.", false, func(s session.Stats) float64 { return float64(s.Down) }},
	{"netrecon_session_leases_total", "Sessions handed to plan, apply and recovery.", true, func(s session.Stats) float64 { return float64(s.Leases) }},
	{"netrecon_session_dials_total", "Device sessions opened (SSH and NETCONF hello).", true, func(s session.Stats) float64 { return float64(s.Dials) }},
	{"netrecon_session_reconnects_total", "Sessions opened for a device that had one before.", true, func(s session.Stats) float64 { return float64(s.Reconnects) }},
	{"netrecon_session_dial_failures_total", "Session dials that failed.", true, func(s session.Stats) float64 { return float64(s.DialFailures) }},
	{"netrecon_session_lost_total", "Sessions discarded after a failure: no answer in time, transport gone, keepalive failed.", true, func(s session.Stats) float64 { return float64(s.Lost) }},
	{"netrecon_session_keepalives_total", "Keepalive RPCs sent on idle sessions.", true, func(s session.Stats) float64 { return float64(s.Keepalives) }},
	{"netrecon_session_keepalive_failures_total", "Keepalive RPCs that found the session dead.", true, func(s session.Stats) float64 { return float64(s.KeepaliveFailures) }},
	{"netrecon_session_idle_closed_total", "Sessions closed after sessions.idle_timeout without use.", true, func(s session.Stats) float64 { return float64(s.IdleClosed) }},
}

func newSessionCollector(stats func() session.Stats) *sessionCollector {
	c := &sessionCollector{stats: stats}
	for _, m := range sessionMetrics {
		c.descs = append(c.descs, prometheus.NewDesc(m.name, m.help, nil, nil))
	}
	return c
}

// Describe implements prometheus.Collector.
func (c *sessionCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *sessionCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	for i, m := range sessionMetrics {
		kind := prometheus.GaugeValue
		if m.counter {
			kind = prometheus.CounterValue
		}
		ch <- prometheus.MustNewConstMetric(c.descs[i], kind, m.value(st))
	}
}
