package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// simRun is a `netrecon sim` running in the test.
type simRun struct {
	out  *simOutput
	done chan struct{} // closed when the command ends; err is its result then
	err  error
	stop func() error // interrupts the command, as SIGINT would, and returns its error
}

func runSimCmd(t *testing.T, args ...string) *simRun {
	t.Helper()
	out := &simOutput{}
	a := &app{stdout: out, stderr: io.Discard, stdin: strings.NewReader("")}
	cmd := newSimCmd(a)
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	run := &simRun{out: out, done: make(chan struct{})}
	go func() {
		run.err = cmd.ExecuteContext(ctx)
		close(run.done)
	}()
	run.stop = func() error {
		cancel()
		select {
		case <-run.done:
			return run.err
		case <-time.After(10 * time.Second):
			t.Error("sim did not stop within 10s of its context ending")
			return nil
		}
	}
	t.Cleanup(func() { _ = run.stop() })
	return run
}

// waitFile polls for path until it exists, the command ends or the
// deadline passes.
func waitFile(t *testing.T, run *simRun, path string) []byte {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			return b
		}
		select {
		case <-run.done:
			t.Fatalf("sim ended before writing %s: %v", filepath.Base(path), run.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear: %v", path, err)
		}
		<-time.After(10 * time.Millisecond) // poll interval
	}
}

// netconfHello connects with the written credentials and known_hosts and
// returns the device's hello.
func netconfHello(t *testing.T, run *simRun, state, addr, user string) string {
	t.Helper()
	cred := string(waitFile(t, run, filepath.Join(state, "credentials.env")))
	_, pw, ok := strings.Cut(strings.TrimSpace(cred), "=")
	if !ok || pw == "" {
		t.Fatalf("credentials.env = %q", cred)
	}
	cb, err := knownhosts.New(filepath.Join(state, "known_hosts"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{ssh.Password(pw)}, HostKeyCallback: cb, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("ssh %s: %v", addr, err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	r, _ := s.StdoutPipe()
	if err := s.RequestSubsystem("netconf"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(r)
	var hello []byte
	for !bytes.HasSuffix(hello, []byte("]]>]]>")) {
		b, err := br.ReadByte()
		if err != nil {
			t.Fatalf("reading hello: %v", err)
		}
		hello = append(hello, b)
	}
	return string(hello)
}

func TestSimGeneratedDevices(t *testing.T) {
	state := t.TempDir()
	run := runSimCmd(t, "--devices", "3", "--state", state)
	hosts := string(waitFile(t, run, filepath.Join(state, "known_hosts")))
	if n := strings.Count(hosts, "\n"); n != 3 {
		t.Fatalf("known_hosts has %d lines, want 3:\n%s", n, hosts)
	}
	inv := string(waitFile(t, run, filepath.Join(state, "inventory.yaml")))
	if !strings.Contains(inv, "name: sim2\n    platform: junos") {
		t.Fatalf("inventory.yaml:\n%s", inv)
	}
	// The first line is "[127.0.0.1]:PORT ssh-ed25519 ...".
	hostport := strings.Fields(hosts)[0]
	port := hostport[strings.LastIndex(hostport, ":")+1:]
	hello := netconfHello(t, run, state, net.JoinHostPort("127.0.0.1", port), "netrecon")
	if !strings.Contains(hello, "urn:ietf:params:netconf:capability:candidate:1.0") {
		t.Fatalf("hello = %s", hello)
	}
	if err := run.stop(); err != nil {
		t.Fatalf("sim: %v", err)
	}
	if _, err := os.Stat(filepath.Join(state, "credentials.env")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("credentials.env left behind after stop: %v", err)
	}
	if out := run.out.String(); !strings.Contains(out, "sim1") || !strings.Contains(out, "known_hosts:") {
		t.Errorf("output:\n%s", out)
	}
}

func TestSimInventory(t *testing.T) {
	// A free port, then an inventory that names it.
	port := freePorts(t, 1)
	repo := t.TempDir()
	for _, dir := range []string{"inventory", "services", "service-types"} {
		if err := os.MkdirAll(filepath.Join(repo, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	inv := fmt.Sprintf(`apiVersion: netrecon.io/v1
kind: Inventory
devices:
  - name: pe9-lab
    platform: ietf
    address: 127.0.0.1
    port: %d
    credentials:
      username: labuser
      passwordEnv: LAB_PASSWORD
`, port)
	if err := os.WriteFile(filepath.Join(repo, "inventory", "lab.yaml"), []byte(inv), 0o644); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	run := runSimCmd(t, "--inventory", repo, "--state", state)
	waitFile(t, run, filepath.Join(state, "known_hosts"))
	cred := string(waitFile(t, run, filepath.Join(state, "credentials.env")))
	if !strings.HasPrefix(cred, "LAB_PASSWORD=") {
		t.Fatalf("credentials.env = %q, want the inventory's passwordEnv", cred)
	}
	netconfHello(t, run, state, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), "labuser")
	if err := run.stop(); err != nil {
		t.Fatalf("sim: %v", err)
	}
}

func TestSimUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"--devices", "2", "--inventory", "x"}, {"--devices", "-1"},
		{"--devices", "2", "--base-port", "70000"}, {"--devices", "3", "--base-port", "65534"}} {
		a := &app{stdout: io.Discard, stderr: io.Discard, stdin: strings.NewReader("")}
		cmd := newSimCmd(a)
		cmd.SetArgs(args)
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		err := cmd.Execute()
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 {
			t.Errorf("sim %v: got %v, want exit status 2", args, err)
		}
	}
}

// simOutput is a bytes.Buffer safe to write from the command's goroutine
// while the test reads it.
type simOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *simOutput) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *simOutput) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freePorts returns the first of n consecutive loopback ports that are free
// now.
func freePorts(t *testing.T, n int) int {
	t.Helper()
	// Below the kernel's ephemeral range: a port from that range that is
	// free now can become the source port of any test's outgoing
	// connection before sim binds it again on its restart.
	low, high := 10000, ephemeralLow()-n
	for try := 0; try < 200; try++ {
		base := low + rand.IntN(high-low)
		ok := true
		for p := base; p < base+n && ok; p++ {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				ok = false
				continue
			}
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatalf("no %d consecutive free ports below %d", n, high+n)
	return 0
}

// ephemeralLow is the first port the kernel hands out as a source port,
// 32768 where it does not say.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	low, err := strconv.Atoi(f[0])
	if err != nil || low <= 11000 {
		return 32768
	}
	return low
}

// loadCredentials sets the variables of the sim's credentials.env, as
// `set -a; . credentials.env` does.
func loadCredentials(t *testing.T, run *simRun, state string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(string(waitFile(t, run, filepath.Join(state, "credentials.env")))), "\n") {
		k, v, _ := strings.Cut(line, "=")
		t.Setenv(k, v)
	}
}

