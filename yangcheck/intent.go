package yangcheck

import (
	"context"
	"fmt"
	"path"
	"runtime"
	"slices"
	"strings"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/diag"
	"github.com/netrecon/netrecon/pool"
	"github.com/netrecon/netrecon/schema"
)

// CheckOptions are what CheckIntent needs besides the trees.
type CheckOptions struct {
	// Locate finds the template line that writes element in the template of
	// a service kind for a platform (render.Locate). inRepo says whether the
	// file is one of the intent repo (and not netrecon's built-in
	// templates). nil: no template lines.
	Locate func(kind, platform, element string) (pos diag.Pos, inRepo bool)
}

// CheckIntent checks the desired tree of every rendered device against its
// platform's modules in repo, and returns the problems as Diagnostics: an
// error per problem and owning service, naming the device, the service and
// its file, the template line when Locate finds it, and the YANG path.
// What is not checked is said, as warnings: a platform without modules in
// the repo, a platform whose configuration has no XML namespaces (Junos),
// devices the platform's modules were not fetched from, and what Compile
// could not take in. Devices with the same modules share one compiled Set.
func CheckIntent(in *schema.Intent, desired map[string]*configtree.Tree, repo Repo, o CheckOptions) diag.Diagnostics {
	var diags diag.Diagnostics
	sets := map[string]*Set{}
	keys := map[string]string{} // a device's module set, by platform and device
	type platformState struct {
		devices, unfetched []*schema.Device
		noNamespace        bool
	}
	platforms := map[string]*platformState{}
	var order []string
	type job struct {
		dev  *schema.Device
		tree *configtree.Tree
		set  *Set
	}
	var jobs []job
	for _, dev := range in.Devices {
		tree := desired[dev.Name]
		if tree == nil {
			continue
		}
		ps := platforms[dev.Platform]
		if ps == nil {
			ps = &platformState{}
			platforms[dev.Platform] = ps
			order = append(order, dev.Platform)
		}
		ps.devices = append(ps.devices, dev)
		if hasNoNamespace(tree) {
			ps.noNamespace = true
			continue
		}
		p := repo[dev.Platform]
		if p == nil {
			continue
		}
		who := dev.Name
		if !p.Known(dev.Name) {
			ps.unfetched = append(ps.unfetched, dev)
			who = ""
		}
		kk := dev.Platform + "\x00" + who
		key, ok := keys[kk]
		if !ok {
			key = dev.Platform + "\x00" + p.key(who)
			keys[kk] = key
		}
		set := sets[key]
		if set == nil {
			mods, features := p.ModulesFor(who)
			set = Compile(mods, features)
			sets[key] = set
			for _, n := range set.Notes() {
				diags = append(diags, diag.Diagnostic{
					Severity: diag.Warning,
					Pos:      diag.Pos{File: path.Join(Dir, dev.Platform, IndexFile)},
					Summary:  "YANG: " + n,
					Detail:   "what depends on it is not checked, or is reported as unknown",
				})
			}
		}
		jobs = append(jobs, job{dev, tree, set})
	}
	// A Set is only read once built: the trees are checked in parallel,
	// as render renders them.
	results := make([]diag.Diagnostics, len(jobs))
	pool.Pool{Limit: runtime.GOMAXPROCS(0)}.Run(context.Background(), len(jobs), func(_ context.Context, _, i int) {
		j := jobs[i]
		for _, pr := range j.set.Check(j.tree) {
			results[i] = append(results[i], problemDiags(in, j.dev, pr, o)...)
		}
	}, func(i int, err error) {
		results[i] = diag.Diagnostics{}.Errorf(jobs[i].dev.Pos, "", "YANG: checking device %q: internal error: %v", jobs[i].dev.Name, err.(*pool.PanicError).Value)
	})
	for _, r := range results {
		diags = append(diags, r...)
	}
	for _, name := range order {
		ps := platforms[name]
		first := ps.devices[0]
		switch {
		case ps.noNamespace:
			diags = append(diags, diag.Diagnostic{
				Severity: diag.Warning, Pos: first.Pos,
				Summary: fmt.Sprintf("YANG: platform %q (%s) is not checked: its configuration XML has no namespaces, and YANG modules are matched by namespace", name, deviceNames(ps.devices)),
				Detail:  "its devices check the configuration at commit; plan shows it for review",
			})
		case repo[name] == nil:
			diags = append(diags, diag.Diagnostic{
				Severity: diag.Warning, Pos: first.Pos,
				Summary: fmt.Sprintf("YANG: platform %q (%s) is not checked: the repo has no %s/%s/", name, deviceNames(ps.devices), Dir, name),
				Detail:  fmt.Sprintf("run `netrecon schemas fetch` against its devices and commit %s/%s/", Dir, name),
			})
		case len(ps.unfetched) > 0:
			diags = append(diags, diag.Diagnostic{
				Severity: diag.Warning, Pos: ps.unfetched[0].Pos,
				Summary: fmt.Sprintf("YANG: the modules of %s were not fetched: checked against the modules every fetched %q device has", deviceNames(ps.unfetched), name),
				Detail:  "run `netrecon schemas fetch` to record their own",
			})
		}
	}
	return diags
}

