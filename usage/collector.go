package usage

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Service is a service whose interface is measured.
type Service struct {
	Name     string
	Customer string
	Device   string
	Target   string // the device's SNMP agent, host:port
	IfName   string // the interface's ifName on the device
}

// Sample is a service's usage at its device's last poll.
type Sample struct {
	At        time.Time
	InOctets  uint64
	OutOctets uint64
	OperUp    bool
	OperState int64
	// Err says why there is no sample: the device did not answer, or has
	// no interface of that name.
	Err string
}

// Collector measures the services it is given, and is a
// prometheus.Collector of their counters.
type Collector struct {
	set *Set
	log *slog.Logger

	mu       sync.Mutex
	services []Service
	samples  map[string]Sample // by service name
}

// NewCollector measures through set; log may be nil.
func NewCollector(set *Set, log *slog.Logger) *Collector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Collector{set: set, log: log, samples: map[string]Sample{}}
}

// SetServices replaces the services measured: the intent's, after a pass.
// A service no longer given loses its sample and its series.
func (c *Collector) SetServices(ss []Service) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.services = slices.Clone(ss)
	keep := make(map[string]bool, len(ss))
	for _, s := range ss {
		keep[s.Name] = true
	}
	for name := range c.samples {
		if !keep[name] {
			delete(c.samples, name)
		}
	}
}

// Service returns the measured service called name.
func (c *Collector) Service(name string) (Service, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.services {
		if s.Name == name {
			return s, true
		}
	}
	return Service{}, false
}

// Sample returns the service's last sample.
func (c *Collector) Sample(service string) (Sample, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.samples[service]
	return s, ok
}

// PollOnce polls every device that carries a measured service (each at
// most once per its interval: a device not due answers from its last
// poll) and updates the samples.
func (c *Collector) PollOnce(ctx context.Context) {
	c.mu.Lock()
	services := slices.Clone(c.services)
	c.mu.Unlock()
	byDev := map[string][]Service{}
	for _, s := range services {
		byDev[s.Device] = append(byDev[s.Device], s)
	}
	out := make(map[string]Sample, len(services))
	for dev, ss := range byDev {
		snap, err := c.set.Poller(dev, ss[0].Target).Poll(ctx)
		for _, s := range ss {
			switch i, ok := snap.Interfaces[s.IfName]; {
			case err != nil && snap.At.IsZero():
				out[s.Name] = Sample{Err: err.Error()}
			case !ok:
				out[s.Name] = Sample{At: snap.At, Err: "no interface " + s.IfName + " on " + dev}
			default:
				out[s.Name] = Sample{At: snap.At, InOctets: i.InOctets, OutOctets: i.OutOctets, OperUp: i.OperUp, OperState: i.OperState}
			}
		}
		if err != nil {
			c.log.Warn("usage: poll failed", "device", dev, "err", err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	current := make(map[string]bool, len(c.services))
	for _, s := range c.services {
		current[s.Name] = true
	}
	for name, s := range out {
		if current[name] { // SetServices may have removed it during the poll
			c.samples[name] = s
		}
	}
}

// Run polls until ctx ends, every tick; each device is still read at most
// once per its own interval.
func (c *Collector) Run(ctx context.Context, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		c.PollOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

var (
	labels   = []string{"service", "customer", "device", "interface"}
	descIn   = prometheus.NewDesc("netrecon_service_in_octets_total", "Octets received on the service's interface (ifHCInOctets), at the device's last poll.", labels, nil)
	descOut  = prometheus.NewDesc("netrecon_service_out_octets_total", "Octets sent on the service's interface (ifHCOutOctets), at the device's last poll.", labels, nil)
	descUp   = prometheus.NewDesc("netrecon_service_oper_up", "1 when the service's interface is up (ifOperStatus up), else 0.", labels, nil)
	descTime = prometheus.NewDesc("netrecon_service_usage_sampled_timestamp_seconds", "When the service's counters were read.", labels, nil)
)

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descIn, descOut, descUp, descTime} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: the services measured now, and
// only those that have a sample.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.services {
		sm, ok := c.samples[s.Name]
		if !ok || sm.Err != "" {
			continue
		}
		lv := []string{s.Name, s.Customer, s.Device, s.IfName}
		up := 0.0
		if sm.OperUp {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(descIn, prometheus.CounterValue, float64(sm.InOctets), lv...)
		ch <- prometheus.MustNewConstMetric(descOut, prometheus.CounterValue, float64(sm.OutOctets), lv...)
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up, lv...)
		ch <- prometheus.MustNewConstMetric(descTime, prometheus.GaugeValue, float64(sm.At.UnixNano())/1e9, lv...)
	}
}
