package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/netrecon/netrecon/reconcile/plan"
	"github.com/netrecon/netrecon/reconcile/planfile"
	"github.com/netrecon/netrecon/reconcile/planner"
	"github.com/netrecon/netrecon/views"
)

func newPlanCmd(a *app) *cobra.Command {
	var (
		base, head, output, out string
		lf                      loadFlags
		cf                      cacheFlags
		df                      deviceFlags
	)
	cmd := &cobra.Command{
		Use:   "plan [DIR] [--base REV [--head REV]]",
		Short: "Show, per device, the configuration a change of intent will change",
		Long: `Plan prints, per device, the configuration that will be created, changed and
destroyed, with the services that own it.

With --base, plan compares the intent at --base with the intent at --head (default:
the work tree) without contacting any device: the plan a pull request's reviewers
read. Only devices concerned by the changed files are rendered, and files seen
by an earlier run come from the document cache (see 'netrecon cache').

Without --base, plan reads each device's running configuration (only the subtrees
netrecon manages) and compares it with the intent in DIR: the plan apply would
execute. Configuration that netrecon did not apply is never planned for deletion.
A device that cannot be read is reported and the others are still planned.
--out FILE saves the plan for 'netrecon apply FILE', signed with a key kept in the
state folder: apply takes the file only with the same state folder and only as
written.

Exit status (as Terraform's -detailed-exitcode): 0 no changes, 2 changes present,
1 error (including a revision whose intent does not validate, or a device that
could not be read).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			if !contains(views.PlanFormats, output) {
				return &exitError{code: 1, err: fmt.Errorf("--output %q is not supported. Supported formats are %q", output, views.PlanFormats)}
			}
			defer batchGC()()
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			var p *plan.Plan
			if base == "" {
				if head != "" {
					return &exitError{code: 1, err: errors.New("--head needs --base: a live plan compares the intent in DIR with the devices")}
				}
				env, err := openLive(ctx, a, dir, lf, &df, false, true)
				if err != nil {
					return err
				}
				defer env.Close()
				p, err = planner.Live(ctx, planner.LiveOptions{Intent: env.in, Desired: env.desired, Dialer: env.dialer, Journal: env.journal, Devices: env.devices, Concurrency: df.concurrency})
				if err != nil {
					return &exitError{code: 1, err: err}
				}
				p.Head = env.source
				p.Held = env.held
				if out != "" {
					if err := writePlanFile(out, p, env, &df); err != nil {
						return &exitError{code: 1, err: err}
					}
				}
			} else {
				if out != "" {
					return &exitError{code: 1, err: errors.New("--out saves a live plan (one without --base): an offline plan cannot be applied")}
				}
				lo := lf.options()
				lo.Cache = cf.open(a)
				defer closeCache(a, lo.Cache)
				var err error
				p, err = planner.FromGit(ctx, planner.GitOptions{Dir: dir, Base: base, Head: head, Load: lo, At: time.Now()})
				var invalid *planner.InvalidRevisionError
				if errors.As(err, &invalid) {
					return &exitError{code: 1, err: err, diags: invalid.Diagnostics}
				}
				if err != nil {
					return &exitError{code: 1, err: err}
				}
			}
			if err := showPlan(a, output, p); err != nil {
				return &exitError{code: 1, err: err}
			}
			if out != "" {
				fmt.Fprintf(a.stderr, "Saved the plan to %s; apply exactly it with:\n  %s\n", out, applyFileCommand(cmd, out, dir))
			}
			s := p.Summary()
			switch {
			case s.Failed > 0:
				return &exitError{code: 1}
			case s.HasChanges():
				return &exitError{code: 2}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&base, "base", "", "the revision to compare with; without it, the devices are read")
	cmd.Flags().StringVar(&head, "head", "", "with --base: the revision to plan for (default: the work tree)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, markdown (a pull-request comment) or json")
	cmd.Flags().StringVar(&out, "out", "", "save the live plan to FILE, for netrecon apply FILE")
	lf.register(cmd)
	cf.register(cmd)
	df.register(cmd)
	return cmd
}

// applyFileCommand is the command that applies the plan saved to file: with
// the intent repo (--dir) and every device and load flag given to plan, since
// apply must read the same inventory, state folder and host keys.
func applyFileCommand(cmd *cobra.Command, file, dir string) string {
	args := []string{"netrecon", "apply", file}
	if dir != "." {
		args = append(args, "--dir", dir)
	}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		switch f.Name {
		case "out", "output", "base", "head": // plan's own
			return
		}
		v := f.Value.String()
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			v = strings.Join(sv.GetSlice(), ",")
		}
		args = append(args, "--"+f.Name, v)
	})
	return shellJoin(args)
}

func showPlan(a *app, output string, p *plan.Plan) error {
	v, err := views.NewPlan(output, a.stdout, views.PlanOptions{Color: isTerminal(a.stdout)})
	if err != nil {
		return err
	}
	return v.Plan(p)
}

// writePlanFile saves p signed with the state folder's key, so that only
// this state folder's apply takes it, and only as written.
func writePlanFile(path string, p *plan.Plan, env *liveEnv, df *deviceFlags) error {
	key, err := planKey(df)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := planfile.WriteSigned(f, key, p, env.desired, nil); err != nil {
		f.Close()
		return fmt.Errorf("save plan: %w", err)
	}
	return f.Close()
}

// planKey is the state folder's plan-signing key, created on first use.
func planKey(df *deviceFlags) (*planfile.Key, error) {
	state, err := df.state()
	if err != nil {
		return nil, err
	}
	return planfile.LoadKey(state)
}

// isTerminal reports whether w is a terminal, for colour and prompts.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
