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
	// Services name IANA zones (metadata.activate: "2026-12-05 09:00
	// Asia/Tokyo"); the embedded database makes their meaning the same on a
	// machine or container without /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/netrecon/netrecon/diag"
	"github.com/netrecon/netrecon/schema"
	"github.com/netrecon/netrecon/views"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// exitError carries a process exit code through cobra's error return, so a
// verb can say "1: invalid" or "2: changes present" without calling os.Exit.
type exitError struct {
	code int
	err  error // may be nil when the output already said everything
	// diags are the problems in what a person wrote behind err (an invalid
	// revision): text on stderr, or in the JSON error under --output json.
	diags schema.Diagnostics
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
	root.SetFlagErrorFunc(suggestFlag)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetIn(a.stdin)
	root.AddCommand(commands(a)...)
	return root
}

// run executes the CLI and returns the process exit code. An error goes to
// stderr for a person; under --output json it also goes to stdout as the
// one JSON error document (docs/json-output.md), so that a tool reading
// stdout always gets an answer.
func run(a *app, args []string) int {
	root := newRootCmd(a)
	if err := singleDashLong(root, args); err != nil {
		fmt.Fprintf(a.stderr, "netrecon: %v\n", err)
		return 2
	}
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return 0
	}
	// Cobra's own errors (unknown flag, wrong arguments) are usage errors.
	code, diags := 2, schema.Diagnostics(nil)
	var ee *exitError
	if errors.As(err, &ee) {
		code, err, diags = ee.code, ee.err, ee.diags
	}
	if err == nil {
		return code // the output said everything
	}
	fmt.Fprintf(a.stderr, "netrecon: %v\n", err)
	if len(diags) > 0 {
		printDiags(a, diags)
	}
	if cmd != nil && wantsJSON(cmd, args) {
		diags.Sort()
		_ = views.ErrorJSON(a.stdout, err.Error(), code, diags)
	}
	return code
}

// wantsJSON reports whether the command was asked for --output json. The
// arguments are read too: when flag parsing failed, the flag may be unset.
func wantsJSON(cmd *cobra.Command, args []string) bool {
	f := cmd.Flags().Lookup("output")
	if f == nil {
		return false
	}
	if f.Value.String() == "json" {
		return true
	}
	for i, arg := range args {
		switch {
		case arg == "--":
			return false
		case arg == "-ojson", arg == "-o=json", arg == "--output=json":
			return true
		case (arg == "-o" || arg == "--output") && i+1 < len(args) && args[i+1] == "json":
			return true
		}
	}
	return false
}

// suggestFlag adds the closest known flag to cobra's "unknown flag" error.
func suggestFlag(cmd *cobra.Command, err error) error {
	var unknown interface {
		GetSpecifiedName() string
		GetSpecifiedShortnames() string
	}
	if !errors.As(err, &unknown) {
		return err
	}
	var names, shorts []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		names = append(names, f.Name)
		if f.Shorthand != "" {
			shorts = append(shorts, f.Shorthand)
		}
	})
	if unknown.GetSpecifiedShortnames() != "" {
		if s := diag.Suggest(unknown.GetSpecifiedName(), shorts); s != "" {
			return fmt.Errorf("%w (did you mean -%s?)", err, s)
		}
		return err
	}
	if s := diag.Suggest(unknown.GetSpecifiedName(), names); s != "" {
		return fmt.Errorf("%w (did you mean --%s?)", err, s)
	}
	return err
}

func main() {
	stop := startCPUProfile(os.Stderr)
	code := run(&app{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin}, os.Args[1:])
	stop()
	os.Exit(code)
}
