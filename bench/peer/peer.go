package peer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/reconcile"
)

// Interfaces is how many interfaces the change sets on each device.
const Interfaces = 10

// parent and firstVLAN name the sub-interfaces: parent.firstVLAN+1 and on.
const (
	parent    = "ge-7/7/7"
	firstVLAN = 3900
)

// keys are the list keys of the ietf-interfaces/ietf-ip nodes the change
// touches (the module versions netconfd ships).
var keys = configtree.Keys{
	"/interfaces/interface":              {"name"},
	"/interfaces/interface/ipv4/address": {"ip"},
	"/interfaces/interface/type":         {configtree.IdentityLeaf},
}

// Device is one lab device, as lab.json lists it.
type Device struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Port    int    `json:"port"`
}

// Lab is the part of lab/.run/lab.json the benchmark reads.
type Lab struct {
	Devices    []Device `json:"devices"`
	Username   string   `json:"username"`
	KeyFile    string   `json:"keyFile"`
	KnownHosts string   `json:"knownHosts"`
}

// LoadLab reads lab.json at path and keeps its first n devices.
func LoadLab(path string, n int) (Lab, error) {
	var l Lab
	b, err := os.ReadFile(path)
	if err != nil {
		return l, err
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return l, fmt.Errorf("%s: %w", path, err)
	}
	if n < 1 || n > len(l.Devices) {
		return l, fmt.Errorf("%s: %d devices, want %d (bash lab/lab.sh up %d)", path, len(l.Devices), n, n)
	}
	l.Devices = l.Devices[:n]
	return l, nil
}

// circuit is interface v (1..Interfaces) of the device with index i.
type circuit struct {
	name, description, ip string
	vlan                  int
}

func circuitOf(dev string, i, v int) circuit {
	return circuit{
		name:        fmt.Sprintf("%s.%d", parent, firstVLAN+v),
		vlan:        firstVLAN + v,
		description: fmt.Sprintf("bench circuit %d on %s", v, dev),
		// Unique per device and interface, as the intent's address-plan check wants.
		ip: fmt.Sprintf("100.%d.%d.%d", 100+v, i/60, 1+4*(i%60)),
	}
}

// XML is the content of <config> that makes the change on the device with
// index i: what netrecon's ietf attachment-circuit template renders for the
// intent Prepare writes.
func XML(dev string, i int) string {
	var b strings.Builder
	b.WriteString(`<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces">`)
	for v := 1; v <= Interfaces; v++ {
		c := circuitOf(dev, i, v)
		fmt.Fprintf(&b, `<interface><name>%s</name><description>%s</description>`+
			`<type xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type">ianaift:l2vlan</type><enabled>true</enabled>`+
			`<ipv4 xmlns="urn:ietf:params:xml:ns:yang:ietf-ip"><address><ip>%s</ip><prefix-length>30</prefix-length></address></ipv4></interface>`,
			c.name, c.description, c.ip)
	}
	b.WriteString(`</interfaces>`)
	return b.String()
}

// desired is XML(dev, i) as a tree.
func desired(dev string, i int) (*configtree.Tree, error) {
	t, err := configtree.Parse(strings.NewReader(XML(dev, i)), dev, keys)
	if err != nil {
		return nil, fmt.Errorf("%s: desired config: %w", dev, err)
	}
	return t, nil
}

