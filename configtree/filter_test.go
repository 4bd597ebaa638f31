package configtree

import (
	"strings"
	"testing"
)

const liveConfig = `<interfaces xmlns="urn:if">
  <interface><name>ge-0/0/1.100</name><description>acme</description><speed>10g</speed></interface>
  <interface><name>ge-0/0/9</name><description>a human's</description></interface>
</interfaces>
<vlans xmlns="urn:v"><vlan><id>100</id><name>shared</name></vlan><vlan><id>200</id></vlan></vlans>
<system xmlns="urn:s"><hostname>pe1</hostname><location>tokyo</location></system>
<snmp xmlns="urn:snmp"><community>x</community></snmp>`

func TestFilterSelect(t *testing.T) {
	desired := merged(t, owned(t, "a", fragA), owned(t, "b", `<system xmlns="urn:s"><hostname>pe1</hostname></system>`))
	f := Filter(desired)
	golden(t, "filter/managed.xml", FilterXML(f)+"\n")

	live := mustParse(t, liveConfig)
	got := live.Select(f)
	want := mustParse(t, `<interfaces xmlns="urn:if">
  <interface><name>ge-0/0/1.100</name><description>acme</description><speed>10g</speed></interface>
</interfaces>
<vlans xmlns="urn:v"><vlan><id>100</id><name>shared</name></vlan></vlans>
<system xmlns="urn:s"><hostname>pe1</hostname></system>`)
	if !got.Equal(want) {
		t.Errorf("Select(Filter(desired)) =\n%s\nwant\n%s", got, want)
	}

	// The simulator reads the filter back from the wire.
	parsed, err := ParseFilter(strings.NewReader(FilterXML(f)), "filter")
	if err != nil {
		t.Fatal(err)
	}
	if again := live.Select(parsed); !again.Equal(want) {
		t.Errorf("Select(ParseFilter(FilterXML)) =\n%s", again)
	}
	if New().Select(f).Len() != 0 || live.Select(New()).Len() != 0 {
		t.Errorf("empty data or empty filter must select nothing")
	}
}

func TestSelectRFCCases(t *testing.T) {
	live := mustParse(t, liveConfig)
	tests := []struct{ name, filter, want string }{
		{"selection node", `<system/>`, `<system xmlns="urn:s"><hostname>pe1</hostname><location>tokyo</location></system>`},
		{"namespace must match", `<system xmlns="urn:other"/>`, ``},
		{"containment and selection", `<system><location/></system>`, `<system xmlns="urn:s"><location>tokyo</location></system>`},
		{"content match fails", `<system><hostname>pe2</hostname><location/></system>`, ``},
		{"content match and selection", `<system><hostname>pe1</hostname><location/></system>`, `<system xmlns="urn:s"><hostname>pe1</hostname><location>tokyo</location></system>`},
		{"two entries of one list", `<interfaces><interface><name>ge-0/0/9</name></interface><interface><name>ge-0/0/1.100</name><speed/></interface></interfaces>`,
			`<interfaces xmlns="urn:if"><interface><name>ge-0/0/9</name><description>a human's</description></interface><interface><name>ge-0/0/1.100</name><speed>10g</speed></interface></interfaces>`},
		{"containment selecting nothing", `<system><contact/></system>`, ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseFilter(strings.NewReader(tc.filter), "filter")
			if err != nil {
				t.Fatal(err)
			}
			if got, want := live.Select(f), mustParse(t, tc.want); !got.Equal(want) {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	a := mustParse(t, `<i xmlns="urn:i" xmlns:x="urn:t"><b>1</b><a>x:y</a></i>`)
	b := mustParse(t, `<i xmlns="urn:i"><a xmlns:other="urn:t">other:y</a><b>1</b></i>`)
	b.SetOwner("svc")
	if a.Fingerprint() != b.Fingerprint() {
		t.Errorf("equal trees, different fingerprints")
	}
	if len(a.Fingerprint()) != 64 {
		t.Errorf("not a hex sha256: %s", a.Fingerprint())
	}
	c := mustParse(t, `<i xmlns="urn:i"><a>y</a><b>1</b></i>`)
	if a.Fingerprint() == c.Fingerprint() {
		t.Errorf("an identity and a plain value must differ")
	}
}

// A filter has no schema: a content-match value with a declared prefix
// matches an identity-typed leaf by namespace, and a text leaf by its text.
func TestSelectContentMatchIdentityAndText(t *testing.T) {
	live := mustParse(t, `<i xmlns="urn:i"><type xmlns:t="urn:t">t:x</type></i><d xmlns="urn:d"><description>foo:bar</description><n>1</n></d>`)
	for _, tc := range []struct{ filter, want string }{
		{`<i><type xmlns:other="urn:t">other:x</type></i>`, `<i xmlns="urn:i"><type xmlns:t="urn:t">t:x</type></i>`},
		{`<i><type xmlns:t="urn:u">t:x</type></i>`, ``},
		{`<d xmlns:foo="urn:foo"><description>foo:bar</description><n/></d>`, `<d xmlns="urn:d"><description>foo:bar</description><n>1</n></d>`},
		{`<d><description>foo:bar</description><n/></d>`, `<d xmlns="urn:d"><description>foo:bar</description><n>1</n></d>`},
	} {
		f, err := ParseFilter(strings.NewReader(tc.filter), "filter")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := live.Select(f), mustParse(t, tc.want); !got.Equal(want) {
			t.Errorf("%s: got\n%s\nwant\n%s", tc.filter, got, want)
		}
	}
}
