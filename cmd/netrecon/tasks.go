package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/schedule"
	"github.com/netrecon/netrecon/views"
)

func newTasksCmd(a *app) *cobra.Command {
	var (
		output, state string
		df            daemonFlags
	)
	cmd := &cobra.Command{
		Use:   "tasks (--daemon URL | --state DIR)",
		Short: "List the manual steps services wait for, with the values to type",
		Long: `Tasks asks a running netrecon serve (GET /api/v1/tasks) for the manual steps of the
followed commit's services: steps a service type declares that only a person can do
(a registry's web form), each with its values rendered from the intent, ready to copy.
A new service is not configured until its steps are done; mark one with
'netrecon tasks done SERVICE STEP --ref REFERENCE'. --output json prints the API's document.
With --state DIR instead of --daemon, the tasks are those of that state folder's journal:
the ones netrecon apply met (it holds a service the same way), read and marked there.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkStatusFormat(output); err != nil {
				return err
			}
			if state != "" {
				return localTasks(ctxOf(cmd), a, state, output)
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
	cmd.Flags().StringVar(&state, "state", "", "read the tasks of this state folder's journal (the CLI's apply), not a daemon's")
	df.register(cmd, true)

	var (
		ref, as, doneState string
		ddf                daemonFlags
	)
	done := &cobra.Command{
		Use:   "done SERVICE STEP --ref REFERENCE",
		Short: "Mark a manual step done, with who you are and a reference (a registry's receipt number)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(ref) == "" {
				return &exitError{code: 2, err: fmt.Errorf("--ref is required: what shows the step was done, such as the registry's receipt number")}
			}
			var c *daemonClient
			if doneState == "" {
				var err error
				if c, err = ddf.client(true); err != nil {
					return &exitError{code: 2, err: err}
				}
			}
			if as == "" {
				as = os.Getenv("USER")
			}
			if doneState != "" {
				return localTaskDone(ctxOf(cmd), a, doneState, args[0], args[1], as, ref)
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
	done.Flags().StringVar(&doneState, "state", "", "mark it in this state folder's journal (the CLI's apply), not a daemon's")
	ddf.register(done, true)
	cmd.AddCommand(done)
	return cmd
}

// openTaskJournal opens the journal of the state folder state, which must
// exist: tasks come from an apply, and a missing journal is a wrong folder.
func openTaskJournal(ctx context.Context, state string) (*journal.Journal, error) {
	jp := journalPath(state)
	if err := journal.CheckLost(jp, stateSigns(state)...); err != nil {
		return nil, err
	}
	if _, err := os.Stat(jp); err != nil {
		return nil, fmt.Errorf("no journal in %s: netrecon apply --state %s records the manual steps it meets", state, state)
	}
	return openJournal(ctx, state)
}

// localTasks lists the tasks of the state folder's journal.
func localTasks(ctx context.Context, a *app, state, output string) error {
	j, err := openTaskJournal(ctx, state)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	defer j.Close()
	tasks, err := j.Tasks(ctx)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	now := time.Now()
	l := api.TaskList{Tasks: make([]api.Task, 0, len(tasks))}
	for _, t := range tasks {
		// The journal keeps no instructions and the CLI no alarm age.
		l.Tasks = append(l.Tasks, schedule.TaskDoc(t, "", now, 0))
	}
	if err := views.Tasks(a.stdout, output, &l, now); err != nil {
		return &exitError{code: 1, err: err}
	}
	return nil
}

// localTaskDone marks a task done in the state folder's journal, with an
// action in its audit trail as the daemon records one.
func localTaskDone(ctx context.Context, a *app, state, service, step, who, ref string) error {
	j, err := openTaskJournal(ctx, state)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	defer j.Close()
	t, err := j.DoneTask(ctx, service, step, who, ref)
	if errors.Is(err, journal.ErrNotFound) {
		return &exitError{code: 1, err: fmt.Errorf("no manual step %q of service %q in %s's journal: netrecon tasks --state %s lists them", step, service, state, state)}
	}
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	if _, err := j.RecordAction(ctx, journal.Action{Action: "task-done", Target: service + "/" + step, Who: who,
		Reason: "manual step done", Detail: "reference " + ref}); err != nil {
		return &exitError{code: 1, err: err}
	}
	fmt.Fprintf(a.stdout, "%s / %s done by %s, ref %s; the next netrecon apply --state %s configures the service once none of its steps is open\n", t.Service, t.Step, t.DoneBy, t.Reference, state)
	return nil
}
