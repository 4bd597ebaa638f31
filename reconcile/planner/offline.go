package planner

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/plan"
	"github.com/netrecon/netrecon/reconcile/schedule"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
)

// Revision is one side of an offline plan: a revision and its valid intent.
type Revision struct {
	Source plan.Source
	Intent *schema.Intent
}

// Offline plans the change from base to head without touching a device: what
// merging a pull request would do to the devices' managed configuration.
//
// changed lists the repo paths that differ between the revisions (from gitsrc);
// only the devices those files concern are rendered, so a one-file pull request
// costs one device's render, not the network's. A nil changed means "anything
// may have changed": every device is rendered.
func Offline(ctx context.Context, base, head Revision, changed []string) (*plan.Plan, schema.Diagnostics) {
	names := Touched(base.Intent, head.Intent, changed)
	from, diags := renderSide(ctx, base.Intent, names)
	to, more := renderSide(ctx, head.Intent, names)
	diags = append(diags, more...)
	if diags.HasErrors() {
		return nil, diags
	}
	p := &plan.Plan{Mode: plan.Offline, Base: base.Source, Head: head.Source}
	for _, name := range names {
		platform := ""
		if d := head.Intent.Device(name); d != nil {
			platform = d.Platform
		} else if d := base.Intent.Device(name); d != nil {
			platform = d.Platform
		}
		p.Devices = append(p.Devices, plan.DiffDevice(name, platform, from[name], to[name], plan.Offline))
	}
	return p, diags
}

// renderSide renders the named devices that exist in the intent.
func renderSide(ctx context.Context, in *schema.Intent, names []string) (map[string]*configtree.Tree, schema.Diagnostics) {
	var present []string
	for _, n := range names {
		if in.Device(n) != nil {
			present = append(present, n)
		}
	}
	if len(present) == 0 {
		return map[string]*configtree.Tree{}, nil
	}
	b := &render.Build{Intent: in}
	diags := b.Render(ctx, present, render.Budget{})
	return b.Desired, diags
}

// Touched returns the devices whose desired configuration may differ between
// two intents, given the paths that changed (nil: all devices of both).
func Touched(base, head *schema.Intent, changed []string) []string {
	set := map[string]bool{}
	if changed == nil {
		for _, in := range []*schema.Intent{base, head} {
			for _, d := range in.Devices {
				set[d.Name] = true
			}
		}
		return slices.Sorted(maps.Keys(set))
	}
	files := map[string]bool{}
	for _, p := range changed {
		files[p] = true
	}
	for _, in := range []*schema.Intent{base, head} {
		// A changed user-defined type (schema, template, keys) concerns every
		// device that runs a service of that type.
		changedTypes := map[string]bool{}
		for kind, t := range in.Types {
			if t.BuiltIn || t.Dir == "" {
				continue
			}
			for _, p := range changed {
				if strings.HasPrefix(p, t.Dir+"/") {
					changedTypes[kind] = true
				}
			}
		}
		for _, s := range in.Services {
			if files[s.Pos.File] || changedTypes[s.Kind] || files[prefixListOf(s)] {
				for _, d := range s.Devices {
					set[d] = true
				}
			}
		}
	}
	// A device whose entry changed (platform, say) renders differently.
	for _, d := range head.Devices {
		if b := base.Device(d.Name); b == nil || !sameDevice(b, d) {
			set[d.Name] = true
		}
	}
	for _, d := range base.Devices {
		if head.Device(d.Name) == nil {
			set[d.Name] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// prefixListOf is the generated prefix list file a service renders from:
// a bgp-customer's filter is its import's list, so a commit of `irr sync`
// that changes only that file changes the service's devices. "" for others.
func prefixListOf(s *schema.Service) string {
	if s.Kind != schema.KindBGPCustomer {
		return ""
	}
	imp, _ := s.Spec["import"].(string)
	if imp == "" {
		return ""
	}
	return schema.PrefixListFile(imp)
}

func sameDevice(a, b *schema.Device) bool {
	x, y := *a, *b
	x.Pos, y.Pos = schema.Pos{}, schema.Pos{}
	return reflect.DeepEqual(x, y)
}

// OfflineAt is Offline for the moment at: each side planned with the
// services configured then (schedule.At), and head's boundaries after at
// planned one by one, each from the state before it (plan.Boundaries). A
// zero at plans the intent as written, windows ignored; so does an intent
// without windows, whose plan then carries no At.
func OfflineAt(ctx context.Context, base, head Revision, changed []string, at time.Time) (*plan.Plan, schema.Diagnostics) {
	// An intent that schedules nothing plans the same at any moment: its
	// plan says no moment, so that it stays the same value run after run.
	if at.IsZero() || !schedule.Scheduled(base.Intent) && !schedule.Scheduled(head.Intent) {
		return Offline(ctx, base, head, changed)
	}
	full := head.Intent
	base.Intent = schedule.At(base.Intent, at, nil)
	head.Intent = schedule.At(head.Intent, at, nil)
	p, diags := Offline(ctx, base, head, changed)
	if diags.HasErrors() {
		return nil, diags
	}
	p.At = at
	prev := head.Intent
	for _, b := range schedule.Boundaries(full, at) {
		next := schedule.At(full, b.At, nil)
		// Only the files of the services that start or stop differ, so
		// only their devices are rendered.
		bp, more := Offline(ctx, Revision{Intent: prev}, Revision{Intent: next}, b.Files)
		diags = append(diags, more...)
		if more.HasErrors() {
			return nil, diags
		}
		pb := plan.Boundary{At: b.At, Devices: bp.Devices}
		for _, e := range b.Events {
			if e.Activate {
				pb.Activate = append(pb.Activate, e.Service)
			} else {
				pb.Deactivate = append(pb.Deactivate, e.Service)
			}
		}
		p.Boundaries = append(p.Boundaries, pb)
		prev = next
	}
	return p, diags
}
