package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/netrecon/netrecon/reconcile/daemon"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/views"
)

func newHistoryCmd(a *app) *cobra.Command {
	var (
		output string
		limit  int
		df     deviceFlags
	)
	open := func(cmd *cobra.Command) (*journal.Journal, error) {
		if !contains(views.HistoryFormats, output) {
			return nil, &exitError{code: 2, err: fmt.Errorf("--output %q is not supported. Supported formats are %q", output, views.HistoryFormats)}
		}
		state, err := df.state()
		if err != nil {
			return nil, &exitError{code: 1, err: err}
		}
		p := journalPath(state)
		if _, err := os.Stat(p); err != nil {
			if err := journal.CheckLost(p, stateSigns(state)...); err != nil {
				return nil, &exitError{code: 1, err: err}
			}
			return nil, &exitError{code: 1, err: fmt.Errorf("no journal in %s: nothing was applied from this state folder yet", state)}
		}
		j, err := openJournal(cmd.Context(), state)
		if err != nil {
			return nil, &exitError{code: 1, err: err}
		}
		return j, nil
	}
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List the runs netrecon recorded, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			j, err := open(cmd)
			if err != nil {
				return err
			}
			defer j.Close()
			runs, err := j.Runs(cmd.Context(), limit)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			if err := views.History(a.stdout, output, runViews(runs)); err != nil {
				return &exitError{code: 1, err: err}
			}
			return nil
		},
	}
	show := &cobra.Command{
		Use:   "show RUN",
		Short: "Show one run: each device's phases with timings, and the changes its plan had for it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("run %q: want a run number from netrecon history", args[0])}
			}
			j, err := open(cmd)
			if err != nil {
				return err
			}
			defer j.Close()
			r, err := j.Run(cmd.Context(), journal.RunID(id))
			if errors.Is(err, journal.ErrNotFound) {
				return &exitError{code: 1, err: fmt.Errorf("no run %d in the journal", id)}
			}
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			v := runView(*r)
			if err := views.RunDetail(a.stdout, output, &v); err != nil {
				return &exitError{code: 1, err: err}
			}
			return nil
		},
	}
	for _, c := range []*cobra.Command{cmd, show} {
		c.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
		c.Flags().StringVar(&df.stateDir, "state", "", "netrecon's state folder (default: $XDG_STATE_HOME/netrecon)")
	}
	cmd.Flags().IntVar(&limit, "limit", 50, "how many runs to list")
	cmd.AddCommand(show)
	return cmd
}

// runView is a journal run as views shows it: the daemon API's document,
// with what only the state folder's owner may read.
func runView(r journal.Run) views.Run { return daemon.RunView(&r, true) }

// runViews is runView over a list.
func runViews(runs []journal.Run) []views.Run {
	out := make([]views.Run, len(runs))
	for i, r := range runs {
		out[i] = runView(r)
	}
	return out
}
