package applybench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/apply"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/planner"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
)

// Config is one benchmark run.
type Config struct {
	Devices     int // simulated devices, all in one change set
	Interfaces  int // interfaces each device's change creates
	Concurrency int // apply.Options.Concurrency; 0 is apply's default
	// Dir holds the journal; "" is a new temporary folder, removed after.
	Dir string
	// CPUProfile, when set, is written with the apply's CPU profile.
	CPUProfile string
	// HeapProfile, when set, is written with a heap profile taken at the
	// first event of HeapProfileAt (default "confirmed": every device has
	// passed verification, so every session and tree of the change set is
	// live; a batch event such as "journal:committed" is another moment).
	HeapProfile, HeapProfileAt string
	// Exe is the executable to run as the simulator (MaybeSim in its main);
	// "" is this program's own.
	Exe string
}

// Figures is what one run measured. Memory is in bytes, times in seconds.
type Figures struct {
	Devices     int    `json:"devices"`
	Interfaces  int    `json:"interfaces"`
	Concurrency int    `json:"concurrency"`
	Outcome     string `json:"outcome"`
	Changes     int    `json:"changes"`

	PlanWall float64 `json:"plan_wall_s"`
	// The apply alone, in netrecon's process.
	ApplyWall      float64 `json:"apply_wall_s"`
	ApplyCPU       float64 `json:"apply_cpu_s"`
	ApplyPeakRSS   int64   `json:"apply_peak_rss_bytes"`   // VmHWM, reset before the apply
	ApplyPeakHeap  int64   `json:"apply_peak_heap_bytes"`  // live heap objects, sampled
	ApplyPeakStack int64   `json:"apply_peak_stack_bytes"` // goroutine stacks, sampled
	ApplyAlloc     int64   `json:"apply_alloc_bytes"`      // allocated during the apply
	ApplyGCs       int64   `json:"apply_gcs"`
	Goroutines     int     `json:"apply_peak_goroutines"` // sampled
	JournalSize    int64   `json:"journal_bytes"`         // the file and its WAL after the apply
	// The whole netrecon process (set-up and plan included), and the
	// simulator's process.
	ProcessPeakRSS int64   `json:"process_peak_rss_bytes"`
	SimPeakRSS     int64   `json:"sim_peak_rss_bytes"`
	SimCPU         float64 `json:"sim_cpu_s"`

	GoVersion string `json:"go_version"`
	CPUs      int    `json:"cpus"`
	Load      string `json:"load,omitempty"` // /proc/loadavg at the start: the machine is shared
}

// Run starts the simulator, plans every device live, applies the plan and
// measures the apply.
func Run(ctx context.Context, cfg Config) (*Figures, error) {
	if cfg.Devices < 1 {
		return nil, fmt.Errorf("devices %d: want at least 1", cfg.Devices)
	}
	if cfg.Interfaces < 1 {
		return nil, fmt.Errorf("interfaces %d: want at least 1", cfg.Interfaces)
	}
	if cfg.Concurrency < 0 {
		return nil, fmt.Errorf("concurrency %d: want 0 (the default) or more", cfg.Concurrency)
	}
	exe := cfg.Exe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("%w: %v", errNoSimExe, err)
		}
	}
	dir := cfg.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "applybench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	f := &Figures{Devices: cfg.Devices, Interfaces: cfg.Interfaces, Concurrency: cfg.Concurrency,
		GoVersion: runtime.Version(), CPUs: runtime.NumCPU(), Load: loadAvg()}
	if f.Concurrency == 0 {
		f.Concurrency = apply.DefaultConcurrency
	}

	sim, err := startSim(ctx, exe, cfg.Devices)
	if err != nil {
		return nil, err
	}
	simStopped := false
	defer func() {
		if !simStopped {
			sim.stop()
		}
	}()
	kh := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(kh, []byte(sim.devs.KnownHosts), 0o600); err != nil {
		return nil, err
	}
	inv, dialer := network(sim.devs, kh)
	desired, err := desiredTrees(inv, cfg.Interfaces)
	if err != nil {
		return nil, err
	}
	j, err := journal.Open(ctx, filepath.Join(dir, "journal.db"))
	if err != nil {
		return nil, err
	}
	defer j.Close()

	start := time.Now()
	p, err := planner.Live(ctx, planner.LiveOptions{Intent: inv, Desired: desired, Dialer: dialer, Journal: j})
	if err != nil {
		return nil, err
	}
	f.PlanWall = time.Since(start).Seconds()
	if s := p.Summary(); s.Failed > 0 {
		return nil, fmt.Errorf("plan: %d of %d devices failed", s.Failed, len(p.Devices))
	}

	at := cfg.HeapProfileAt
	if at == "" {
		at = "confirmed"
	}
	rep := &heapAt{phase: at, path: cfg.HeapProfile}
	opts := apply.Options{Dialer: dialer, Journal: j, Concurrency: cfg.Concurrency, Reporter: rep, StartedBy: "applybench"}
	res, err := measure(f, cfg.CPUProfile, func() (*apply.Result, error) {
		return apply.Apply(ctx, p, desired, inv, opts)
	})
	if res == nil {
		return nil, err
	}
	if rep.err != nil {
		return nil, rep.err
	}
	f.Outcome = string(res.Outcome)
	for _, d := range res.Devices {
		f.Changes += d.Changes
	}
	if err != nil {
		return f, fmt.Errorf("apply: %s: %w", res.Outcome, err)
	}
	f.JournalSize = fileSize(filepath.Join(dir, "journal.db")) + fileSize(filepath.Join(dir, "journal.db-wal"))
	f.ProcessPeakRSS = processMaxRSS()
	var simCPU time.Duration
	f.SimPeakRSS, simCPU = sim.stop()
	f.SimCPU = simCPU.Seconds()
	simStopped = true
	return f, nil
}

