// Command netrecon keeps PE routers equal to the service intent in a Git repo.
//
// This package only wires: flags, which driver serves which platform, which view
// prints. Each verb lives in its own file as a newXxxCmd constructor.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// exitError carries a process exit code through cobra's error return, so a
// verb can say "1: invalid" or "2: changes present" without calling os.Exit.
type exitError struct {
	code int
	err  error // may be nil when the output already said everything
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// app holds what every verb shares: the streams it prints to.
type app struct {
	stdout io.Writer
	stderr io.Writer
	stdin  io.Reader
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "netrecon",
		Short: "Keep PE routers equal to the service intent in a Git repo",
		Long: `netrecon turns customer services, written as YAML in a Git repo, into device
configuration: it validates the intent, shows the plan of what will change on each
device, and applies it over NETCONF under an exclusive lock.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetIn(a.stdin)
	root.AddCommand(commands(a)...)
	return root
}

// run executes the CLI and returns the process exit code.
func run(a *app, args []string) int {
	root := newRootCmd(a)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(a.stderr, "netrecon: %v\n", ee.err)
		}
		return ee.code
	}
	// Cobra's own errors (unknown flag, wrong arguments) are usage errors.
	fmt.Fprintf(a.stderr, "netrecon: %v\n", err)
	return 2
}

func main() {
	os.Exit(run(&app{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin}, os.Args[1:]))
}