// Prepare writes into dir what each tool needs: intent/ (an intent repo:
// inventory and Interfaces attachment circuits per device, for netrecon
// apply), and ansible/inventory.yaml plus ansible/xml/<device>.xml (the
// same change, for netconf_config). sshConfig is the ssh_config file Ansible's
// ncclient reads the lab's known_hosts from.
func Prepare(dir string, l Lab, sshConfig string) error {
	inv := filepath.Join(dir, "intent", "inventory")
	svc := filepath.Join(dir, "intent", "services", "bench")
	xmlDir := filepath.Join(dir, "ansible", "xml")
	for _, d := range []string{inv, svc, xmlDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	var ib, ab strings.Builder
	ib.WriteString("apiVersion: netrecon.io/v1\nkind: Inventory\ndevices:\n")
	fmt.Fprintf(&ab, "all:\n  vars:\n"+
		"    ansible_connection: ansible.netcommon.netconf\n"+
		"    ansible_network_os: ansible.netcommon.default\n"+
		// The python3 first in PATH may lack ncclient; Debian's has it.
		"    ansible_python_interpreter: /usr/bin/python3\n"+
		"    ansible_user: %s\n"+
		"    ansible_ssh_private_key_file: %s\n"+
		"    ansible_host_key_checking: true\n"+
		"    ansible_netconf_ssh_config: %s\n"+
		"  hosts:\n", quote(l.Username), quote(l.KeyFile), quote(sshConfig))
	for i, d := range l.Devices {
		fmt.Fprintf(&ib, "  - name: %s\n    platform: ietf\n    address: %s\n    port: %d\n    credentials:\n      username: %s\n      keyFile: %s\n",
			d.Name, d.Address, d.Port, quote(l.Username), quote(l.KeyFile))
		fmt.Fprintf(&ab, "    %s: {ansible_host: %s, ansible_port: %d}\n", d.Name, d.Address, d.Port)
		for v := 1; v <= Interfaces; v++ {
			c := circuitOf(d.Name, i, v)
			doc := fmt.Sprintf("apiVersion: netrecon.io/v1\nkind: attachment-circuit\nmetadata: {name: bench-%s-%d, customer: bench}\n"+
				"spec:\n  device: %s\n  interface: %s\n  vlan: %d\n  description: %s\n  ipv4: %s/30\n",
				d.Name, v, d.Name, parent, c.vlan, c.description, c.ip)
			if err := os.WriteFile(filepath.Join(svc, fmt.Sprintf("%s-%d.yaml", d.Name, v)), []byte(doc), 0o644); err != nil {
				return err
			}
		}
		// netconf_config wants its content inside <config>.
		x := `<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">` + XML(d.Name, i) + `</config>`
		if err := os.WriteFile(filepath.Join(xmlDir, d.Name+".xml"), []byte(x), 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(inv, "lab.yaml"), []byte(ib.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "ansible", "inventory.yaml"), []byte(ab.String()), 0o644)
}

// quote makes s a YAML double-quoted scalar.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Options tune the loops.
type Options struct {
	Concurrency int           // devices in flight; at least 1
	Settle      time.Duration // pause after hello (yuma123 netconfd loses the first reply without it)
	DialTimeout time.Duration // 0: the driver's default
	RPCTimeout  time.Duration // 0: the driver's default
	// Retries is how many more sessions a failed device gets. The loop a
	// tool is measured against runs with none; the reset and the read-back
	// around it may retry, so that a session the loaded lab drops between
	// tools does not end the benchmark.
	Retries int
}

func (o Options) dialOptions() []netconf.Option {
	opts := []netconf.Option{netconf.WithSettleAfterHello(o.Settle), netconf.WithKeys(keys)}
	if o.DialTimeout > 0 {
		opts = append(opts, netconf.WithDialTimeout(o.DialTimeout))
	}
	if o.RPCTimeout > 0 {
		opts = append(opts, netconf.WithRPCTimeout(o.RPCTimeout))
	}
	return opts
}

// Result is what one loop did, device by device.
type Result struct {
	Errors map[string]error // by device, the devices that failed
	// Found counts, per device, the interfaces of the change running has
	// (Verify only).
	Found map[string]int
}

// Failed lists the failed devices' errors, one a line.
func (r Result) Failed() error {
	errs := make([]error, 0, len(r.Errors))
	for _, err := range r.Errors {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// each runs fn on every device of l, o.Concurrency at a time, each in its
// own session.
func each(ctx context.Context, l Lab, o Options, fn func(ctx context.Context, s *netconf.Session, i int) error) Result {
	if o.Concurrency < 1 {
		o.Concurrency = 1
	}
	auth, err := netconf.KeyFileAuth(l.KeyFile)
	res := Result{Errors: map[string]error{}}
	if err != nil {
		for _, d := range l.Devices {
			res.Errors[d.Name] = fmt.Errorf("%s: %w", d.Name, err)
		}
		return res
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, o.Concurrency)
	kh := netconf.NewKnownHosts()
	for i, d := range l.Devices {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			var err error
			for range 1 + max(o.Retries, 0) {
				err = session(ctx, netconf.Target{Device: d.Name, Address: d.Address, Port: d.Port, Username: l.Username, Auth: auth, KnownHosts: l.KnownHosts},
					append(o.dialOptions(), netconf.WithKnownHosts(kh)), func(ctx context.Context, s *netconf.Session) error { return fn(ctx, s, i) })
				if err == nil || ctx.Err() != nil {
					break
				}
			}
			if err != nil {
				mu.Lock()
				res.Errors[d.Name] = err
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return res
}

func session(ctx context.Context, t netconf.Target, opts []netconf.Option, fn func(context.Context, *netconf.Session) error) (err error) {
	s, err := netconf.Dial(ctx, t, opts...)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := s.Close(context.WithoutCancel(ctx)); cerr != nil && err == nil {
			err = cerr
		}
	}()
	return fn(ctx, s)
}

// change locks the candidate, edits it, commits and unlocks: the work every
// tool does on a device, with nothing around it.
func change(ctx context.Context, s *netconf.Session, changes []configtree.Change) (err error) {
	if err := s.Lock(ctx, reconcile.Candidate); err != nil {
		return err
	}
	defer func() {
		if uerr := s.Unlock(ctx, reconcile.Candidate); uerr != nil && err == nil {
			err = uerr
		}
	}()
	if err := s.EditConfig(ctx, reconcile.Candidate, changes); err != nil {
		return err
	}
	return s.Commit(ctx, reconcile.CommitOptions{})
}

// Loop is the bare loop: per device dial, lock, edit-config (the change),
// commit, unlock, close, o.Concurrency devices in flight.
func Loop(ctx context.Context, l Lab, o Options) Result {
	return each(ctx, l, o, func(ctx context.Context, s *netconf.Session, i int) error {
		want, err := desired(s.Device(), i)
		if err != nil {
			return err
		}
		return change(ctx, s, configtree.Diff(configtree.New(), want))
	})
}

// Reset removes the change's interfaces from every device, whichever tool
// made them, and nothing else. It removes only the interfaces running has:
// yuma123 netconfd 2.13 refuses a remove of an absent entry when <interfaces>
// is absent too (data-missing on its mandatory type), although RFC 6241 7.2
// says such a remove is ignored (docs/quirks.md).
func Reset(ctx context.Context, l Lab, o Options) Result {
	return each(ctx, l, o, func(ctx context.Context, s *netconf.Session, i int) error {
		want, err := desired(s.Device(), i)
		if err != nil {
			return err
		}
		live, err := s.GetConfig(ctx, reconcile.Running, configtree.Filter(want))
		if err != nil {
			return err
		}
		var removes []configtree.Change
		// DiffAll, not Diff: no tool's ownership is recorded here; each
		// interface of the change goes with one remove of its entry.
		for _, c := range configtree.DiffAll(live, configtree.New()) {
			if c.Action == configtree.Delete {
				removes = append(removes, c)
			}
		}
		if len(removes) == 0 {
			return nil
		}
		return change(ctx, s, removes)
	})
}

// Verify reads each device's running interfaces and counts the change's
// interfaces that are there with their address.
func Verify(ctx context.Context, l Lab, o Options) Result {
	var mu sync.Mutex
	found := map[string]int{}
	res := each(ctx, l, o, func(ctx context.Context, s *netconf.Session, i int) error {
		want, err := desired(s.Device(), i)
		if err != nil {
			return err
		}
		live, err := s.GetConfig(ctx, reconcile.Running, configtree.Filter(want))
		if err != nil {
			return err
		}
		n := 0
		for v := 1; v <= Interfaces; v++ {
			c := circuitOf(s.Device(), i, v)
			if live.Find(configtree.Path(fmt.Sprintf("/interfaces/interface[name=%s]/ipv4/address[ip=%s]", c.name, c.ip))) != nil {
				n++
			}
		}
		mu.Lock()
		found[s.Device()] = n
		mu.Unlock()
		return nil
	})
	res.Found = found
	return res
}

// SessionID opens a session to d and returns the id the device gave it: the
// difference between two such ids, less one, is how many sessions others
// opened in between (netconfd numbers sessions in order).
func SessionID(ctx context.Context, l Lab, d Device, o Options) (string, error) {
	var id string
	one := l
	one.Devices = []Device{d}
	err := each(ctx, one, o, func(_ context.Context, s *netconf.Session, _ int) error {
		id = s.SessionID()
		return nil
	}).Failed()
	return id, err
}