// measure runs fn, the apply, and fills f's apply figures.
func measure(f *Figures, cpuProfile string, fn func() (*apply.Result, error)) (*apply.Result, error) {
	// What the set-up and the plan left behind is freed first, and the
	// kernel's high-water mark starts again from what is left.
	debug.FreeOSMemory()
	if err := resetPeakRSS(); err != nil {
		return nil, err
	}
	if cpuProfile != "" {
		out, err := os.Create(cpuProfile)
		if err != nil {
			return nil, err
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	samples := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(samples)
	alloc0, gc0 := samples[0].Value.Uint64(), samples[1].Value.Uint64()
	stop := sampleHeap(f)
	cpu0 := processCPU()
	start := time.Now()
	res, err := fn()
	f.ApplyWall = time.Since(start).Seconds()
	f.ApplyCPU = (processCPU() - cpu0).Seconds()
	stop()
	metrics.Read(samples)
	f.ApplyAlloc = int64(samples[0].Value.Uint64() - alloc0)
	f.ApplyGCs = int64(samples[1].Value.Uint64() - gc0)
	peak, perr := peakRSS()
	f.ApplyPeakRSS = peak
	return res, errors.Join(err, perr)
}

// sampleHeap samples the live heap, the goroutines and their stacks every 5 ms until the
// returned function is called, keeping the peaks in f. A sampler misses a
// peak shorter than its period; VmHWM does not, and is the figure to trust.
func sampleHeap(f *Figures) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/sched/goroutines:goroutines"}, {Name: "/memory/classes/heap/stacks:bytes"}}
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			f.ApplyPeakHeap = max(f.ApplyPeakHeap, int64(s[0].Value.Uint64()))
			f.Goroutines = max(f.Goroutines, int(s[1].Value.Uint64()))
			f.ApplyPeakStack = max(f.ApplyPeakStack, int64(s[2].Value.Uint64()))
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// heapAt writes a heap profile at the first event of phase.
type heapAt struct {
	phase, path string
	once        sync.Once
	err         error
}

func (h *heapAt) Event(e apply.Event) {
	if h.path == "" || e.Phase != h.phase {
		return
	}
	h.once.Do(func() {
		runtime.GC() // the profile's in-use figures are as of the last GC
		out, err := os.Create(h.path)
		if err != nil {
			h.err = err
			return
		}
		defer out.Close()
		h.err = pprof.Lookup("heap").WriteTo(out, 0)
	})
}

// network is the simulator's devices as an inventory, and a dialer to them.
func network(devs simDevices, knownHosts string) (*schema.Intent, reconcile.Dialer) {
	inv := &schema.Intent{}
	targets := make(map[string]netconf.Target, len(devs.Devices))
	for _, d := range devs.Devices {
		inv.Devices = append(inv.Devices, &schema.Device{Name: d.Name, Platform: platform, Address: d.Address, Port: d.Port})
		targets[d.Name] = netconf.Target{Device: d.Name, Address: d.Address, Port: d.Port, Username: simUser,
			Auth: netconf.PasswordAuth(simPassword), KnownHosts: knownHosts}
	}
	keys := render.Keys(platform, nil)
	hosts := netconf.NewKnownHosts() // as netrecon's own dialer does
	dialer := reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
		tg, ok := targets[dev.Name]
		if !ok {
			return nil, fmt.Errorf("%s: not a simulated device", dev.Name)
		}
		return netconf.Dial(ctx, tg, netconf.WithKeys(keys), netconf.WithRPCTimeout(30*time.Second), netconf.WithKnownHosts(hosts))
	})
	return inv, dialer
}

// desiredTrees gives every device n interfaces owned by one service.
func desiredTrees(inv *schema.Intent, n int) (map[string]*configtree.Tree, error) {
	keys := render.Keys(platform, nil)
	out := make(map[string]*configtree.Tree, len(inv.Devices))
	for _, d := range inv.Devices {
		var b strings.Builder
		b.WriteString(`<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces" xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type">`)
		for i := range n {
			fmt.Fprintf(&b, `<interface><name>ge-0/0/%d</name><type>ianaift:ethernetCsmacd</type><description>applybench %s %d</description></interface>`, i, d.Name, i)
		}
		b.WriteString(`</interfaces>`)
		t, err := configtree.Parse(strings.NewReader(b.String()), d.Name, keys)
		if err != nil {
			return nil, fmt.Errorf("the desired tree of %s: %w", d.Name, err)
		}
		t.SetOwner("applybench")
		out[d.Name] = t
	}
	return out, nil
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	fields := strings.Fields(string(b))
	if len(fields) < 3 {
		return ""
	}
	return strings.Join(fields[:3], " ")
}
