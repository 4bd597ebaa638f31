package schema

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// TestUserDefinedType adds a service type to a repo on disk, with no Go code:
// a good instance loads with the type's defaults, a bad one fails with the
// message its schema gives.
func TestUserDefinedType(t *testing.T) {
	repo := baseRepo()
	repo["service-types/l2vpn/schema.cue"] = &fstest.MapFile{Data: []byte(`package l2vpn

// #Spec is a point-to-point Ethernet pseudowire.
#Spec: {
	devices!: [string, string]
	vcID!:    int & >0 & <4294967296
	// The MTU both ends agree on.
	mtu: *1500 | int & >=576 & <=9192 | error("mtu must be between 576 and 9192")
}
`)}
	repo["service-types/l2vpn/ietf.xml.tmpl"] = &fstest.MapFile{Data: []byte("<l2vpn>{{ .Spec.vcID }}</l2vpn>\n")}
	repo["service-types/l2vpn/type.yaml"] = &fstest.MapFile{Data: []byte("description: Ethernet pseudowire\n")}
	repo["services/good.yaml"] = &fstest.MapFile{Data: []byte(`apiVersion: netrecon.io/v1
kind: l2vpn
metadata: {name: pw-1, customer: acme}
spec: {devices: [pe1, pe1], vcID: 100}
`)}
	dir := writeRepo(t, repo)
	in, diags := loadDir(t, dir, Options{})
	if diags.HasErrors() {
		t.Fatalf("repo with a new type:\n%s", diagText(diags))
	}
	want := map[string]any{"devices": []any{"pe1", "pe1"}, "vcID": int64(100), "mtu": int64(1500)}
	if diff := cmp.Diff(want, in.Services[0].Spec); diff != "" {
		t.Errorf("spec (-want +got):\n%s", diff)
	}
	if tt := in.Types["l2vpn"]; tt == nil || tt.Description != "Ethernet pseudowire" || tt.Template["ietf"].Source == "" {
		t.Errorf("type = %+v", tt)
	}

	bad := `apiVersion: netrecon.io/v1
kind: l2vpn
metadata: {name: pw-2, customer: acme}
spec: {devices: [pe1, pe1], vcID: 101, mtu: 100000}
`
	if err := os.WriteFile(dir+"/services/bad.yaml", []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, diags = loadDir(t, dir, Options{})
	wantError(t, diags, "services/bad.yaml", "mtu must be between 576 and 9192")
	for _, d := range diags {
		if d.Pos.File == "services/bad.yaml" && (d.Pos.Line != 4 || d.Field != "spec.mtu" || !strings.Contains(d.Detail, "service-types/l2vpn/schema.cue:")) {
			t.Errorf("diagnostic not at the field, or without the schema's place: %v", d)
		}
	}
}
