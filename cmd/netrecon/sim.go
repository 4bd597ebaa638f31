package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netsim"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
	"github.com/netrecon/netrecon/views"
)

// simUser is the user of generated devices (--devices), as in intent-example.
const simUser = "netrecon"

// simPasswordEnv is the variable that holds the simulator's password when
// the inventory names none.
const simPasswordEnv = "NETRECON_PASSWORD"

func newSimCmd(a *app) *cobra.Command {
	var (
		inventory string
		devices   int
		basePort  int
		stateDir  string
	)
	cmd := &cobra.Command{
		Use:   "sim --inventory DIR | --devices N  [--base-port P] [--state STATE]",
		Short: "Run simulated PE routers that speak NETCONF over SSH",
		Long: `Sim starts one simulated router per device of the intent repo's inventory in
DIR, each listening on the device's address and port, or, with --devices N, N
devices sim1..simN (alternating ietf and junos) on loopback. They speak real
NETCONF over SSH, so plan and apply run against them unchanged.

--base-port P puts the devices on ports P, P+1, ... in inventory order (for
--devices, free ports otherwise), and sim then writes STATE/inventory.yaml: the
devices as they listen, for an intent repo's inventory/ folder.

Sim writes STATE/known_hosts (the devices' host keys) and
STATE/credentials.env (a random password each run, NETRECON_PASSWORD=...), and
with --devices or --base-port STATE/inventory.yaml. It keeps each device's host
key and committed configuration in STATE/sim/, so a restart with the same
--state keeps known_hosts valid and the devices as netrecon left them (without
--state, a temporary folder is used and removed). It runs until interrupted,
then removes the credentials.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (inventory == "") == (devices == 0) {
				return &exitError{code: 2, err: errors.New("give either --inventory DIR or --devices N")}
			}
			if devices < 0 {
				return &exitError{code: 2, err: fmt.Errorf("--devices %d: want a positive number", devices)}
			}
			if basePort < 0 || basePort > 65535 {
				return &exitError{code: 2, err: fmt.Errorf("--base-port %d: want a port from 1 to 65535", basePort)}
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runSim(ctx, a, inventory, devices, basePort, stateDir)
		},
	}
	cmd.Flags().StringVar(&inventory, "inventory", "", "intent repo whose inventory lists the devices to simulate")
	cmd.Flags().IntVar(&devices, "devices", 0, "simulate N generated devices instead of an inventory")
	cmd.Flags().IntVar(&basePort, "base-port", 0, "listen on ports P, P+1, ... and write STATE/inventory.yaml for them")
	cmd.Flags().StringVar(&stateDir, "state", "", "folder for known_hosts, credentials.env and the devices' keys and configuration, kept across restarts (default: a new temporary folder)")
	return cmd
}

// simPlan is what runSim starts: the devices and their credentials.
type simPlan struct {
	specs       []netsim.DeviceSpec
	devices     []*schema.Device // the inventory entries, for STATE/inventory.yaml
	user        string
	passwordEnv []string // variables to set to the password
	keys        func(platform string) configtree.Keys
}

func planFromInventory(dir string) (*simPlan, error) {
	in, diags, err := loadDir(dir, schema.Options{Evaluator: sandboxEvaluator(schema.DefaultBudget())})
	if err != nil {
		return nil, err
	}
	if err := diags.Err(); err != nil {
		return nil, fmt.Errorf("intent repo %s: %w", dir, err)
	}
	if len(in.Devices) == 0 {
		return nil, fmt.Errorf("intent repo %s: the inventory lists no device", dir)
	}
	p := &simPlan{keys: func(platform string) configtree.Keys { return render.Keys(platform, in.Types) }}
	for _, d := range in.Devices {
		p.specs = append(p.specs, netsim.DeviceSpec{Name: d.Name, Platform: d.Platform, Address: d.Address, Port: d.Port})
		p.devices = append(p.devices, d)
		switch {
		case p.user == "":
			p.user = d.Credentials.Username
		case d.Credentials.Username != p.user:
			return nil, fmt.Errorf("device %s: user %q, but %s uses %q: the simulator serves one user",
				d.Name, d.Credentials.Username, in.Devices[0].Name, p.user)
		}
		if env := d.Credentials.PasswordEnv; env != "" && !slices.Contains(p.passwordEnv, env) {
			p.passwordEnv = append(p.passwordEnv, env)
		}
	}
	if p.user == "" {
		p.user = simUser
	}
	if len(p.passwordEnv) == 0 {
		p.passwordEnv = []string{simPasswordEnv}
	}
	return p, nil
}

func generatedPlan(n int) *simPlan {
	p := &simPlan{
		user:        simUser,
		passwordEnv: []string{simPasswordEnv},
		keys:        func(platform string) configtree.Keys { return render.Keys(platform, nil) },
	}
	for i := 1; i <= n; i++ {
		platform := schema.PlatformIETF
		if i%2 == 0 {
			platform = schema.PlatformJunos
		}
		name := fmt.Sprintf("sim%d", i)
		p.specs = append(p.specs, netsim.DeviceSpec{Name: name, Platform: platform})
		p.devices = append(p.devices, &schema.Device{Name: name, Platform: platform,
			Credentials: schema.Credentials{Username: simUser, PasswordEnv: simPasswordEnv}})
	}
	return p
}

// placePorts puts the devices on base, base+1, ... in order.
func (p *simPlan) placePorts(base int) error {
	if last := base + len(p.specs) - 1; last > 65535 {
		return fmt.Errorf("--base-port %d: %s need ports up to %d, beyond 65535", base, views.Count(len(p.specs), "device"), last)
	}
	for i := range p.specs {
		p.specs[i].Port = base + i
	}
	return nil
}

func runSim(ctx context.Context, a *app, inventory string, n, basePort int, stateDir string) (err error) {
	var p *simPlan
	if inventory != "" {
		if p, err = planFromInventory(inventory); err != nil {
			return &exitError{code: 1, err: err}
		}
	} else {
		p = generatedPlan(n)
	}
	if basePort > 0 {
		if err := p.placePorts(basePort); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	// The inventory netrecon must use differs from DIR's when the ports do.
	writeInventory := inventory == "" || basePort > 0
	if stateDir == "" {
		if stateDir, err = os.MkdirTemp("", "netrecon-sim-"); err != nil {
			return &exitError{code: 2, err: err}
		}
		defer os.RemoveAll(stateDir)
	} else if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return &exitError{code: 2, err: err}
	}
	password, err := randomPassword()
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	log := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	sim, err := netsim.Start(ctx, netsim.Options{
		Devices:  p.specs,
		Username: p.user,
		Password: password,
		Keys:     p.keys,
		Logger:   log,
		StateDir: filepath.Join(stateDir, "sim"),
	})
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	defer func() {
		if cerr := sim.Close(); cerr != nil && err == nil {
			err = &exitError{code: 2, err: cerr}
		}
	}()

	credPath := filepath.Join(stateDir, "credentials.env")
	// The password lives only in this file, readable by its owner, and is
	// removed on exit: it never reaches the intent repo or the log.
	defer os.Remove(credPath)
	var cred []byte
	for _, env := range p.passwordEnv {
		cred = fmt.Appendf(cred, "%s=%s\n", env, password)
	}
	if err := writeFileAtomic(credPath, cred, 0o600); err != nil {
		return &exitError{code: 2, err: err}
	}
	if writeInventory {
		inv, err := simInventory(sim, p, basePort > 0)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		if err := writeFileAtomic(filepath.Join(stateDir, "inventory.yaml"), inv, 0o644); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	// known_hosts last: its presence tells scripts that the rest is ready.
	hostsPath := filepath.Join(stateDir, "known_hosts")
	if err := writeFileAtomic(hostsPath, sim.KnownHosts(), 0o644); err != nil {
		return &exitError{code: 2, err: err}
	}

	devs := sim.Devices()
	fmt.Fprintf(a.stdout, "netrecon sim: %s listening as user %q\n", views.Count(len(devs), "device"), p.user)
	for i, d := range devs {
		if i == 10 && len(devs) > 12 {
			fmt.Fprintf(a.stdout, "  ... and %d more\n", len(devs)-i)
			break
		}
		fmt.Fprintf(a.stdout, "  %-12s %-6s %s:%d\n", d.Name, d.Platform, d.Address, d.Port)
	}
	fmt.Fprintf(a.stdout, "known_hosts:  %s\n", hostsPath)
	fmt.Fprintf(a.stdout, "credentials:  %s   (load with: set -a; . %s; set +a)\n", credPath, credPath)
	switch {
	case inventory == "":
		fmt.Fprintf(a.stdout, "inventory:    %s   (copy into an intent repo's inventory/)\n", filepath.Join(stateDir, "inventory.yaml"))
	case writeInventory:
		fmt.Fprintf(a.stdout, "inventory:    %s   (the devices of %s on these ports: use it in place of a copy's inventory/)\n", filepath.Join(stateDir, "inventory.yaml"), inventory)
	}
	fmt.Fprintln(a.stdout, "Press Ctrl-C to stop.")
	<-ctx.Done()
	fmt.Fprintln(a.stdout, "netrecon sim: stopping")
	return nil
}

// simInventory is an inventory document for the running devices, so an
// intent repo can point at them: the inventory entries with the addresses and
// ports the devices listen on.
func simInventory(sim *netsim.Sim, p *simPlan, fixedPorts bool) ([]byte, error) {
	type credentials struct {
		Username     string `yaml:"username"`
		PasswordEnv  string `yaml:"passwordEnv,omitempty"`
		PasswordFile string `yaml:"passwordFile,omitempty"`
		KeyFile      string `yaml:"keyFile,omitempty"`
	}
	type device struct {
		Name        string            `yaml:"name"`
		Platform    string            `yaml:"platform"`
		Address     string            `yaml:"address"`
		Port        int               `yaml:"port"`
		Site        string            `yaml:"site,omitempty"`
		Role        string            `yaml:"role,omitempty"`
		Labels      map[string]string `yaml:"labels,omitempty"`
		Maintenance bool              `yaml:"maintenance,omitempty"`
		Credentials credentials       `yaml:"credentials"`
	}
	doc := struct {
		APIVersion string   `yaml:"apiVersion"`
		Kind       string   `yaml:"kind"`
		Devices    []device `yaml:"devices"`
	}{APIVersion: "netrecon.io/v1", Kind: "Inventory"}
	for i, sd := range sim.Devices() {
		d := p.devices[i]
		c := d.Credentials
		doc.Devices = append(doc.Devices, device{Name: sd.Name, Platform: sd.Platform, Address: sd.Address, Port: sd.Port,
			Site: d.Site, Role: d.Role, Labels: d.Labels, Maintenance: d.Maintenance,
			Credentials: credentials{c.Username, c.PasswordEnv, c.PasswordFile, c.KeyFile}})
	}
	var body bytes.Buffer
	enc := yaml.NewEncoder(&body)
	enc.SetIndent(2) // as the inventories people write
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("inventory.yaml: %w", err)
	}
	head := "# Written by netrecon sim: the simulated devices as they listen"
	if !fixedPorts {
		head += " (free ports, new on every run; --base-port fixes them)"
	}
	return append([]byte(head+".\n"), body.Bytes()...), nil
}

func randomPassword() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// writeFileAtomic writes through a temporary file and a rename, so a reader
// polling for the file never sees it half written.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
