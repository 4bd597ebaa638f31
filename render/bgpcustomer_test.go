package render

import (
	"bytes"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/schema"
)

// TestIntentExampleBGPCustomer renders intent-example's bgp-customer through
// the real loader: its import filter holds exactly the prefixes of
// generated/irr/as-stark.yaml; with that file gone, validate warns and the
// filter denies everything (empty lists, no accepting term), never permits.
func TestIntentExampleBGPCustomer(t *testing.T) {
	const dev, gen = "pe3-sin", "generated/irr/as-stark.yaml"
	render := func(t *testing.T, fsys fstest.MapFS) (string, schema.Diagnostics) {
		t.Helper()
		in, diags := schema.Load(fsys, schema.Options{})
		if diags.HasErrors() {
			t.Fatalf("load: %v", diags)
		}
		r := mustNew(t, in)
		tree, ds := r.Device(dev)
		if len(ds) > 0 {
			t.Fatalf("render: %v", ds)
		}
		var b bytes.Buffer
		if err := tree.WriteXML(&b, configtree.WriteOptions{Indent: "  "}); err != nil {
			t.Fatal(err)
		}
		return b.String(), diags
	}
	fsys := mapFS(t, os.DirFS("../intent-example"))
	out, diags := render(t, fsys)
	for _, want := range []string{
		"<name>stark-singapore-transit-v4</name>\n      <prefix-list-item>\n        <name>203.0.113.0/26</name>",
		"<name>203.0.113.64/26</name>", "<name>2001:db8:1000::/48</name>",
		"<list_name>stark-singapore-transit-v4</list_name>", "<peer-as>64510</peer-as>", "<maximum>50</maximum>",
		"<authentication-key>(secret env:STARK_SINGAPORE_TRANSIT_KEY)</authentication-key>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("render of %s lacks %q:\n%s", dev, want, out)
		}
	}
	if len(diags) > 0 {
		t.Errorf("want no diagnostic; got %v", diags)
	}

	delete(fsys, gen)
	out, diags = render(t, fsys)
	if !strings.Contains(diagsText(diags), "no prefix list for AS-STARK yet") {
		t.Errorf("without %s: want a warning; got %v", gen, diags)
	}
	policy := out[strings.Index(out, "<policy-options>"):strings.Index(out, "</policy-options>")]
	for _, bad := range []string{"prefix-list-item", "irr-v4", "irr-v6", "<accept"} {
		if strings.Contains(policy, bad) {
			t.Errorf("without %s the filter must deny all, but has %q:\n%s", gen, bad, out)
		}
	}
	for _, want := range []string{"<name>stark-singapore-transit-v4</name>", "<name>reject-rest</name>", "<reject></reject>"} {
		if !strings.Contains(out, want) {
			t.Errorf("without %s: want %q:\n%s", gen, want, out)
		}
	}
}

func diagsText(ds schema.Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.String() + "\n")
	}
	return b.String()
}

// mapFS copies a folder into memory, so a test may change it.
func mapFS(t *testing.T, fsys fs.FS) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		out[p] = &fstest.MapFile{Data: data, Mode: 0o644}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
