package rpsl

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestParseObjects(t *testing.T) {
	b, err := os.ReadFile("testdata/objects.rpsl")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Parse(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 {
		t.Fatalf("got %d objects, want 2", len(objs))
	}
	set := objs[0]
	if set.Class() != "as-set" || set.Key() != "AS-NETRECON-CUSTOMERS" || set.Line() != 2 {
		t.Errorf("class %q key %q line %d", set.Class(), set.Key(), set.Line())
	}
	if v, _ := set.Get("MEMBERS"); v != "AS64501, AS-ACME\n\nAS64502" {
		t.Errorf("members value %q", v)
	}
	if got, want := set.List("members"), []string{"AS64501", "AS-ACME", "AS64502"}; !slices.Equal(got, want) {
		t.Errorf("List = %q, want %q", got, want)
	}
	if a := set.Attrs[3]; a.Name != "mnt-by" || a.Line != 7 {
		t.Errorf("attr 3 = %+v", a)
	}
	if r := objs[1]; r.RouteKey() != "192.0.2.0/24AS64501" {
		t.Errorf("route key %q", r.RouteKey())
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		line, col  int
		msg        string
	}{
		{"continuation first", " members: AS1\n", 1, 1, "continuation"},
		{"continuation after blank", "as-set: AS-X\n\n+ AS1\n", 3, 1, "continuation"},
		{"no colon", "as-set: AS-X\nmembers AS1\n", 2, 1, "not an attribute"},
		{"name starts with digit", "1as: x\n", 1, 1, "bad attribute name"},
		{"bad character", "as-set: AS-X\nmem bers: AS1\n", 2, 4, "bad attribute name"},
		{"empty name", ": x\n", 1, 1, "bad attribute name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.text)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *SyntaxError", err)
			}
			if se.Line != tc.line || se.Col != tc.col || !strings.Contains(se.Msg, tc.msg) {
				t.Errorf("got %d:%d %q, want %d:%d ~%q", se.Line, se.Col, se.Msg, tc.line, tc.col, tc.msg)
			}
		})
	}
}

func TestParseCRLFAndComments(t *testing.T) {
	objs, err := Parse("# header\r\nmntner: MAINT-X\r\nauth: BCRYPT-PW $2a$10$abc # hash\r\n   \r\naut-num: AS1\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 {
		t.Fatalf("got %d objects, want 2 (a white-space line separates)", len(objs))
	}
	if v, _ := objs[0].Get("auth"); v != "BCRYPT-PW $2a$10$abc" {
		t.Errorf("auth %q", v)
	}
}

func TestFormatIsStableAndRoundTrips(t *testing.T) {
	b, err := os.ReadFile("testdata/objects.rpsl")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Parse(string(b))
	if err != nil {
		t.Fatal(err)
	}
	want := "as-set:         AS-NETRECON-CUSTOMERS\n" +
		"descr:          Customers of the netrecon test network\n" +
		"members:        AS64501, AS-ACME\n" +
		"+\n" +
		"                AS64502\n" +
		"mnt-by:         MAINT-NETRECON\n" +
		"source:         JPIRR\n"
	if got := Format(objs[0]); got != want {
		t.Errorf("Format =\n%s\nwant\n%s", got, want)
	}
	back, err := Parse(FormatAll(objs))
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(objs) {
		t.Fatalf("round trip: %d objects, want %d", len(back), len(objs))
	}
	for i := range objs {
		if !objs[i].Equal(back[i]) {
			t.Errorf("object %d changed in the round trip:\n%s\n%s", i, objs[i], back[i])
		}
	}
}

