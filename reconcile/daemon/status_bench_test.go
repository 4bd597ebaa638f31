package daemon

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/reconcile/journal"
)

// bigState gives d the state of a network of devices devices and services
// services (ten per device), as a daemon holds it after a pass: most in
// sync, one in a hundred drifting on a node of one of its services, one in
// a hundred deferred with its changes pending, a few failing, alarms, a
// pass in progress. Building it by hand keeps the benchmark on what it
// measures, the answer, not on reconciling a thousand simulated devices
// (BenchmarkNoopPass does that).
func bigState(d *Daemon, devices, services int) {
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.head, d.commit, d.lastApplied, d.ready, d.lastSync = "c2", "c2", "c1", true, now
	d.devices, d.byDevice, d.platforms = map[string]journal.DeviceState{}, map[string][]string{}, map[string]string{}
	d.services = nil
	for i := range devices {
		name := fmt.Sprintf("pe%d-tyo", i)
		st := journal.DeviceState{Device: name, State: string(StateInSync), Commit: "c2", Changed: now}
		switch {
		case i%100 == 1:
			st.State, st.DriftNodes = string(StateDrift), 1
			st.Nodes = []journal.Node{{Kind: journal.NodeDrift, Action: "update", Path: "/interfaces/interface[name=ge-0/0/1.100]/description",
				Owners: []string{fmt.Sprintf("svc-%d-0", i)}, Live: "by hand", Desired: "intent", Leaf: true}}
		case i%100 == 2:
			st.State, st.DeferGuard, st.DeferReason, st.DeferUntil = string(StateDeferred), "freeze-window", "change freeze", now.Add(time.Hour)
			st.Nodes = []journal.Node{{Kind: journal.NodePending, Action: "create", Path: "/interfaces/interface[name=ge-0/0/9]", Owners: []string{fmt.Sprintf("svc-%d-1", i)}}}
		case i%250 == 3:
			st.State, st.Failures, st.LastError, st.NextRetry = string(StateFailing), 3, name+": lock candidate: held by session 7", now.Add(time.Minute)
		}
		d.devices[name] = st
		d.platforms[name] = "ietf"
	}
	for s := range services {
		dev := fmt.Sprintf("pe%d-tyo", s/(services/devices))
		name := fmt.Sprintf("svc-%d-%d", s/(services/devices), s%(services/devices))
		d.services = append(d.services, serviceInfo{name: name, kind: "attachment-circuit", devices: []string{dev}})
		d.byDevice[dev] = append(d.byDevice[dev], name)
	}
	slices.SortFunc(d.services, func(a, b serviceInfo) int { return strings.Compare(a.name, b.name) })
	d.progress = &passProgress{p: api.PassProgress{ID: "p-bench", Trigger: "tick", Started: now, Step: "apply", Commit: "c2"},
		devices: map[string]*api.DeviceProgress{"pe2-tyo": {Device: "pe2-tyo", Phase: "lock-wait", Since: now,
			Waiting: &api.Wait{Reason: "lock held: candidate locked by session 7", RetryAt: now.Add(time.Second)}}}}
	d.alarms.mu.Lock()
	for i := 0; i < devices; i += 250 {
		a := Alarm{ID: int64(i + 1), Kind: AlarmDeviceFailing, Device: fmt.Sprintf("pe%d-tyo", i+3), Message: "lock held", Failures: 3, Since: now}
		d.alarms.alarms[a.key()] = a
	}
	d.alarms.mu.Unlock()
	d.changed()
}

