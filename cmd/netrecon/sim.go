package main

import (
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

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netsim"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
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
		stateDir  string
	)
	cmd := &cobra.Command{
		Use:   "sim --inventory DIR | --devices N",
		Short: "Run simulated PE routers that speak NETCONF over SSH",
		Long: `Sim starts one simulated router per device of the intent repo's inventory in
DIR, each listening on the device's address and port, or, with --devices N, N
devices sim1..simN (alternating ietf and junos) on free loopback ports. They
speak real NETCONF over SSH, so plan and apply run against them unchanged.

Sim writes STATE/known_hosts (the devices' host keys) and
STATE/credentials.env (a random password, NETRECON_PASSWORD=...), and with
--devices also STATE/inventory.yaml; it runs until interrupted, then removes
the credentials.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (inventory == "") == (devices == 0) {
				return &exitError{code: 2, err: errors.New("give either --inventory DIR or --devices N")}
			}
			if devices < 0 {
				return &exitError{code: 2, err: fmt.Errorf("--devices %d: want a positive number", devices)}
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runSim(ctx, a, inventory, devices, stateDir)
		},
	}
	cmd.Flags().StringVar(&inventory, "inventory", "", "intent repo whose inventory lists the devices to simulate")
	cmd.Flags().IntVar(&devices, "devices", 0, "simulate N generated devices instead of an inventory")
	cmd.Flags().StringVar(&stateDir, "state", "", "folder for known_hosts and credentials.env (default: a new temporary folder)")
	return cmd
}

// simPlan is what runSim starts: the devices and their credentials.
type simPlan struct {
	specs       []netsim.DeviceSpec
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
		p.specs = append(p.specs, netsim.DeviceSpec{Name: fmt.Sprintf("sim%d", i), Platform: platform})
	}
	return p
}

func runSim(ctx context.Context, a *app, inventory string, n int, stateDir string) (err error) {
	var p *simPlan
	if inventory != "" {
		if p, err = planFromInventory(inventory); err != nil {
			return &exitError{code: 1, err: err}
		}
	} else {
		p = generatedPlan(n)
	}
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
	if inventory == "" {
		if err := writeFileAtomic(filepath.Join(stateDir, "inventory.yaml"), simInventory(sim, p), 0o644); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	// known_hosts last: its presence tells scripts that the rest is ready.
	hostsPath := filepath.Join(stateDir, "known_hosts")
	if err := writeFileAtomic(hostsPath, sim.KnownHosts(), 0o644); err != nil {
		return &exitError{code: 2, err: err}
	}

	devs := sim.Devices()
	fmt.Fprintf(a.stdout, "netrecon sim: %d devices listening as user %q\n", len(devs), p.user)
	for i, d := range devs {
		if i == 10 && len(devs) > 12 {
			fmt.Fprintf(a.stdout, "  ... and %d more\n", len(devs)-i)
			break
		}
		fmt.Fprintf(a.stdout, "  %-12s %-6s %s:%d\n", d.Name, d.Platform, d.Address, d.Port)
	}
	fmt.Fprintf(a.stdout, "known_hosts:  %s\n", hostsPath)
	fmt.Fprintf(a.stdout, "credentials:  %s   (load with: set -a; . %s; set +a)\n", credPath, credPath)
	if inventory == "" {
		fmt.Fprintf(a.stdout, "inventory:    %s   (copy into an intent repo's inventory/)\n", filepath.Join(stateDir, "inventory.yaml"))
	}
	fmt.Fprintln(a.stdout, "Press Ctrl-C to stop.")
	<-ctx.Done()
	fmt.Fprintln(a.stdout, "netrecon sim: stopping")
	return nil
}

// simInventory is an inventory document for generated devices, so a demo
// intent repo can point at them.
func simInventory(sim *netsim.Sim, p *simPlan) []byte {
	b := []byte("# Generated by netrecon sim; ports change on every run.\napiVersion: netrecon.io/v1\nkind: Inventory\ndevices:\n")
	for _, d := range sim.Devices() {
		b = fmt.Appendf(b, "  - name: %s\n    platform: %s\n    address: %s\n    port: %d\n    credentials:\n      username: %s\n      passwordEnv: %s\n",
			d.Name, d.Platform, d.Address, d.Port, p.user, p.passwordEnv[0])
	}
	return b
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