// hasNoNamespace reports whether a tree's configuration is XML without
// namespaces, as Junos's is.
func hasNoNamespace(t *configtree.Tree) bool {
	if t == nil || t.Root == nil {
		return false
	}
	for _, n := range t.Root.Children {
		if n.Space == "" {
			return true
		}
	}
	return false
}

func deviceNames(devs []*schema.Device) string {
	const most = 5
	var names []string
	for i, d := range devs {
		if i == most {
			names = append(names, fmt.Sprintf("and %d more", len(devs)-most))
			break
		}
		names = append(names, d.Name)
	}
	return strings.Join(names, ", ")
}

// problemDiags turns a Problem into one Diagnostic per owning service.
func problemDiags(in *schema.Intent, dev *schema.Device, pr Problem, o CheckOptions) diag.Diagnostics {
	where := fmt.Sprintf("YANG path %s, at %s", pr.SchemaPath, pr.Path)
	if pr.SchemaPath == "" {
		where = "at " + string(pr.Path)
	}
	owners := pr.Owners
	if len(owners) == 0 {
		return diag.Diagnostics{{
			Severity: diag.Error, Pos: dev.Pos,
			Summary: fmt.Sprintf("YANG: on device %q: %s", dev.Name, pr.Summary),
			Detail:  pr.Detail + "; " + where,
		}}
	}
	var out diag.Diagnostics
	for _, owner := range owners {
		svc := service(in, owner)
		d := diag.Diagnostic{Severity: diag.Error, Pos: dev.Pos}
		label := fmt.Sprintf("service %q", owner)
		if svc != nil {
			d.Pos = svc.Pos
			label = fmt.Sprintf("service %q (%s)", owner, svc.Pos)
		}
		tmpl := ""
		if svc != nil && o.Locate != nil && pr.Element != "" {
			pos, inRepo := o.Locate(svc.Kind, dev.Platform, pr.Element)
			if pos.Line > 0 {
				tmpl = "; written by " + pos.String()
				if inRepo {
					// The element is the template's: point at it, and
					// name the service in the summary.
					d.Pos = pos
					tmpl = ""
				}
			}
		}
		d.Summary = fmt.Sprintf("YANG: on device %q, %s: %s", dev.Name, label, pr.Summary)
		d.Detail = pr.Detail + "; " + where + tmpl
		out = append(out, d)
	}
	return out
}

func service(in *schema.Intent, name string) *schema.Service {
	i, ok := slices.BinarySearchFunc(in.Services, name, func(s *schema.Service, n string) int { return strings.Compare(s.Name, n) })
	if ok {
		return in.Services[i]
	}
	for _, s := range in.Services {
		if s.Name == name {
			return s
		}
	}
	return nil
}
