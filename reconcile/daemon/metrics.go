package daemon

import (
	"net/http"
	"time"

	"github.com/netrecon/netrecon/api"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the daemon's Prometheus metrics, in a registry of its own (never
// the global one), so two daemons in one test process do not collide.
type metrics struct {
	reg            *prometheus.Registry
	passDuration   prometheus.Histogram
	devices        *prometheus.GaugeVec
	driftNodes     prometheus.Gauge
	alarms         prometheus.Gauge
	deferred       prometheus.Gauge
	deferrals      *prometheus.CounterVec
	actions        *prometheus.CounterVec
	applies        prometheus.Counter
	applyFailures  prometheus.Counter
	passes         *prometheus.CounterVec
	panics         prometheus.Counter
	lastSync       prometheus.Gauge
	webhooks       *prometheus.CounterVec
	notifications  *prometheus.CounterVec
	lastSyncTime   func() time.Time
	commitRefusals prometheus.Counter
}

// The values of netrecon_devices{state} (api.States, the API's words) and
// netrecon_reconcile_passes_total{result}, all exported so that a dashboard
// sees zeros rather than gaps.
var passOutcomes = []PassOutcome{PassOK, PassDrift, PassDeferred, PassFailed, PassError}

func newMetrics(now func() time.Time, lastSync func() time.Time) *metrics {
	m := &metrics{reg: prometheus.NewRegistry(), lastSyncTime: lastSync}
	m.passDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "netrecon_reconcile_duration_seconds",
		Help:    "Duration of one reconcile pass: fetch, load, render, plan and apply.",
		Buckets: prometheus.ExponentialBuckets(0.05, 2, 14), // 50 ms .. ~7 min
	})
	m.devices = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "netrecon_devices",
		Help: "Devices by reconcile state after the last pass.",
	}, []string{"state"})
	m.driftNodes = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "netrecon_drift_nodes",
		Help: "Managed nodes that differ from the intent on the devices (hand edits) after the last pass.",
	})
	m.alarms = prometheus.NewGauge(prometheus.GaugeOpts{Name: "netrecon_alarms", Help: "Alarms raised and not cleared."})
	m.deferred = prometheus.NewGauge(prometheus.GaugeOpts{Name: "netrecon_deferred_devices", Help: "Devices a guard deferred in the last pass."})
	m.deferrals = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "netrecon_deferrals_total", Help: "Device changes a guard deferred, by guard."}, []string{"guard"})
	m.actions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "netrecon_operator_actions_total", Help: "Operator actions carried out, by action."}, []string{"action"})
	m.applies = prometheus.NewCounter(prometheus.CounterOpts{Name: "netrecon_applies_total", Help: "Devices changed successfully."})
	m.applyFailures = prometheus.NewCounter(prometheus.CounterOpts{Name: "netrecon_apply_failures_total", Help: "Device plans or applies that failed."})
	m.passes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "netrecon_reconcile_passes_total", Help: "Reconcile passes by outcome: ok, drift (reported), deferred, failed (a device), error (the pass)."}, []string{"result"})
	m.panics = prometheus.NewCounter(prometheus.CounterOpts{Name: "netrecon_reconcile_panics_total", Help: "Panics recovered in a reconcile pass."})
	m.commitRefusals = prometheus.NewCounter(prometheus.CounterOpts{Name: "netrecon_commit_refusals_total", Help: "Heads refused: unsigned, rewritten history or invalid intent."})
	m.lastSync = prometheus.NewGauge(prometheus.GaugeOpts{Name: "netrecon_last_sync_timestamp_seconds", Help: "Unix time of the last pass that completed."})
	m.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "netrecon_webhook_deliveries_total", Help: "Webhook deliveries by result."}, []string{"result"})
	m.notifications = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "netrecon_notifications_total", Help: "Alarm notifications by result."}, []string{"result"})
	since := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "netrecon_seconds_since_last_sync",
		Help: "Seconds since the last pass that completed; -1 before the first.",
	}, func() float64 {
		t := m.lastSyncTime()
		if t.IsZero() {
			return -1
		}
		return now().Sub(t).Seconds()
	})
	m.reg.MustRegister(m.passDuration, m.devices, m.driftNodes, m.alarms, m.deferred, m.deferrals, m.actions, m.applies, m.applyFailures,
		m.passes, m.panics, m.commitRefusals, m.lastSync, m.webhooks, m.notifications, since,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	for _, s := range api.States {
		m.devices.WithLabelValues(s)
	}
	for _, o := range passOutcomes {
		m.passes.WithLabelValues(string(o))
	}
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