// BenchmarkStatusAPI is GET /api/v1/status over HTTP with 1,000 devices and
// 10,000 services under 20 concurrent readers (b.SetParallelism over the
// machine's cores), the target being a 99th percentile under 50 ms. The
// "changing" case makes the status stale ten times a second, as a pass in
// progress does, so that readers also pay for the snapshot being made anew.
//
//	go test ./reconcile/daemon -run '^$' -bench StatusAPI -benchtime 2000x
func BenchmarkStatusAPI(b *testing.B) {
	for _, tc := range []struct{ changing, gzip bool }{{false, false}, {false, true}, {true, false}, {true, true}} {
		changing := tc.changing
		b.Run(fmt.Sprintf("changing=%v/gzip=%v", tc.changing, tc.gzip), func(b *testing.B) {
			l := newLab(b, exampleFiles(b))
			l.cfg.API.OpenReads = true
			d := l.start(Options{})
			bigState(d, 1000, 10000)
			srv := httptest.NewServer(d.Handler())
			defer srv.Close()
			stop := func() {}
			if changing {
				stop = churn(d)
			}
			readers(b, func() *http.Request {
				req, _ := http.NewRequest("GET", srv.URL+"/api/v1/status", nil)
				if tc.gzip {
					// As a browser or curl --compressed asks; the body is
					// read as sent (a client decodes it on its own machine).
					req.Header.Set("Accept-Encoding", "gzip")
				}
				return req
			})
			stop()
		})
	}
}

// churn makes d's status stale ten times a second, as a pass in progress
// does, until stop is called.
func churn(d *Daemon) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				d.changed()
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// readers sends b.N requests of req from 20 concurrent readers
// (b.SetParallelism over the machine's cores) and reports the latencies'
// 50th and 99th percentiles, the body's size and the number of readers.
func readers(b *testing.B, req func() *http.Request) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
	var mu sync.Mutex
	var lat []time.Duration
	size := 0
	procs := max(1, 20/runtimeProcs())
	b.SetParallelism(procs)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			t0 := time.Now()
			resp, err := client.Do(req())
			if err != nil {
				b.Error(err)
				return
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mine = append(mine, time.Since(t0))
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
			size = int(n)
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	slices.Sort(lat)
	if len(lat) == 0 {
		return
	}
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(size)/1024, "body-KiB")
	b.ReportMetric(float64(procs*runtimeProcs()), "readers")
}

// BenchmarkStatusPage is the status page's overview and a drifting device's
// page (views/page, as cmd/netrecon serves it) over HTTP at 1,000 devices
// and 10,000 services under 20 concurrent readers, the target being a 99th
// percentile under 50 ms, with the status made stale ten times a second as
// a pass in progress does (the overview reads the API's snapshot).
//
//	go test ./reconcile/daemon -run '^$' -bench StatusPage -benchtime 2000x
func BenchmarkStatusPage(b *testing.B) {
	for _, path := range []string{"/", "/devices/pe1-tyo"} {
		b.Run("page="+path, func(b *testing.B) {
			l := newLab(b, exampleFiles(b))
			l.cfg.API.OpenReads = true
			d := l.start(Options{Pages: pagesOf(b)})
			bigState(d, 1000, 10000)
			srv := httptest.NewServer(d.Handler())
			defer srv.Close()
			stop := churn(d)
			readers(b, func() *http.Request {
				req, _ := http.NewRequest("GET", srv.URL+path, nil)
				return req
			})
			stop()
		})
	}
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

// BenchmarkStatusSnapshot is the cost of making the status anew (build,
// encode, gzip) at 1,000 devices and 10,000 services: what the first reader
// after a change pays.
func BenchmarkStatusSnapshot(b *testing.B) {
	l := newLab(b, exampleFiles(b))
	d := l.start(Options{})
	bigState(d, 1000, 10000)
	for b.Loop() {
		d.changed()
		d.statusJSON()
	}
}

// BenchmarkStatusDoc is what the status page's first reader after a change
// pays on top of BenchmarkStatusSnapshot: the snapshot decoded for the page.
func BenchmarkStatusDoc(b *testing.B) {
	l := newLab(b, exampleFiles(b))
	d := l.start(Options{})
	bigState(d, 1000, 10000)
	for b.Loop() {
		d.changed()
		d.StatusDoc()
	}
}
