package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/netrecon/netrecon/bench/intentgen"
	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netsim"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
)

// childSimEnv, set in the environment of this test binary, makes it serve
// simulated devices instead of running tests (TestMain): the benchmarks that
// want netrecon's own CPU and memory, not the simulator's, run the simulator
// in a process of its own (bench/applybench does the same for apply).
const childSimEnv = "NETRECON_DAEMON_CHILD_SIM"

// childSimConfig is what the child simulates: the devices of the generated
// intent repo (bench/intentgen), each seeded with its desired configuration
// when Seed is set.
type childSimConfig struct {
	Devices  int  `json:"devices"`
	Services int  `json:"services"`
	Seed     bool `json:"seed"`
}

// childHello is the child's first line of output.
type childHello struct {
	Devices    []simAddr `json:"devices"`
	KnownHosts string    `json:"known_hosts"`
}

// childCounts is the child's answer to "counts" and "reset": what its
// devices saw since the last reset, and its own CPU time so far.
type childCounts struct {
	EditConfig int            `json:"edit_config"`
	Opened     map[string]int `json:"opened"`
	CPU        time.Duration  `json:"cpu_ns"`
	MaxRSS     int64          `json:"maxrss_kib"`
}

func TestMain(m *testing.M) {
	if v, ok := os.LookupEnv(childSimEnv); ok {
		if err := serveChildSim(v, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "child simulator:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serveChildSim starts the devices that cfg (childSimConfig as JSON) names,
// writes childHello on out, and answers one command a line on in ("counts",
// "reset") until in reaches EOF.
func serveChildSim(cfg string, in io.Reader, out io.Writer) error {
	var c childSimConfig
	if err := json.Unmarshal([]byte(cfg), &c); err != nil {
		return fmt.Errorf("%s: %w", childSimEnv, err)
	}
	files := intentgen.Files(intentgen.Config{Services: c.Services, Devices: c.Devices, Seed: 1})
	intent, diags := schema.Load(fstestMap(files), schema.Options{})
	if diags.HasErrors() {
		return diags.Err()
	}
	specs := make([]netsim.DeviceSpec, len(intent.Devices))
	names := make([]string, len(intent.Devices))
	for i, d := range intent.Devices {
		specs[i] = netsim.DeviceSpec{Name: d.Name, Platform: d.Platform}
		names[i] = d.Name
	}
	ctx := context.Background()
	sim, err := netsim.Start(ctx, netsim.Options{
		Devices: specs, Username: "netrecon", Password: testPassword,
		Keys: func(p string) configtree.Keys { return render.Keys(p, intent.Types) },
	})
	if err != nil {
		return err
	}
	defer sim.Close()
	if c.Seed {
		r, diags := render.New(intent)
		if diags.HasErrors() {
			return diags.Err()
		}
		desired, diags := r.Devices(ctx, names)
		if diags.HasErrors() {
			return diags.Err()
		}
		for _, d := range sim.Devices() {
			if t := desired[d.Name]; t != nil {
				d.SetRunning(t)
			}
		}
	}
	hello := childHello{KnownHosts: string(sim.KnownHosts())}
	for _, d := range sim.Devices() {
		hello.Devices = append(hello.Devices, simAddr{Name: d.Name, Platform: d.Platform, Address: d.Address, Port: d.Port})
	}
	enc := json.NewEncoder(out)
	if err := enc.Encode(hello); err != nil {
		return err
	}
	lines := bufio.NewScanner(in)
	for lines.Scan() {
		cmd := lines.Text()
		n := childCounts{Opened: map[string]int{}, CPU: cpuTime()}
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
			n.MaxRSS = ru.Maxrss
		}
		for _, d := range sim.Devices() {
			n.EditConfig += d.RPCCount("edit-config")
			n.Opened[d.Name] = d.SessionsOpened()
			if cmd == "reset" {
				d.ResetCounters()
			}
		}
		if err := enc.Encode(n); err != nil {
			return err
		}
	}
	return lines.Err()
}

// childSim is a running child simulator.
type childSim struct {
	t     testing.TB
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *json.Decoder
	hello childHello
}

// startChildSim runs this test binary again as the simulator of c.
func startChildSim(t testing.TB, c childSimConfig) *childSim {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(c)
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childSimEnv+"="+string(cfg))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &childSim{t: t, cmd: cmd, stdin: stdin, out: json.NewDecoder(stdout)}
	t.Cleanup(s.stop)
	if err := s.out.Decode(&s.hello); err != nil {
		t.Fatalf("child simulator: %v", err)
	}
	return s
}

func (s *childSim) ask(cmd string) childCounts {
	s.t.Helper()
	var n childCounts
	if _, err := io.WriteString(s.stdin, cmd+"\n"); err != nil {
		s.t.Fatalf("child simulator: %v", err)
	}
	if err := s.out.Decode(&n); err != nil {
		s.t.Fatalf("child simulator: %v", err)
	}
	return n
}

func (s *childSim) counts() childCounts      { return s.ask("counts") }
func (s *childSim) resetCounts() childCounts { return s.ask("reset") }

// stop ends the child: EOF on its stdin.
func (s *childSim) stop() {
	_ = s.stdin.Close()
	if err := s.cmd.Wait(); err != nil {
		s.t.Errorf("child simulator: %v", err)
	}
}

// newChildLab is newLab with the simulator in a child process: the intent
// repo is the generated one of c, its devices those the child serves.
func newChildLab(t testing.TB, c childSimConfig) *lab {
	t.Helper()
	child := startChildSim(t, c)
	root := t.TempDir()
	l := newRepoLab(t, root, intentgen.Files(intentgen.Config{Services: c.Services, Devices: c.Devices, Seed: 1}))
	l.child = child
	l.setUp(root, child.hello.Devices, []byte(child.hello.KnownHosts))
	return l
}
