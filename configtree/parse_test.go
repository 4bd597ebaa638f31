package configtree

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
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
		{"no namespace next to one", `<a><b>1</b><b xmlns="urn:y">2</b></a>`, false, 1, 12, `in namespace ""`},
		// Past indexFrom children, siblings are checked through maps.
		{"duplicate among many", "<interfaces>" + manyEntries(9) + "\n<interface><name>e3</name></interface></interfaces>", false, 2, 1, "duplicate list entry interface[name=e3]"},
		{"two namespaces among many", "<a>" + manyLeaves(9) + "\n<l4 xmlns=\"urn:y\">2</l4></a>", false, 2, 1, "namespace"},
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
		checkNamespaces(t, b.String())
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

// A value is an identity only on an identity-typed leaf: "xml:lang" in a
// description is text, and must not come back as a binding of the reserved
// xml namespace to another prefix (Namespaces in XML 1.0 §3), which
// devices refuse as malformed.
func TestParseXMLLangDescriptionRoundTrips(t *testing.T) {
	tr := mustParse(t, `<interfaces xmlns="urn:if"><interface><name>x</name><description>xml:lang</description></interface></interfaces>`)
	d := tr.Find("/interfaces/interface[name=x]/description")
	if d == nil || d.Value != "xml:lang" || d.ValueSpace != "" {
		t.Fatalf("description must stay the text xml:lang: %+v", d)
	}
	out := xmlString(t, tr, WriteOptions{})
	checkNamespaces(t, out)
	if !strings.Contains(out, "<description>xml:lang</description>") {
		t.Errorf("written as %s", out)
	}
	if back := mustParse(t, out); !back.Equal(tr) {
		t.Errorf("round trip changed the tree:\n%s\n%s", out, back)
	}
}

// On an identity-typed leaf the reserved prefix still needs no declaration.
func TestParseXMLPrefixIdentityNotRebound(t *testing.T) {
	tr := mustParse(t, `<interfaces xmlns="urn:if"><interface><name>x</name><type>xml:lang</type></interface></interfaces>`)
	out := xmlString(t, tr, WriteOptions{})
	checkNamespaces(t, out)
	if !strings.Contains(out, "<type>xml:lang</type>") {
		t.Errorf("written as %s", out)
	}
	if back := mustParse(t, out); !back.Equal(tr) {
		t.Errorf("round trip changed the tree:\n%s\n%s", out, back)
	}
}

func TestParseDeclaredPrefixInTextIsNotIdentity(t *testing.T) {
	a := mustParse(t, `<interfaces xmlns="urn:if" xmlns:foo="urn:foo"><interface><name>x</name><description>foo:bar</description></interface></interfaces>`)
	d := a.Find("/interfaces/interface[name=x]/description")
	if d == nil || d.Value != "foo:bar" || d.ValueSpace != "" {
		t.Fatalf("a description is text whatever prefixes are declared: %+v", d)
	}
	// The same text with another prefix in scope is another description.
	b := mustParse(t, `<interfaces xmlns="urn:if" xmlns:foo="urn:other"><interface><name>x</name><description>foo:bar</description></interface></interfaces>`)
	c := mustParse(t, `<interfaces xmlns="urn:if" xmlns:baz="urn:foo"><interface><name>x</name><description>baz:bar</description></interface></interfaces>`)
	if !a.Equal(b) || a.Equal(c) {
		t.Errorf("descriptions compare as text: a=b %v (want true), a=c %v (want false)", a.Equal(b), a.Equal(c))
	}
	if out := xmlString(t, a, WriteOptions{}); strings.Contains(out, "xmlns:") {
		t.Errorf("no prefix to declare for text: %s", out)
	}
}

func TestParseIdentityEqualUnderOtherPrefix(t *testing.T) {
	const iana = "urn:ietf:params:xml:ns:yang:iana-if-type"
	a := mustParse(t, `<interfaces xmlns="urn:if"><interface><name>x</name><type xmlns:ianaift="`+iana+`">ianaift:ethernetCsmacd</type></interface></interfaces>`)
	b := mustParse(t, `<interfaces xmlns="urn:if" xmlns:t="`+iana+`"><interface><name>x</name><type>t:ethernetCsmacd</type></interface></interfaces>`)
	typ := a.Find("/interfaces/interface[name=x]/type")
	if typ == nil || typ.Value != "ethernetCsmacd" || typ.ValueSpace != iana {
		t.Fatalf("identity: %+v", typ)
	}
	if !a.Equal(b) || len(Diff(a, b)) != 0 {
		t.Errorf("the same identity under two prefixes must be equal:\n%s\n%s", a, b)
	}
	checkNamespaces(t, xmlString(t, a, WriteOptions{}))
}

