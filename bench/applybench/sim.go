package applybench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netsim"
	"github.com/netrecon/netrecon/render"
)

// SimEnv, set to a device count in the environment, makes MaybeSim run the
// simulator instead of the benchmark.
const SimEnv = "NETRECON_APPLYBENCH_SIM"

// simUser and simPassword are the simulated devices' one account: loopback
// only, for the life of the benchmark.
const (
	simUser     = "netrecon"
	simPassword = "applybench"
)

// simDevices is what the simulator tells its parent, on one line.
type simDevices struct {
	Devices    []simDevice `json:"devices"`
	KnownHosts string      `json:"known_hosts"`
}

type simDevice struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Port    int    `json:"port"`
}

// MaybeSim runs the simulator and returns true when the environment asks for
// it (SimEnv): it starts the devices, writes them as one JSON line on out and
// serves them until in reaches EOF (the parent closes the pipe, or dies).
// The caller's main exits afterwards; when SimEnv is unset MaybeSim returns
// false at once.
func MaybeSim(ctx context.Context, in io.Reader, out io.Writer) (bool, error) {
	v, ok := os.LookupEnv(SimEnv)
	if !ok {
		return false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return true, fmt.Errorf("%s=%q: want a positive device count", SimEnv, v)
	}
	specs := make([]netsim.DeviceSpec, n)
	for i := range specs {
		specs[i] = netsim.DeviceSpec{Name: deviceName(i), Platform: platform}
	}
	keys := render.Keys(platform, nil)
	sim, err := netsim.Start(ctx, netsim.Options{
		Devices: specs, Username: simUser, Password: simPassword,
		Keys: func(string) configtree.Keys { return keys },
	})
	if err != nil {
		return true, err
	}
	defer sim.Close()
	msg := simDevices{KnownHosts: string(sim.KnownHosts())}
	for _, d := range sim.Devices() {
		msg.Devices = append(msg.Devices, simDevice{Name: d.Name, Address: d.Address, Port: d.Port})
	}
	if err := json.NewEncoder(out).Encode(msg); err != nil {
		return true, err
	}
	_, err = io.Copy(io.Discard, in)
	return true, err
}

// platform is the simulated devices' platform: the one the lab's yuma123
// speaks, so the benchmark exercises the same XML as the lab.
const platform = "ietf"

func deviceName(i int) string { return fmt.Sprintf("pe%04d", i+1) }

// simProcess is a running simulator child.
type simProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	devs  simDevices
}

// startSim runs exe (this program) as the simulator of n devices and waits
// for its list of devices.
func startSim(ctx context.Context, exe string, n int) (*simProcess, error) {
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), SimEnv+"="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	p := &simProcess{cmd: cmd, stdin: stdin}
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &p.devs)
	}
	if err == nil && len(p.devs.Devices) != n {
		err = fmt.Errorf("started %d devices, not %d", len(p.devs.Devices), n)
	}
	if err != nil {
		_, _ = p.stop()
		return nil, fmt.Errorf("simulator: %w", err)
	}
	return p, nil
}

// stop ends the simulator (EOF on its stdin) and returns its peak resident
// memory and CPU time.
func (p *simProcess) stop() (maxRSS int64, cpu time.Duration) {
	_ = p.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		// A simulator that does not stop on EOF is stuck: the figures of a
		// killed one are still its own.
		_ = p.cmd.Process.Kill()
		<-done
	}
	return childUsage(p.cmd.ProcessState)
}

var errNoSimExe = errors.New("cannot find this program's executable to run the simulator")
