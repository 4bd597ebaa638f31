package main

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/views"
)

func newTasksCmd(a *app) *cobra.Command {
	var (
		output string
		df     daemonFlags
	)
	cmd := &cobra.Command{
		Use:   "tasks --daemon URL",
		Short: "List the manual steps services wait for, with the values to type",
		Long: `Tasks asks a running netrecon serve (GET /api/v1/tasks) for the manual steps of the
followed commit's services: steps a service type declares that only a person can do
(a registry's web form), each with its values rendered from the intent, ready to copy.
A new service is not configured until its steps are done; mark one with
'netrecon tasks done SERVICE STEP --ref REFERENCE'. --output json prints the API's document.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkStatusFormat(output); err != nil {
				return err
			}
			c, err := df.client(true)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			var l api.TaskList
			if err := c.get(ctxOf(cmd), "/api/v1/tasks", &l); err != nil {
				return &exitError{code: 1, err: err}
			}
			if err := views.Tasks(a.stdout, output, &l, time.Now()); err != nil {
				return &exitError{code: 1, err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	df.register(cmd, true)

	var (
		ref, as string
		ddf     daemonFlags
	)
	done := &cobra.Command{
		Use:   "done SERVICE STEP --ref REFERENCE",
		Short: "Mark a manual step done, with who you are and a reference (a registry's receipt number)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(ref) == "" {
				return &exitError{code: 2, err: fmt.Errorf("--ref is required: what shows the step was done, such as the registry's receipt number")}
			}
			c, err := ddf.client(true)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if as == "" {
				as = os.Getenv("USER")
			}
			var t api.Task
			path := "/api/v1/tasks/" + url.PathEscape(args[0]) + "/" + url.PathEscape(args[1]) + "/done"
			if err := c.do(ctxOf(cmd), "POST", path, api.TaskDone{Reference: ref, As: as}, &t); err != nil {
				return &exitError{code: 1, err: err}
			}
			fmt.Fprintf(a.stdout, "%s / %s done by %s, ref %s; a pass is triggered: netrecon status --daemon %s\n", t.Service, t.Step, t.DoneBy, t.Reference, c.base)
			return nil
		},
	}
	done.Flags().StringVar(&ref, "ref", "", "the reference (required): a registry's receipt number, a ticket")
	done.Flags().StringVar(&as, "as", "", "who you are, for the journal (default $USER)")
	ddf.register(done, true)
	cmd.AddCommand(done)
	return cmd
}