// An identity-typed leaf-list: both markers on one path.
func TestParseIdentityLeafList(t *testing.T) {
	keys := Keys{"/s/feature": {LeafListKey, IdentityLeaf}}
	tr, err := Parse(strings.NewReader(`<s xmlns:a="urn:a" xmlns:b="urn:b"><feature>a:x</feature><feature>b:y</feature></s>`), "ll", keys)
	if err != nil {
		t.Fatal(err)
	}
	var spaces []string
	for _, c := range tr.Root.Children[0].Children {
		if !slices.Equal(c.Keys, []string{LeafListKey}) {
			t.Errorf("leaf-list instance keys %v", c.Keys)
		}
		spaces = append(spaces, c.ValueSpace)
	}
	if !slices.Equal(spaces, []string{"urn:a", "urn:b"}) {
		t.Errorf("value spaces %v", spaces)
	}
}

func TestParseRefusesReservedNamespaceBindings(t *testing.T) {
	for _, src := range []string{
		`<a xmlns:id="http://www.w3.org/XML/1998/namespace"/>`,
		`<a xmlns="http://www.w3.org/XML/1998/namespace"/>`,
		`<a xmlns:p="http://www.w3.org/2000/xmlns/"/>`,
		`<a xmlns="http://www.w3.org/2000/xmlns/"/>`,
		`<xml:a/>`,
	} {
		_, err := Parse(strings.NewReader(src), "frag.xml", testKeys)
		var se *SyntaxError
		if !errors.As(err, &se) || se.Line != 1 || se.Col != 1 {
			t.Errorf("%s: want a positioned *SyntaxError, got %v", src, err)
		}
	}
}

func TestWriteRefusesReservedNamespaces(t *testing.T) {
	for _, n := range []*Node{
		{Name: "a", Space: xmlNS},
		{Name: "a", Leaf: true, Value: "x", ValueSpace: xmlnsNS},
	} {
		tr := &Tree{Root: &Node{Children: []*Node{n}}}
		if err := tr.WriteXML(io.Discard, WriteOptions{}); err == nil {
			t.Errorf("%+v: written", n)
		}
	}
}

// checkNamespaces fails when doc binds a prefix or the default namespace
// against Namespaces in XML 1.0 §3: the xml namespace only to "xml", the
// xmlns namespace never. encoding/xml does not check these.
func checkNamespaces(t testing.TB, doc string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(doc))
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, doc)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		for _, a := range se.Attr {
			decl := a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns")
			if !decl {
				continue
			}
			switch {
			case a.Value == xmlnsNS,
				a.Value == xmlNS && !(a.Name.Space == "xmlns" && a.Name.Local == "xml"),
				a.Name.Space == "xmlns" && a.Name.Local == "xml" && a.Value != xmlNS:
				t.Fatalf("reserved namespace bound by %s=%q:\n%s", qname(a.Name), a.Value, doc)
			}
		}
	}
}

// TestParseOffsets: each node's offset is where its start tag begins, and
// the tree is Parse's.
func TestParseOffsets(t *testing.T) {
	src := "<a xmlns=\"urn:x\">\n  <b>1</b>\n  <c><d/></c>\n</a>\n"
	tree, offs, err := ParseOffsets(strings.NewReader(src), "x", nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Parse(strings.NewReader(src), "x", nil)
	if tree.String() != want.String() {
		t.Errorf("tree %s, want %s", tree, want)
	}
	got := map[string]int{}
	tree.Walk(func(p Path, n *Node) bool {
		got[string(p)] = offs[n]
		if !strings.HasPrefix(src[offs[n]:], "<"+n.Name) {
			t.Errorf("%s at offset %d: %q", p, offs[n], src[offs[n]:])
		}
		return true
	})
	if len(got) != 4 || got["/a/c/d"] != strings.Index(src, "<d/>") {
		t.Errorf("offsets %v", got)
	}
	if _, _, err := ParseOffsets(strings.NewReader("<a>"), "x", nil); err == nil {
		t.Error("malformed input: no error")
	}
}

func manyEntries(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "<interface><name>e%d</name></interface>", i)
	}
	return b.String()
}

func manyLeaves(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "<l%d>1</l%d>", i, i)
	}
	return b.String()
}
