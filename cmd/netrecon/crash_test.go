package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/drivers/netsim"
	"github.com/netrecon/netrecon/lab/labtest"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/apply"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
)

// TestMain lets the schema sandbox re-execute this binary with its hidden
// verb, as it does netrecon.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == evaluateVerb {
		os.Exit(run(&app{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin}, os.Args[1:]))
	}
	// The tests never write the user's own document cache; those that
	// test the cache give a folder of their own.
	os.Setenv(envNoCache, "1")
	os.Exit(m.Run())
}

// crashBinary builds netrecon with its crash hook (-tags netrecontest), which
// the shipped binary and this test binary lack.
func crashBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the crash test builds netrecon with -tags netrecontest and needs the go tool: %v", err)
	}
	exe := filepath.Join(t.TempDir(), "netrecon")
	if out, err := exec.Command(goTool, "build", "-tags", "netrecontest", "-o", exe, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags netrecontest: %v\n%s", err, out)
	}
	return exe
}

// child runs exe (netrecon) in a separate process and returns how it ended.
func child(t *testing.T, exe string, env []string, args ...string) (killed bool, out string) {
	t.Helper()
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), env...)
	b, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true, string(b)
		}
	}
	return false, string(b)
}

// crashTarget is a set of devices to crash an apply on.
type crashTarget struct {
	devices    []crashDevice
	user       string
	creds      string // inventory credentials lines
	knownHosts string
	extraArgs  []string
	keys       func(platform string) configtree.Keys
	dial       func(t *testing.T, d crashDevice) *netconf.Session
	// opened, when set, counts the sessions a device saw (netsim): the
	// restart's recovery and plan must share one per device.
	opened func(device string) int
}

type crashDevice struct {
	name, address string
	port          int
}

