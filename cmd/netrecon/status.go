package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/views"
)

func checkStatusFormat(output string) error {
	if !contains(views.StatusFormats, output) {
		return &exitError{code: 2, err: fmt.Errorf("--output %q is not supported. Supported formats are %q", output, views.StatusFormats)}
	}
	return nil
}

func newStatusCmd(a *app) *cobra.Command {
	var (
		output string
		df     daemonFlags
	)
	cmd := &cobra.Command{
		Use:   "status --daemon URL",
		Short: "Show the daemon's status: is the network equal to the branch, and if not, where and why",
		Long: `Status asks a running netrecon serve (GET /api/v1/status) whether every device
holds the intent of the branch head, and shows what does not: the pass in progress
and what it waits on, the alarms with what to do about them, and every device not
in sync with the reason (drift, a guard's deferral and until when, a failure and
its next retry, an operator's pause). --output json prints the API's document.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkStatusFormat(output); err != nil {
				return err
			}
			c, err := df.client(true)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			var st api.Status
			if err := c.get(ctxOf(cmd), "/api/v1/status", &st); err != nil {
				return &exitError{code: 1, err: err}
			}
			if err := views.Status(a.stdout, output, &st); err != nil {
				return &exitError{code: 1, err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	df.register(cmd, true)
	return cmd
}

func ctxOf(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

func newDevicesCmd(a *app) *cobra.Command {
	var (
		output string
		df     daemonFlags
		lf     loadFlags
	)
	cmd := &cobra.Command{
		Use:   "devices [DIR] [--daemon URL] [NAME...]",
		Short: "List the inventory's devices; with --daemon, their live state",
		Long: `Devices lists the devices of the intent repo in DIR (default: the current folder):
platform, address and how many services each carries. With --daemon (or
NETRECON_DAEMON) it adds each device's state from the daemon and why; naming
devices after DIR (or -- NAME...) shows the nodes each differs by, live against
desired.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkStatusFormat(output); err != nil {
				return err
			}
			dir, names := dirAndNames(args)
			in, diags, err := loadDir(dir, lf.options())
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if in == nil || diags.HasErrors() {
				views.Diagnostics(a.stderr, "text", diags)
				return &exitError{code: 1, err: fmt.Errorf("the intent in %s does not validate", dir)}
			}
			c, err := df.client(false)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			count := map[string]int{}
			for _, s := range in.Services {
				for _, d := range s.Devices {
					count[d]++
				}
			}
			var live map[string]api.Device
			if c != nil {
				var list api.DeviceList
				if err := c.get(ctxOf(cmd), "/api/v1/devices", &list); err != nil {
					return &exitError{code: 1, err: err}
				}
				live = map[string]api.Device{}
				for _, d := range list.Devices {
					live[d.Name] = d
				}
			}
			var rows []views.DeviceRow
			for _, d := range in.Devices {
				if len(names) > 0 && !contains(names, d.Name) {
					continue
				}
				r := views.DeviceRow{Name: d.Name, Platform: d.Platform, Address: d.Address, Services: count[d.Name]}
				if c != nil {
					if ld, ok := live[d.Name]; ok {
						if len(names) > 0 {
							if err := c.get(ctxOf(cmd), "/api/v1/devices/"+d.Name, &ld); err != nil {
								return &exitError{code: 1, err: err}
							}
						}
						r.Live = &ld
					}
				}
				rows = append(rows, r)
			}
			for _, n := range names {
				if in.Device(n) == nil {
					return &exitError{code: 1, err: fmt.Errorf("device %q is not in the inventory", n)}
				}
			}
			if err := views.Devices(a.stdout, output, rows, len(names) > 0); err != nil {
				return &exitError{code: 1, err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	df.register(cmd, false)
	lf.register(cmd)
	return cmd
}

// dirAndNames splits the arguments of devices: an intent repo folder first
// when the first is one, then names.
func dirAndNames(args []string) (string, []string) {
	if len(args) > 0 {
		if st, err := os.Stat(args[0]); err == nil && st.IsDir() {
			return args[0], args[1:]
		}
	}
	return ".", args
}

func newServicesCmd(a *app) *cobra.Command {
	var (
		output string
		df     daemonFlags
		lf     loadFlags
	)
	cmd := &cobra.Command{
		Use:   "services [DIR] [--daemon URL]",
		Short: "List the intent's services; with --daemon, their live state",
		Long: `Services lists the service instances of the intent repo in DIR (default: the
current folder): type, customer and devices. With --daemon (or NETRECON_DAEMON)
it adds each service's state: drifting only when a node of its own drifts, held
back only when its own changes are.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkStatusFormat(output); err != nil {
				return err
			}
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			in, diags, err := loadDir(dir, lf.options())
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if in == nil || diags.HasErrors() {
				views.Diagnostics(a.stderr, "text", diags)
				return &exitError{code: 1, err: fmt.Errorf("the intent in %s does not validate", dir)}
			}
			c, err := df.client(false)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			var live map[string]api.Service
			if c != nil {
				var list api.ServiceList
				if err := c.get(ctxOf(cmd), "/api/v1/services", &list); err != nil {
					return &exitError{code: 1, err: err}
				}
				live = map[string]api.Service{}
				for _, s := range list.Services {
					live[s.Name] = s
				}
			}
			var rows []views.ServiceRow
			for _, s := range in.Services {
				r := views.ServiceRow{Name: s.Name, Type: s.Kind, Customer: s.Customer, Devices: s.Devices}
				if ls, ok := live[s.Name]; ok {
					r.Live = &ls
				}
				rows = append(rows, r)
			}
			if err := views.Services(a.stdout, output, rows); err != nil {
				return &exitError{code: 1, err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	df.register(cmd, false)
	lf.register(cmd)
	return cmd
}

// actionFlags are those of every operator action.
type actionFlags struct {
	daemonFlags
	reason string
	as     string
}

func (f *actionFlags) register(cmd *cobra.Command) {
	f.daemonFlags.register(cmd, true)
	cmd.Flags().StringVar(&f.reason, "reason", "", "why (required): the journal records it with who you are")
	cmd.Flags().StringVar(&f.as, "as", "", "who you are, for the journal (default $USER)")
}

// act posts the action and prints what the daemon recorded.
func (f *actionFlags) act(a *app, cmd *cobra.Command, name string, req api.ActionRequest) error {
	if strings.TrimSpace(f.reason) == "" {
		return &exitError{code: 2, err: fmt.Errorf("--reason is required: say why, for the journal and the next operator")}
	}
	c, err := f.client(true)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	req.Reason, req.As = f.reason, f.as
	if req.As == "" {
		req.As = os.Getenv("USER")
	}
	var act api.Action
	if err := c.do(ctxOf(cmd), "POST", "/api/v1/actions/"+name, req, &act); err != nil {
		return &exitError{code: 1, err: err}
	}
	fmt.Fprintf(a.stdout, "%s recorded as action %d by %s: %s\n", name, act.ID, act.Who, act.Detail)
	if act.Pass != "" {
		fmt.Fprintf(a.stdout, "Pass %s triggered: netrecon status --daemon %s\n", act.Pass, c.base)
	}
	return nil
}

func newActionCmds(a *app) []*cobra.Command {
	var heal, pause, resume, ack, accept actionFlags
	var all bool
	var commit string
	healCmd := &cobra.Command{
		Use:   "heal [DEVICE...] --all --reason WHY",
		Short: "Ask the daemon to apply the intent now over drift or a back-off (a device, several, or --all)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && !all {
				return &exitError{code: 2, err: fmt.Errorf("name the devices to heal, or --all")}
			}
			return heal.act(a, cmd, "heal", api.ActionRequest{Devices: args})
		},
	}
	healCmd.Flags().BoolVar(&all, "all", false, "every device (paused ones stay paused)")
	heal.register(healCmd)
	one := func(use, short, action string, f *actionFlags) *cobra.Command {
		c := &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return f.act(a, cmd, action, api.ActionRequest{Device: args[0]})
			}}
		f.register(c)
		return c
	}
	ackCmd := &cobra.Command{
		Use:   "ack ALARM --reason WHY",
		Short: "Acknowledge an active alarm (its id, from netrecon status): in hand, still active until it clears",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var id int64
			if _, err := fmt.Sscan(strings.TrimPrefix(args[0], "#"), &id); err != nil || id < 1 {
				return &exitError{code: 2, err: fmt.Errorf("alarm %q: want the alarm's number, as netrecon status shows it (#12)", args[0])}
			}
			return ack.act(a, cmd, "acknowledge", api.ActionRequest{Alarm: id})
		},
	}
	ack.register(ackCmd)
	acceptCmd := &cobra.Command{
		Use:   "accept-history --commit COMMIT --reason WHY",
		Short: "Accept a rewritten branch history (force-push): the daemon moves on from COMMIT, the new base",
		Long: `After a force-push the daemon refuses the branch (alarm commit-refused) and keeps
the network on the last good commit. accept-history tells it that the new history
is meant: COMMIT (the head, or one of its ancestors) becomes the last good commit,
and the next pass, triggered at once, moves to the head from it, checking the
commits after it as any (signatures). The journal records who and why.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if commit == "" {
				return &exitError{code: 2, err: fmt.Errorf("--commit is required: the commit of the new history to move on from (the alarm names the head)")}
			}
			return accept.act(a, cmd, "accept-history", api.ActionRequest{Commit: commit})
		},
	}
	acceptCmd.Flags().StringVar(&commit, "commit", "", "the new base: the branch head or one of its ancestors")
	accept.register(acceptCmd)
	return []*cobra.Command{
		healCmd,
		one("pause DEVICE --reason WHY", "Pause a device: the daemon neither reads nor changes it until resumed", "pause", &pause),
		one("resume DEVICE --reason WHY", "Resume a paused device; a pass follows at once", "resume", &resume),
		ackCmd,
		acceptCmd,
	}
}
