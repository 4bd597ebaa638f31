package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/netrecon/netrecon/reconcile/plan"
	"github.com/netrecon/netrecon/views"
)

func newPlanCmd(a *app) *cobra.Command {
	var (
		base, head, output string
		lf                 loadFlags
	)
	cmd := &cobra.Command{
		Use:   "plan [DIR] --base REV [--head REV]",
		Short: "Show, per device, the configuration a change of intent will change",
		Long: `Plan compares the intent at --base with the intent at --head (default: the work
tree) and prints, per device, the configuration that will be created, changed and
destroyed, with the services that own it. No device is contacted: this is the plan a
pull request's reviewers read. Only devices concerned by the changed files are rendered.

Exit status (as Terraform's -detailed-exitcode): 0 no changes, 2 changes present,
1 error (including a revision whose intent does not validate).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			if !contains(views.PlanFormats, output) {
				return &exitError{code: 1, err: fmt.Errorf("--output %q is not supported. Supported formats are %q", output, views.PlanFormats)}
			}
			if base == "" {
				return &exitError{code: 1, err: errors.New("--base is required: the revision to compare with (e.g. --base origin/main)")}
			}
			p, err := plan.FromGit(context.Background(), plan.GitOptions{Dir: dir, Base: base, Head: head, Load: lf.options()})
			var invalid *plan.InvalidRevisionError
			if errors.As(err, &invalid) {
				fmt.Fprintf(a.stderr, "netrecon: %v\n", err)
				views.Diagnostics(a.stderr, "text", invalid.Diagnostics)
				return &exitError{code: 1}
			}
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			v, err := views.NewPlan(output, a.stdout, views.PlanOptions{Color: isTerminal(a.stdout)})
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			if err := v.Plan(p); err != nil {
				return &exitError{code: 1, err: err}
			}
			if p.Summary().HasChanges() {
				return &exitError{code: 2}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&base, "base", "", "the revision to compare with (required)")
	cmd.Flags().StringVar(&head, "head", "", "the revision to plan for (default: the work tree)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, markdown (a pull-request comment) or json")
	lf.register(cmd)
	return cmd
}

// isTerminal reports whether w is a terminal, for colour.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