func TestSetKeepsOtherAttributes(t *testing.T) {
	o, err := ParseOne("as-set: AS-P\ndescr: d\nmembers: AS1\nmembers: AS2\nmnt-by: M\n")
	if err != nil {
		t.Fatal(err)
	}
	o.Set("members", "AS1, AS2, AS3")
	want := []string{"as-set", "descr", "members", "mnt-by"}
	var got []string
	for _, a := range o.Attrs {
		got = append(got, a.Name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("attributes %q, want %q", got, want)
	}
	if v, _ := o.Get("members"); v != "AS1, AS2, AS3" {
		t.Errorf("members %q", v)
	}
	o.Set("remarks", "new")
	if o.Attrs[len(o.Attrs)-1].Name != "remarks" {
		t.Errorf("Set of a new attribute does not append: %v", o.Attrs)
	}
	o.Set("descr")
	if _, ok := o.Get("descr"); ok {
		t.Error("Set with no values kept the attribute")
	}
	if got := o.GetAll("members"); len(got) != 1 {
		t.Errorf("GetAll = %q", got)
	}
}

func TestValidSetName(t *testing.T) {
	for _, tc := range []struct {
		class, name string
		ok          bool
	}{
		{"as-set", "AS-ACME", true},
		{"as-set", "as-acme_2", true},
		{"as-set", "AS64500:AS-ACME", true},
		{"as-set", "AS-ACME:AS-CUST:AS64501", true},
		{"route-set", "RS-FOO", true},
		{"as-set", "RS-FOO", false},
		{"as-set", "AS64500", false},
		{"as-set", "AS64500:AS64501", false},
		{"as-set", "AS-", false},
		{"as-set", "AS-FOO-", false},
		{"as-set", "AS-FO O", false},
		{"as-set", "AS-ANY", false},
		{"as-set", "AS64500::AS-X", false},
		{"as-set", "", false},
		{"mntner", "AS-X", false},
		{"as-set", "ACME", false},
	} {
		err := ValidSetName(tc.class, tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("ValidSetName(%q, %q) = %v, want ok=%v", tc.class, tc.name, err, tc.ok)
		}
	}
}

func TestParseASN(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"AS64500", 64500, true},
		{"as1", 1, true},
		{"AS4294967295", 4294967295, true},
		{"AS4294967296", 0, false},
		{"AS", 0, false},
		{"AS01", 0, false},
		{"AS1.10", 0, false},
		{"64500", 0, false},
		{"AS-FOO", 0, false},
	} {
		got, err := ParseASN(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseASN(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if tc.ok && FormatASN(got) != strings.ToUpper(tc.in) {
			t.Errorf("FormatASN(%d) = %q", got, FormatASN(got))
		}
	}
	if !PrivateASN(64512) || !PrivateASN(4200000000) || PrivateASN(64500) || PrivateASN(65535) {
		t.Error("PrivateASN disagrees with RFC 6996")
	}
}

// FuzzParse: Parse never panics, its errors have a position, and what it
// accepts prints and parses back to equal objects.
func FuzzParse(f *testing.F) {
	b, err := os.ReadFile("testdata/objects.rpsl")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Add("as-set: AS-X\n+\n members: AS1\n")
	f.Add(" x\n")
	f.Add("a:\n\tb\n\n\nc: d # e\r\n")
	f.Fuzz(func(t *testing.T, text string) {
		objs, err := Parse(text)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 || se.Col < 1 {
				t.Fatalf("error without a position: %v", err)
			}
			return
		}
		back, err := Parse(FormatAll(objs))
		if err != nil {
			t.Fatalf("printed objects do not parse: %v\n%s", err, FormatAll(objs))
		}
		if len(back) != len(objs) {
			t.Fatalf("round trip: %d objects, want %d\n%s", len(back), len(objs), FormatAll(objs))
		}
		for i := range objs {
			if !objs[i].Equal(back[i]) {
				t.Fatalf("round trip changed object %d:\n%+v\n%+v", i, objs[i].Attrs, back[i].Attrs)
			}
		}
	})
}

// FuzzValidSetName: never panics; what it accepts has a set component.
func FuzzValidSetName(f *testing.F) {
	f.Add("AS64500:AS-ACME")
	f.Add("AS-")
	f.Fuzz(func(t *testing.T, name string) {
		if ValidSetName("as-set", name) == nil && !strings.Contains(strings.ToUpper(name), "AS-") {
			t.Fatalf("accepted %q without an AS- component", name)
		}
	})
}
