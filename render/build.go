package render

import (
	"context"
	"io/fs"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/schema"
)

// Build is the intent of one revision built for the devices: the valid
// intent and the desired tree of each device rendered. It is the one
// pipeline (load → validate → render) the CLI, the daemon and the offline
// planner share.
type Build struct {
	Intent  *schema.Intent
	Desired map[string]*configtree.Tree // of the devices rendered; nil before Render
	// Steps are the manual steps of every service of the whole intent,
	// their data rendered (BuildFS, before any Scope).
	Steps []Step
	// r rendered Desired; Origins asks it again.
	r *Renderer
}

// BuildOptions say how BuildFS loads and renders.
type BuildOptions struct {
	Load   schema.Options // the loader: file size cap, the evaluator of user-defined types
	Budget Budget         // of every template execution; zero fields keep DefaultBudget's
	// Select names the devices to render once the intent is valid; nil
	// renders every device. Its error stops the build.
	Select func(*schema.Intent) ([]string, error)
	// Scope, when set, narrows the valid intent before anything is
	// rendered: the services configured at a moment and not held by their
	// manual steps (reconcile/schedule), given the steps of the whole
	// intent. Build.Intent is then the narrowed intent.
	Scope func(*schema.Intent, []Step) *schema.Intent
}

// BuildFS loads, validates and renders the intent in fsys. It returns a nil
// Build when the intent does not load, a Build without Desired when it does
// not render, and the diagnostics of every stage it ran, warnings included
// (sorted); the error is Select's.
func BuildFS(ctx context.Context, fsys fs.FS, opts BuildOptions) (*Build, schema.Diagnostics, error) {
	b, diags := Load(fsys, opts.Load)
	if diags.HasErrors() {
		return nil, diags, nil
	}
	var more schema.Diagnostics
	b.Steps, more = Steps(b.Intent)
	if more.HasErrors() {
		diags = append(diags, more...)
		diags.Sort()
		return nil, diags, nil
	}
	if opts.Scope != nil {
		b.Intent = opts.Scope(b.Intent, b.Steps)
	}
	var names []string
	if opts.Select != nil {
		var err error
		if names, err = opts.Select(b.Intent); err != nil {
			return nil, nil, err
		}
	}
	diags = append(diags, b.Render(ctx, names, opts.Budget)...)
	diags.Sort()
	return b, diags, nil
}

// Load is a build's first half: the intent in fsys, read and validated, with
// its diagnostics sorted. The offline planner loads two revisions before it
// knows which devices to render.
func Load(fsys fs.FS, opts schema.Options) (*Build, schema.Diagnostics) {
	in, diags := schema.Load(fsys, opts)
	diags.Sort()
	return &Build{Intent: in}, diags
}

// Render is a build's second half: it renders the named devices (nil: all)
// into b.Desired, which stays nil when a template fails its checks or a
// device does not render. The services of a template that passes render
// even when another template fails, so that one run reports every problem.
func (b *Build) Render(ctx context.Context, names []string, budget Budget) schema.Diagnostics {
	r, diags := New(b.Intent, WithBudget(budget))
	if r == nil {
		return diags
	}
	// New's diagnostics say why a template failed; its services need
	// not say it again.
	r.quietBroken = true
	desired, more := r.Devices(ctx, names)
	diags = append(diags, more...)
	diags.Sort()
	if !diags.HasErrors() {
		b.Desired, b.r = desired, r
	}
	return diags
}
