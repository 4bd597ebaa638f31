package yangcheck_test

import (
	"context"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/netrecon/netrecon/diag"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/yangcheck"
)

// example returns the example intent repo as a map, for tests to change.
func example(t testing.TB) fstest.MapFS {
	t.Helper()
	src := os.DirFS("../intent-example")
	out := fstest.MapFS{}
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(src, p)
		out[p] = &fstest.MapFile{Data: b, Mode: 0o644}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// check renders fsys and checks it as validate does.
func check(t testing.TB, fsys fs.FS) diag.Diagnostics {
	t.Helper()
	b, diags, err := render.BuildFS(context.Background(), fsys, render.BuildOptions{})
	if err != nil || b == nil || b.Desired == nil {
		t.Fatalf("build: %v %v", err, diags)
	}
	repo, diags := yangcheck.ReadRepo(fsys)
	if len(diags) > 0 {
		t.Fatalf("ReadRepo: %v", diags)
	}
	locate := func(kind, platform, element string) (diag.Pos, bool) {
		return render.Locate(b.Intent, kind, platform, element)
	}
	return yangcheck.CheckIntent(b.Intent, b.Desired, repo, yangcheck.CheckOptions{Locate: locate})
}

func errorsOf(ds diag.Diagnostics) (errs, warns []diag.Diagnostic) {
	for _, d := range ds {
		if d.Severity == diag.Error {
			errs = append(errs, d)
		} else {
			warns = append(warns, d)
		}
	}
	return errs, warns
}

// The example, with the modules fetched from the lab's netconfd, passes;
// its Junos PE is reported as not checked.
func TestExamplePasses(t *testing.T) {
	errs, warns := errorsOf(check(t, example(t)))
	for _, e := range errs {
		t.Errorf("error: %s", e)
	}
	if len(warns) != 1 || !strings.Contains(warns[0].Summary, `platform "junos" (pe3-sin) is not checked`) {
		t.Errorf("warnings = %v, want the Junos platform's only", warns)
	}
}

// The seen case offline: the index says pe2-osa lacks
// ietf-ipv6-unicast-routing (as a netconfd started without it does), and
// the IPv6 static routes the example has on pe2-osa fail, naming the module,
// the services and their files.
func TestIPv6RoutesWithoutTheModuleFail(t *testing.T) {
	fsys := example(t)
	idx := fsys["schemas/ietf/index.yaml"]
	text := string(idx.Data)
	for _, mod := range []string{"ietf-ipv6-router-advertisements", "ietf-ipv6-unicast-routing"} {
		i := strings.Index(text, "  - name: "+mod+"\n")
		if i < 0 {
			t.Fatalf("index lacks %s", mod)
		}
		text = text[:i] + "  - name: " + mod + "\n    devices: [pe1-tyo]\n" + text[i+len("  - name: "+mod+"\n"):]
	}
	idx.Data = []byte(text)

	errs, _ := errorsOf(check(t, fsys))
	want := map[string]string{
		"umbrella-osaka-plant-routes": "services/umbrella/umbrella-osaka-plant-routes.yaml",
		"stark-osaka-routes":          "services/stark/stark-osaka-routes.yaml",
	}
	if len(errs) != len(want) {
		t.Fatalf("%d errors, want %d: %v", len(errs), len(want), errs)
	}
	for _, e := range errs {
		var svc string
		for s := range want {
			if strings.Contains(e.Summary, `service "`+s+`"`) {
				svc = s
			}
		}
		switch {
		case svc == "":
			t.Errorf("error names no expected service: %s", e)
		case e.Pos.File != want[svc]:
			t.Errorf("error at %s, want the service's file %s", e.Pos, want[svc])
		case !strings.Contains(e.Summary, `on device "pe2-osa"`) || !strings.Contains(e.Summary, "has no module ietf-ipv6-unicast-routing"):
			t.Errorf("error does not name the device and the missing module: %s", e)
		case !strings.Contains(e.Detail, "written by builtin/static-routing/ietf.xml.tmpl:") || !strings.Contains(e.Detail, "static-routes/ipv6"):
			t.Errorf("error does not give the template line and the path: %s", e.Detail)
		}
	}
}

// A problem in a template of the repo points at the template's line, and
// names the service.
func TestUserTemplateLine(t *testing.T) {
	fsys := example(t)
	f := fsys["service-types/internet-access/ietf.xml.tmpl"]
	f.Data = []byte(strings.Replace(string(f.Data), "<enabled>true</enabled>", "<enabled>yes</enabled>", 1))
	errs, _ := errorsOf(check(t, fsys))
	if len(errs) == 0 {
		t.Fatal("no error for <enabled>yes</enabled>")
	}
	line := 0
	for i, l := range strings.Split(string(f.Data), "\n") {
		if strings.Contains(l, "<enabled>yes") {
			line = i + 1
		}
	}
	for _, e := range errs {
		if e.Pos.File != "service-types/internet-access/ietf.xml.tmpl" || e.Pos.Line != line ||
			!strings.Contains(e.Summary, `service "initech-osaka"`) && !strings.Contains(e.Summary, `service "hooli-tokyo"`) && !strings.Contains(e.Summary, `service "stark-osaka"`) ||
			!strings.Contains(e.Summary, `"yes" is not a boolean`) {
			t.Errorf("error = %s, want it at the template's line %d naming the service", e, line)
		}
	}
}

// A platform without modules in the repo is reported, never silently
// passed.
func TestPlatformWithoutModulesIsUnchecked(t *testing.T) {
	fsys := example(t)
	for p := range fsys {
		if strings.HasPrefix(p, "schemas/") {
			delete(fsys, p)
		}
	}
	errs, warns := errorsOf(check(t, fsys))
	if len(errs) != 0 {
		t.Errorf("errors without modules: %v", errs)
	}
	found := false
	for _, w := range warns {
		if strings.Contains(w.Summary, `platform "ietf" (pe1-tyo, pe2-osa) is not checked: the repo has no schemas/ietf/`) {
			found = true
		}
	}
	if !found {
		t.Errorf("warnings %v lack the unchecked ietf platform", warns)
	}
}

// A device added after the fetch is checked against what every fetched
// device has, and that is said.
func TestUnfetchedDevice(t *testing.T) {
	fsys := example(t)
	idx := fsys["schemas/ietf/index.yaml"]
	idx.Data = []byte(strings.Replace(string(idx.Data), "  - pe2-osa\n", "", 1))
	errs, warns := errorsOf(check(t, fsys))
	if len(errs) != 0 {
		t.Errorf("errors: %v", errs)
	}
	found := false
	for _, w := range warns {
		if strings.Contains(w.Summary, "the modules of pe2-osa were not fetched") {
			found = true
		}
	}
	if !found {
		t.Errorf("warnings %v do not say pe2-osa was not fetched", warns)
	}
}
