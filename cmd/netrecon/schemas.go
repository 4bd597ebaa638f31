package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/schema"
	"github.com/netrecon/netrecon/yangcheck"
)

func newSchemasCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schemas",
		Short: "Manage the YANG modules validate checks rendered configuration against",
	}
	cmd.AddCommand(newSchemasFetchCmd(a))
	return cmd
}

func newSchemasFetchCmd(a *app) *cobra.Command {
	var (
		df        deviceFlags
		lf        loadFlags
		platforms []string
	)
	cmd := &cobra.Command{
		Use:   "fetch [DIR]",
		Short: "Read the YANG modules the inventory's devices advertise into the intent repo",
		Long: `Fetch connects to each device of the inventory in DIR, reads the YANG modules it
advertises (its hello, and /netconf-state/schemas with <get-schema>, RFC 6022) and
writes them into the intent repo as schemas/<platform>/<module>@<revision>.yang,
with schemas/<platform>/index.yaml saying which modules, features and deviations
which devices advertise. Commit the folder: validate then checks every rendered
configuration against it, offline, in the pull request. A module already in the
folder in the same revision is not read again (a revision names one text).

Devices of one platform that advertise different modules (one lacks a module,
runs another revision, or has other features) are reported; the index records
each device's own modules, and validate checks each device against them.

Exit status: 0 fetched, 1 a device could not be read (the others are written), 2
usage or I/O error.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			if err := df.check(); err != nil {
				return &exitError{code: 2, err: err}
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			in, diags, err := loadDir(dir, lf.options())
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if diags.HasErrors() {
				printDiags(a, diags)
				return &exitError{code: 1, err: errors.New("the intent is not valid; no device was read")}
			}
			names, err := df.selected(in)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			byPlatform := map[string][]string{}
			for _, n := range names {
				p := in.Device(n).Platform
				if len(platforms) == 0 || slices.Contains(platforms, p) {
					byPlatform[p] = append(byPlatform[p], n)
				}
			}
			if len(byPlatform) == 0 {
				return &exitError{code: 2, err: fmt.Errorf("no device of platform %q selected", platforms)}
			}
			dialer, err := df.dialer(in, dir, a.stderr)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			open := func(ctx context.Context, name string) (yangcheck.Source, func(), error) {
				return openSchemaSource(ctx, dialer, in.Device(name))
			}
			// Modules an earlier fetch wrote are not read again
			// (FetchOptions.Have).
			have, err := haveModules(dir)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			failed := 0
			for _, p := range slices.Sorted(maps.Keys(byPlatform)) {
				devs := byPlatform[p]
				res := yangcheck.Fetch(ctx, yangcheck.FetchOptions{Platform: p, Devices: devs, Open: open, Concurrency: df.concurrency, Have: have[p]})
				for _, n := range slices.Sorted(maps.Keys(res.Failed)) {
					fmt.Fprintf(a.stderr, "%s: not fetched: %v\n", n, res.Failed[n])
					failed++
				}
				for _, w := range res.Warnings {
					fmt.Fprintf(a.stderr, "warning: %s\n", w)
				}
				for _, d := range res.Disagreements {
					fmt.Fprintf(a.stderr, "warning: platform %s: devices disagree: %s\n", p, d)
				}
				if res.Platform == nil {
					continue
				}
				if err := res.Platform.Write(dir); err != nil {
					return &exitError{code: 2, err: fmt.Errorf("write %s: %w", filepath.Join(dir, yangcheck.Dir, p), err)}
				}
				fmt.Fprintf(a.stdout, "platform %s: %d modules from %d devices in %s\n", p, len(res.Platform.Files), len(res.Platform.Index.Devices), filepath.Join(dir, yangcheck.Dir, p))
			}
			if failed > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d of %d devices not fetched", failed, len(names))}
			}
			return nil
		},
	}
	df.register(cmd)
	lf.register(cmd)
	cmd.Flags().StringSliceVar(&platforms, "platform", nil, "only devices of these platforms (comma-separated)")
	return cmd
}

// haveModules reads the module texts already in dir's schemas/, by platform
// and name@revision. A platform folder that does not read is fetched anew.
func haveModules(dir string) (map[string]map[string]string, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open intent repo: %w", err)
	}
	defer root.Close()
	repo, _ := yangcheck.ReadRepo(root.FS())
	out := map[string]map[string]string{}
	for p, pl := range repo {
		out[p] = map[string]string{}
		for file, text := range pl.Files {
			out[p][strings.TrimSuffix(file, ".yang")] = text
		}
	}
	return out, nil
}

// schemaReader is what a driver offers for fetching YANG modules;
// drivers/netconf's Session has it.
type schemaReader interface {
	Capabilities() reconcile.Capabilities
	Schemas(ctx context.Context) ([]netconf.Schema, error)
	GetSchema(ctx context.Context, identifier, version, format string) (string, error)
}

// openSchemaSource dials dev with the CLI's dialer and adapts the session
// to yangcheck.Source.
func openSchemaSource(ctx context.Context, dialer reconcile.Dialer, dev *schema.Device) (yangcheck.Source, func(), error) {
	d, err := dialer.Dial(ctx, dev)
	if err != nil {
		return nil, nil, err
	}
	done := func() { _ = d.Close(context.Background()) }
	sr, ok := d.(schemaReader)
	if u, wrapped := d.(interface{ Unwrap() reconcile.Device }); !ok && wrapped {
		// Below secretref's layer: modules hold no secret.
		sr, ok = u.Unwrap().(schemaReader)
	}
	if !ok {
		done()
		return nil, nil, fmt.Errorf("%s: its driver cannot read YANG modules", dev.Name)
	}
	return schemaSource{sr}, done, nil
}

type schemaSource struct{ r schemaReader }

func (s schemaSource) Capabilities() []string { return s.r.Capabilities().Raw }

func (s schemaSource) Schemas(ctx context.Context) ([]yangcheck.SchemaInfo, error) {
	list, err := s.r.Schemas(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]yangcheck.SchemaInfo, len(list))
	for i, sc := range list {
		out[i] = yangcheck.SchemaInfo{Identifier: sc.Identifier, Version: sc.Version, Format: sc.Format, Namespace: sc.Namespace, NETCONF: sc.ServedByNETCONF()}
	}
	return out, nil
}

func (s schemaSource) GetSchema(ctx context.Context, identifier, version string) (string, error) {
	text, err := s.r.GetSchema(ctx, identifier, version, "yang")
	if errors.Is(err, netconf.ErrSchemaNotFound) {
		return "", fmt.Errorf("%w (%w)", err, yangcheck.ErrNoSchema)
	}
	return text, err
}