// exampleOnSim is a copy of the example intent whose inventory is the one
// the sim run (netrecon sim --inventory intent-example --state state) wrote
// for its devices, with the sim's credentials in the environment: the repo a
// CLI test applies to the simulated network.
func exampleOnSim(t *testing.T, run *simRun, state string) string {
	t.Helper()
	inv := waitFile(t, run, filepath.Join(state, "inventory.yaml"))
	repo := copyExample(t)
	if err := os.RemoveAll(filepath.Join(repo, "inventory")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(repo, "inventory"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "inventory", "sim.yaml"), inv, 0o644); err != nil {
		t.Fatal(err)
	}
	loadCredentials(t, run, state)
	return repo
}

// The README's tour on chosen ports: sim on --base-port writes the inventory
// for them, a copy of the example applies against it, and a restart with the
// same --state keeps the host keys and the configuration: the next plan finds
// nothing to do, with the known_hosts recorded before.
func TestSimBasePortStateAcrossRestart(t *testing.T) {
	base := freePorts(t, 3)
	state := t.TempDir()
	run := runSimCmd(t, "--inventory", "../../intent-example", "--base-port", strconv.Itoa(base), "--state", state)
	hosts := string(waitFile(t, run, filepath.Join(state, "known_hosts")))
	inv := string(waitFile(t, run, filepath.Join(state, "inventory.yaml")))
	for i, name := range []string{"pe1-tyo", "pe2-osa", "pe3-sin"} {
		if want := fmt.Sprintf("  - name: %s\n", name); !strings.Contains(inv, want) {
			t.Errorf("inventory.yaml lacks %q", want)
		}
		if want := fmt.Sprintf("    port: %d\n", base+i); !strings.Contains(inv, want) {
			t.Errorf("inventory.yaml lacks %q:\n%s", want, inv)
		}
	}
	if out := run.out.String(); !strings.Contains(out, fmt.Sprintf("pe1-tyo      ietf   127.0.0.1:%d", base)) {
		t.Errorf("sim output:\n%s", out)
	}
	repo := exampleOnSim(t, run, state)
	t.Setenv("STARK_SINGAPORE_TRANSIT_KEY", "sim-test-key") // the example's BGP session key
	code, out, errs := netrecon(t, "apply", repo, "--state", state, "--auto-approve")
	if code != 0 || !strings.Contains(out, "Applied 231 changes on 3 devices") {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errs)
	}
	if err := run.stop(); err != nil {
		t.Fatal(err)
	}

	again := runSimCmd(t, "--inventory", "../../intent-example", "--base-port", strconv.Itoa(base), "--state", state)
	waitFile(t, again, filepath.Join(state, "credentials.env"))
	if now := string(waitFile(t, again, filepath.Join(state, "known_hosts"))); now != hosts {
		t.Errorf("known_hosts changed across the restart:\n%s\nwas\n%s", now, hosts)
	}
	loadCredentials(t, again, state)
	code, out, errs = netrecon(t, "plan", repo, "--state", state)
	if code != 0 || !strings.Contains(out, "No changes. The devices match the intent.") {
		t.Errorf("plan after the restart: exit %d\n%s%s", code, out, errs)
	}
}

// --devices N with --base-port: the generated devices listen there, and the
// inventory sim writes is one an intent repo validates with.
func TestSimDevicesBasePort(t *testing.T) {
	base := freePorts(t, 2)
	state := t.TempDir()
	run := runSimCmd(t, "--devices", "2", "--base-port", strconv.Itoa(base), "--state", state)
	hosts := string(waitFile(t, run, filepath.Join(state, "known_hosts")))
	inv := waitFile(t, run, filepath.Join(state, "inventory.yaml"))
	for i := range 2 {
		if want := fmt.Sprintf("[127.0.0.1]:%d ", base+i); !strings.Contains(hosts, want) {
			t.Errorf("known_hosts lacks %q:\n%s", want, hosts)
		}
	}
	repo := t.TempDir()
	os.MkdirAll(filepath.Join(repo, "inventory"), 0o755)
	os.MkdirAll(filepath.Join(repo, "services"), 0o755)
	os.WriteFile(filepath.Join(repo, "inventory", "sim.yaml"), inv, 0o644)
	if code, out, errs := netrecon(t, "validate", repo); code != 0 {
		t.Errorf("the written inventory does not validate: exit %d\n%s%s\n%s", code, out, errs, inv)
	}
}
