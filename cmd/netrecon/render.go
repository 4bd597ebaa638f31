package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
	"github.com/netrecon/netrecon/views"
)

func newRenderCmd(a *app) *cobra.Command {
	var (
		device string
		owners bool
		native bool
		lf     loadFlags
	)
	cmd := &cobra.Command{
		Use:   "render [DIR] --device NAME",
		Short: "Print a device's desired configuration",
		Long: `Render prints the configuration the intent in DIR wants on one device: the
fragments of every service on that device, merged, as canonical XML (what netrecon
sends over NETCONF). --owners marks each node with the services that render it.
--platform-native prints Junos devices as the set commands an operator would type;
for ietf devices XML is the native form.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			if device == "" {
				return &exitError{code: 2, err: fmt.Errorf("--device is required")}
			}
			var unknown error
			sel := func(in *schema.Intent) ([]string, error) {
				if in.Device(device) == nil {
					var names []string
					for _, d := range in.Devices {
						names = append(names, d.Name)
					}
					unknown = fmt.Errorf("device %q is not in the inventory. Devices are %q", device, names)
					return nil, unknown
				}
				return []string{device}, nil
			}
			b, diags, err := buildDir(context.Background(), dir, render.BuildOptions{Load: lf.options(), Select: sel})
			switch {
			case err != nil && err == unknown:
				return &exitError{code: 1, err: err}
			case err != nil:
				return &exitError{code: 2, err: err}
			case b == nil || b.Desired == nil:
				views.Diagnostics(a.stderr, "text", diags)
				return &exitError{code: 1}
			}
			in, trees := b.Intent, b.Desired
			t := trees[device]
			if t == nil {
				t = configtree.New()
			}
			if native && in.Device(device).Platform == schema.PlatformJunos {
				if err := render.WriteJunosSet(a.stdout, t, owners); err != nil {
					return &exitError{code: 1, err: err}
				}
				return nil
			}
			if err := t.WriteXML(a.stdout, configtree.WriteOptions{Indent: "  ", Owners: owners}); err != nil {
				return &exitError{code: 1, err: err}
			}
			fmt.Fprintln(a.stdout)
			return nil
		},
	}
	cmd.Flags().StringVar(&device, "device", "", "the device to render (required)")
	cmd.Flags().BoolVar(&owners, "owners", false, "mark each node with the services that render it")
	cmd.Flags().BoolVar(&native, "platform-native", false, "print in the platform's own syntax (Junos: set commands)")
	lf.register(cmd)
	return cmd
}
