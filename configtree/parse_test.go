package configtree

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseCanonicalGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/canonical/*.xml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no inputs: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			parse := Parse
			if strings.HasPrefix(filepath.Base(f), "data-") {
				parse = ParseData
			}
			tr, err := parse(strings.NewReader(string(src)), f, testKeys)
			if err != nil {
				t.Fatal(err)
			}
			tr.SetOwner("svc-a")
			out := xmlString(t, tr, WriteOptions{Indent: "  ", Owners: true})
			golden(t, strings.TrimSuffix(f, ".xml")[len("testdata/"):]+".golden", out)

			// Round trip: the canonical form parses to the same tree.
			back := mustParse(t, out)
			if !back.Equal(tr) {
				t.Errorf("round trip changed the tree:\n%s\nvs\n%s", back, tr)
			}
			if flat := xmlString(t, back, WriteOptions{}); flat != xmlString(t, mustParse(t, flat), WriteOptions{}) {
				t.Errorf("canonical form is not stable")
			}
		})
	}
}

func TestParseValues(t *testing.T) {
	tr := mustParse(t, `<interfaces xmlns="urn:if" xmlns:a="urn:types">
  <interface><name>ge-0/0/1.100</name><type>a:l2vlan</type>
    <description>  two  words
    </description>
    <ipv6><address><ip>2001:db8::1</ip></address></ipv6>
    <mtu>x:1500</mtu>
  </interface>
</interfaces>`)
	e := tr.Find("/interfaces/interface[name=ge-0/0/1.100]")
	if e == nil || !e.IsEntry() || e.Keys[0] != "name" {
		t.Fatalf("entry not found or not an entry: %+v", e)
	}
	typ := tr.Find("/interfaces/interface[name=ge-0/0/1.100]/type")
	if typ.Value != "l2vlan" || typ.ValueSpace != "urn:types" || typ.ValuePrefix != "a" {
		t.Errorf("identity: %+v", typ)
	}
	if d := tr.Find("/interfaces/interface[name=ge-0/0/1.100]/description"); d.Value != "two  words" {
		t.Errorf("description %q: want trimmed, inner blanks kept", d.Value)
	}
	if ip := tr.Find("/interfaces/interface[name=ge-0/0/1.100]/ipv6/address[ip=2001:db8::1]/ip"); ip == nil || ip.ValueSpace != "" {
		t.Errorf("IPv6 address must stay a plain value: %+v", ip)
	}
	if m := tr.Find("/interfaces/interface[name=ge-0/0/1.100]/mtu"); m.Value != "x:1500" || m.ValueSpace != "" {
		t.Errorf("undeclared prefix must stay plain: %+v", m)
	}
	if e.Space != "urn:if" {
		t.Errorf("namespace inherited: %q", e.Space)
	}
}

func TestParseIdentityPrefixesEqual(t *testing.T) {
	a := mustParse(t, `<interfaces xmlns="urn:if"><interface xmlns:ianaift="urn:iana"><name>x</name><type>ianaift:l2vlan</type></interface></interfaces>`)
	b := mustParse(t, `<if:interfaces xmlns:if="urn:if"><if:interface><if:name>x</if:name><if:type xmlns:t="urn:iana">t:l2vlan</if:type></if:interface></if:interfaces>`)
	if !a.Equal(b) {
		t.Errorf("same identity with other prefixes must be equal:\n%s\n%s", a, b)
	}
	if ch := Diff(a, b); len(ch) != 0 {
		t.Errorf("Diff found changes: %+v", ch)
	}
}

func TestParseData(t *testing.T) {
	for _, src := range []string{
		`<data xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><vlans xmlns="urn:v"><vlan><id>7</id></vlan></vlans></data>`,
		`<nc:config xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><vlans xmlns="urn:v"><vlan><id>7</id></vlan></vlans></nc:config>`,
	} {
		tr, err := ParseData(strings.NewReader(src), "reply", testKeys)
		if err != nil {
			t.Fatal(err)
		}
		if n := tr.Find("/vlans/vlan[id=7]"); n == nil || n.Space != "urn:v" {
			t.Errorf("%s: vlan not found: %s", src, tr)
		}
	}
	empty, err := ParseData(strings.NewReader(`<data/>`), "reply", nil)
	if err != nil || empty.Len() != 0 {
		t.Errorf("empty data: %v %v", empty, err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src string
		data      bool
		line, col int
		msg       string
	}{
		{"mismatched", "<a>\n<b></a>", false, 2, 4, "does not match <b> at 2:1"},
		{"malformed", "<a>\n  <b =1/></a>", false, 2, 6, "malformed XML"},
		{"unclosed", "<a>\n  <b>", false, 2, 6, "not closed"},
		{"mixed text first", "<a>text<b/></a>", false, 1, 8, "mixed content"},
		{"mixed element first", "<a><b/>text</a>", false, 1, 8, "mixed content"},
		{"text at top", "hello<a/>", false, 1, 1, "text outside"},
		{"missing key", "<interfaces>\n <interface><mtu>1</mtu></interface></interfaces>", false, 2, 2, "no key leaf <name>"},
		{"empty entry", "<interfaces><interface/></interfaces>", false, 1, 13, "no key leaf"},
		{"duplicate entry", "<interfaces><interface><name>a</name></interface>\n<interface><name>a</name></interface></interfaces>", false, 2, 1, "duplicate list entry interface[name=a]"},
		{"duplicate leaf", "<a><b>1</b><b>2</b></a>", false, 1, 12, "duplicate leaf b"},
		{"two namespaces", `<a><b xmlns="urn:x">1</b><b xmlns="urn:y">2</b></a>`, false, 1, 26, "namespace"},
		{"operation attribute", `<a xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><b nc:operation="delete"/></a>`, false, 1, 55, "not accepted"},
		{"plain attribute", `<a x="1"/>`, false, 1, 1, "attribute x"},
		{"undeclared prefix", `<p:a/>`, false, 1, 1, "undeclared namespace prefix"},
		{"doctype", `<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`, false, 1, 1, "directive"},
		{"unknown entity", `<a>&x;</a>`, false, 1, 7, "malformed XML"},
		{"data two wrappers", `<data/><data/>`, true, 1, 8, "second top-level"},
		{"data wrong wrapper", `<rpc-reply/>`, true, 1, 1, "expected <data> or <config>"},
		{"data nothing", ``, true, 1, 1, "expected a <data>"},
		{"deep", strings.Repeat("<a>", MaxDepth+1) + strings.Repeat("</a>", MaxDepth+1), false, 1, 3*MaxDepth + 1, "deeper than"},
		{"empty prefix", `<a xmlns:p=""/>`, false, 1, 1, "empty namespace"},
		{"utf8 column", "<a>\n  <é>1</é><é>2</é></a>", false, 2, 11, "duplicate leaf"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parse := Parse
			if tc.data {
				parse = ParseData
			}
			_, err := parse(strings.NewReader(tc.src), "frag.xml", testKeys)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("want *SyntaxError, got %v", err)
			}
			if se.Line != tc.line || se.Col != tc.col || !strings.Contains(se.Msg, tc.msg) {
				t.Errorf("got %v; want frag.xml:%d:%d: ...%s...", err, tc.line, tc.col, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "frag.xml:") {
				t.Errorf("error %q must start with the name", err)
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	r := strings.NewReader("<a>" + strings.Repeat(" ", MaxInputSize) + "</a>")
	_, err := Parse(r, "big", nil)
	var se *SyntaxError
	if !errors.As(err, &se) || !strings.Contains(se.Msg, "larger than") {
		t.Fatalf("want size error, got %v", err)
	}
}

func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/canonical/*.xml")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err == nil {
			f.Add(string(b))
		}
	}
	f.Add(`<interfaces xmlns="urn:if" xmlns:p="urn:p"><interface><name>a]=\</name><type>p:x</type></interface></interfaces>`)
	f.Add(`<routing><route><type>static</type><name>d</name></route></routing><a/>`)
	f.Fuzz(func(t *testing.T, src string) {
		tr, err := Parse(strings.NewReader(src), "fuzz", testKeys)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error is not a *SyntaxError: %v", err)
			}
			return
		}
		var b strings.Builder
		if err := tr.WriteXML(&b, WriteOptions{Indent: " ", Owners: true}); err != nil {
			t.Fatalf("WriteXML of a parsed tree: %v", err)
		}
		back, err := Parse(strings.NewReader(b.String()), "rewritten", testKeys)
		if err != nil {
			t.Fatalf("canonical output does not parse: %v\n%s", err, b.String())
		}
		if !back.Equal(tr) {
			t.Fatalf("round trip changed the tree:\n%s\n%s", b.String(), back)
		}
		tr.Walk(func(p Path, n *Node) bool {
			if got := tr.Find(p); got != n {
				t.Fatalf("Find(%q) = %p, Walk gave %p", p, got, n)
			}
			return true
		})
	})
}

// A device that writes its configuration without a namespace of its own
// (Junos) inside <data> in the NETCONF namespace: the nodes have no namespace,
// like the same configuration rendered by netrecon.
func TestParseDataDropsInheritedNetconfNamespace(t *testing.T) {
	reply := `<data xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><configuration><system><host-name>pe3</host-name></system></configuration></data>`
	got, err := ParseData(strings.NewReader(reply), "reply", nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Parse(strings.NewReader(`<configuration><system><host-name>pe3</host-name></system></configuration>`), "rendered", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(want) || len(Diff(got, want)) != 0 {
		t.Errorf("got %s, want %s", got, want)
	}
}