// crashRepo writes an intent repo with one attachment circuit and its static
// route per device, on VLAN vlan (unique per case, so cases do not see each
// other's config on a shared lab).
func crashRepo(t *testing.T, tg crashTarget, vlan int) string {
	t.Helper()
	dir := t.TempDir()
	var inv strings.Builder
	inv.WriteString("apiVersion: netrecon.io/v1\nkind: Inventory\ndevices:\n")
	for _, d := range tg.devices {
		fmt.Fprintf(&inv, "  - name: %s\n    platform: ietf\n    address: %s\n    port: %d\n    site: lab\n    role: pe\n    credentials:\n      username: %s\n%s", d.name, d.address, d.port, tg.user, tg.creds)
	}
	files := map[string]string{"inventory/lab.yaml": inv.String()}
	for i, d := range tg.devices {
		name := fmt.Sprintf("crash-%d-%s", vlan, d.name)
		files["services/crash/"+name+".yaml"] = fmt.Sprintf(`apiVersion: netrecon.io/v1
kind: attachment-circuit
metadata: {name: %s, customer: crash}
spec:
  device: %s
  interface: ge-9/9/9
  vlan: %d
  description: crash test %d on %s
  ipv4: 100.127.%d.%d/30
`, name, d.name, vlan, vlan, d.name, vlan%250, 1+4*i)
	}
	for p, c := range files {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// deviceState says whether a device runs the repo's intent ("new"), none of
// it ("old"), or something in between ("half").
func deviceState(t *testing.T, tg crashTarget, repo string, d crashDevice) string {
	t.Helper()
	in, diags := schema.Load(os.DirFS(repo), schema.Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	r, _ := render.New(in)
	want, diags := r.Device(d.name)
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	s := tg.dial(t, d)
	defer s.Close(context.Background())
	got, err := s.GetConfig(context.Background(), reconcile.Running, configtree.Filter(want))
	if err != nil {
		t.Fatalf("%s: %v", d.name, err)
	}
	switch {
	case got.Equal(want):
		return "new"
	case len(configtree.Diff(configtree.New(), want)) == len(configtree.Diff(got, want)):
		return "old"
	}
	return "half"
}

// crashAtEveryPhase kills `netrecon apply` with SIGKILL at each phase
// boundary, on the first and on the last device, and just before each
// journal batch of phase 1 and 2 (every device done with the step before,
// none journaled for the next: "journal:owned" falls after the confirming
// commits and before their ownership records), restarts it, and checks that
// recovery leaves every device on exactly its old or its new configuration —
// the same one on all devices, since the change set is atomic.
func crashAtEveryPhase(t *testing.T, tg crashTarget) {
	exe := crashBinary(t)
	base := 100 + rand.IntN(3000)
	var points []string
	for _, phase := range []string{"locked", "edited", "committed", "verified", "confirmed"} {
		for _, dev := range []string{tg.devices[0].name, tg.devices[len(tg.devices)-1].name} {
			points = append(points, phase+"@"+dev)
		}
	}
	for _, batch := range []string{"committed", "verified", "confirmed", "owned"} {
		points = append(points, apply.BatchPrefix+batch)
	}
	for i, at := range points {
		vlan := base + i + 1
		t.Run(at, func(t *testing.T) {
			repo := crashRepo(t, tg, vlan)
			state := t.TempDir()
			args := append([]string{"apply", repo, "--auto-approve", "--state", state, "--known-hosts", tg.knownHosts, "--confirm-timeout", "60s"}, tg.extraArgs...)
			killed, out := child(t, exe, []string{"NETRECON_TEST_CRASH_AT=" + at}, args...)
			if !killed {
				t.Fatalf("the apply was not killed at %s:\n%s", at, out)
			}
			before := map[string]int{}
			for _, d := range tg.devices {
				if tg.opened != nil {
					before[d.name] = tg.opened(d.name)
				}
			}
			// Restart: apply settles the crashed run first; without
			// --auto-approve and a terminal it then stops before applying.
			code, stdout, stderr := netrecon(t, append([]string{"apply", repo, "--state", state, "--known-hosts", tg.knownHosts}, tg.extraArgs...)...)
			if !strings.Contains(stderr, "recovered run 1") {
				t.Fatalf("restart did not recover the run (exit %d):\n%s%s", code, stdout, stderr)
			}
			for _, d := range tg.devices {
				if tg.opened == nil {
					break
				}
				if n := tg.opened(d.name) - before[d.name]; n != 1 {
					t.Errorf("%s: recovery and plan opened %d sessions, want 1", d.name, n)
				}
			}
			states := map[string]bool{}
			for _, d := range tg.devices {
				st := deviceState(t, tg, repo, d)
				if st == "half" {
					t.Fatalf("%s is half-applied after recovery", d.name)
				}
				states[st] = true
			}
			if len(states) != 1 {
				t.Errorf("devices disagree after recovery of an atomic change set: %v", states)
			}
			t.Logf("after recovery every device is %v", states)
			// And the next apply brings everything to the intent.
			code, stdout, stderr = netrecon(t, append(args, "--lock-wait", "30s")...)
			if code != 0 {
				t.Fatalf("apply after recovery: exit %d\n%s%s", code, stdout, stderr)
			}
			for _, d := range tg.devices {
				if st := deviceState(t, tg, repo, d); st != "new" {
					t.Errorf("%s is %s after the final apply", d.name, st)
				}
			}
		})
	}
}

func TestCrashRecoveryNetsim(t *testing.T) {
	keys := func(p string) configtree.Keys { return render.Keys(p, nil) }
	sim, err := netsim.Start(context.Background(), netsim.Options{
		Devices:  []netsim.DeviceSpec{{Name: "pe1", Platform: "ietf"}, {Name: "pe2", Platform: "ietf"}, {Name: "pe3", Platform: "ietf"}},
		Username: "netrecon", Password: "s3cret", Keys: keys,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	kh := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(kh, sim.KnownHosts(), 0o600)
	t.Setenv("NETRECON_CRASH_PASSWORD", "s3cret")
	tg := crashTarget{user: "netrecon", creds: "      passwordEnv: NETRECON_CRASH_PASSWORD\n", knownHosts: kh, keys: keys,
		opened: func(name string) int { return sim.Device(name).SessionsOpened() }}
	for _, d := range sim.Devices() {
		tg.devices = append(tg.devices, crashDevice{d.Name, d.Address, d.Port})
	}
	tg.dial = func(t *testing.T, d crashDevice) *netconf.Session {
		s, err := netconf.Dial(context.Background(), netconf.Target{Device: d.name, Address: d.address, Port: d.port, Username: "netrecon", Auth: netconf.PasswordAuth("s3cret"), KnownHosts: kh}, netconf.WithKeys(keys("ietf")))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	crashAtEveryPhase(t, tg)
}

// The same on the real server: yuma123 netconfd behind OpenSSH.
func TestCrashRecoveryLab(t *testing.T) {
	lab := labtest.NeedDevices(t, 2)
	devs := lab.Devices()
	keys := func(p string) configtree.Keys { return render.Keys(p, nil) }
	tg := crashTarget{user: lab.Username(), creds: "      keyFile: " + lab.KeyFile() + "\n", knownHosts: lab.KnownHosts(), keys: keys,
		extraArgs: []string{"--settle-after-hello", "100ms"}}
	for _, d := range devs[:2] {
		tg.devices = append(tg.devices, crashDevice{d.Name, d.Address, d.Port})
	}
	tg.dial = func(t *testing.T, d crashDevice) *netconf.Session {
		auth, err := netconf.KeyFileAuth(lab.KeyFile())
		if err != nil {
			t.Fatal(err)
		}
		s, err := netconf.Dial(context.Background(), netconf.Target{Device: d.name, Address: d.address, Port: d.port, Username: lab.Username(), Auth: auth, KnownHosts: lab.KnownHosts()},
			netconf.WithKeys(keys("ietf")), netconf.WithSettleAfterHello(100*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	crashAtEveryPhase(t, tg)
}
