package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/netrecon/netrecon/diag"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
	"github.com/netrecon/netrecon/views"
	"github.com/netrecon/netrecon/yangcheck"
)

// loadFlags are the loader's knobs, shared by the verbs that read an intent repo.
type loadFlags struct {
	maxFileSize int64
	budget      schema.Budget
}

func (f *loadFlags) register(cmd *cobra.Command) {
	cmd.Flags().Int64Var(&f.maxFileSize, "max-file-size", 1<<20, "largest intent file read, in bytes")
	d := schema.DefaultBudget()
	cmd.Flags().DurationVar(&f.budget.Time, "schema-time", d.Time, "CPU time budget of each user-defined service type's evaluation")
	cmd.Flags().Int64Var(&f.budget.Memory, "schema-memory", d.Memory, "memory budget of each user-defined service type's evaluation, in bytes")
}

func (f *loadFlags) options() schema.Options {
	return schema.Options{MaxFileSize: f.maxFileSize, Evaluator: sandboxEvaluator(f.budget)}
}

// evaluateVerb is the hidden verb a sandbox runs: this binary, re-executed.
const evaluateVerb = "internal-evaluate"

// sandboxEvaluator evaluates user-defined service types in a child process of
// this binary, within budget. Without a path to the binary the sandbox has no
// command and fails every user type: closed, never unbounded.
func sandboxEvaluator(budget schema.Budget) schema.Evaluator {
	s := &schema.Sandbox{Budget: budget}
	if exe, err := os.Executable(); err == nil {
		s.Command = []string{exe, evaluateVerb}
	}
	return s.Evaluate
}

// newEvaluateCmd is the child's side of sandboxEvaluator.
func newEvaluateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:    evaluateVerb,
		Short:  "Evaluate one user-defined service type read from stdin (used by netrecon itself)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return schema.ServeSandbox(a.stdin, a.stdout)
		},
	}
}

// loadDir reads and validates the intent repo in dir.
func loadDir(dir string, opts schema.Options) (*schema.Intent, schema.Diagnostics, error) {
	root, opts, err := openRepo(dir, opts)
	if err != nil {
		return nil, nil, err
	}
	defer root.Close()
	b, diags := render.Load(root.FS(), opts)
	return b.Intent, diags, nil
}

// validateDir is what validate checks: the intent repo in dir loaded,
// validated and rendered for every device, as the planner would
// (render.BuildFS), so that a template error or a value no device can take
// fails here and not in the plan.
func validateDir(ctx context.Context, dir string, opts schema.Options) (schema.Diagnostics, error) {
	_, diags, err := buildDir(ctx, dir, render.BuildOptions{Load: opts})
	return diags, err
}

// buildDir loads, validates and renders the intent repo in dir
// (render.BuildFS).
func buildDir(ctx context.Context, dir string, opts render.BuildOptions) (*render.Build, schema.Diagnostics, error) {
	root, lo, err := openRepo(dir, opts.Load)
	if err != nil {
		return nil, nil, err
	}
	defer root.Close()
	opts.Load = lo
	return render.BuildFS(ctx, root.FS(), opts)
}

// checkYANG holds the rendered configuration of b to the YANG modules in
// dir's schemas/ folder (yangcheck.CheckIntent).
func checkYANG(dir string, b *render.Build) (schema.Diagnostics, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open intent repo: %w", err)
	}
	defer root.Close()
	repo, diags := yangcheck.ReadRepo(root.FS())
	locate := func(kind, platform, element string) (diag.Pos, bool) {
		return render.Locate(b.Intent, kind, platform, element)
	}
	return append(diags, yangcheck.CheckIntent(b.Intent, b.Desired, repo, yangcheck.CheckOptions{Locate: locate})...), nil
}

// openRepo opens the intent repo in dir as an os.Root, so that no path in
// it, symbolic links included, reaches outside it.
func openRepo(dir string, opts schema.Options) (*os.Root, schema.Options, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, opts, fmt.Errorf("open intent repo: %w", err)
	}
	if opts.RepoDir == "" {
		// So that a credential file inside the repo is refused: a secret
		// never lives in the intent repo.
		if opts.RepoDir, err = filepath.Abs(dir); err != nil {
			root.Close()
			return nil, opts, err
		}
	}
	return root, opts, nil
}

func newValidateCmd(a *app) *cobra.Command {
	var (
		output string
		lf     loadFlags
		cf     cacheFlags
	)
	cmd := &cobra.Command{
		Use:   "validate [PATH...]",
		Short: "Check an intent repo: schemas, references, clashes between services, templates, YANG",
		Long: `Validate reads every document of the intent repo in PATH (default: the current
folder), checks it against its service type's schema, then checks the documents
against each other (unique names, devices that exist, no two services on one
VLAN, the address plan of every VRF). It checks every template against its
type's schema (each field it reads must be declared), then renders every service
on every device as the plan would: a template error, a missing field or a value
no device can take fails here. It checks each
rendered configuration against the YANG modules its platform's devices advertise,
as 'netrecon schemas fetch' recorded them in schemas/<platform>/ (a platform
without them is reported as not checked). It reports every problem with file,
line, column and field.

PATH may be files or folders inside the repo: the repo is found by walking up
from them, validated whole, and only the problems of those files (or of others
clashing with them) are reported.

Files unchanged since an earlier run are taken from the document cache (see
'netrecon cache'): their result is the same, and only files without a problem are
kept. The checks across documents run on the whole repo; only their clean verdict on
exactly the same files, an earlier run's, is taken from the cache.

Exit status: 0 valid, 1 invalid, 2 usage or I/O error.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"."}
			}
			if !contains(views.DiagnosticFormats, output) {
				return &exitError{code: 2, err: fmt.Errorf("--output %q is not supported. Supported formats are %q", output, views.DiagnosticFormats)}
			}
			defer batchGC()()
			sel, err := selectPaths(args)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			opts := lf.options()
			opts.Cache = cf.open(a)
			defer closeCache(a, opts.Cache)
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			b, diags, err := buildDir(ctx, sel.root, render.BuildOptions{Load: opts})
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if b != nil && b.Desired != nil {
				more, err := checkYANG(sel.root, b)
				if err != nil {
					return &exitError{code: 2, err: err}
				}
				diags = append(diags, more...)
				diags.Sort()
			}
			diags, others := sel.split(diags)
			if err := views.Diagnostics(a.stdout, output, diags); err != nil {
				return &exitError{code: 2, err: err}
			}
			if others.HasErrors() {
				fmt.Fprintf(a.stderr, "netrecon: the repo has more problems, in other files; netrecon validate %s shows them all\n", sel.root)
			}
			if diags.HasErrors() {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, json or github (annotations for GitHub Actions)")
	lf.register(cmd)
	cf.register(cmd)
	return cmd
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// printDiags writes diagnostics for a person, on stderr.
func printDiags(a *app, diags schema.Diagnostics) {
	diags.Sort()
	_ = views.Diagnostics(a.stderr, "text", diags)
}
