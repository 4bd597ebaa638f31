package diag

import "testing"

func TestSuggest(t *testing.T) {
	for _, tc := range []struct {
		word       string
		candidates []string
		want       string
	}{
		{"vlna", []string{"device", "interface", "vlan", "vrf"}, "vlan"},                 // transposition
		{"descripton", []string{"description", "device"}, "description"},                 // deletion
		{"juniper", []string{"ietf", "junos"}, "junos"},                                  // same start, too many edits
		{"Junos", []string{"ietf", "junos"}, "junos"},                                    // case
		{"outptu", []string{"help", "max-file-size", "output", "schema-time"}, "output"}, // flag
		{"atachment-circuit", []string{"attachment-circuit", "internet-access", "static-routing"}, "attachment-circuit"},
		{"pe1-tky", []string{"pe1-tyo", "pe2-osa", "pe3-sin"}, "pe1-tyo"},
		{"nope", []string{"help", "output"}, ""},
		{"cisco", []string{"ietf", "junos"}, ""},
		{"ab", []string{"ac", "b"}, ""},                  // two letters: only a case change counts
		{"vrf", []string{"vrf", "vlan"}, ""},             // known: nothing to suggest
		{"dev", []string{"device", "devices"}, ""},       // three letters are a start, not a name
		{"sta", []string{"static-routing", "stark"}, ""}, // too short to go by its start
		{"stati", []string{"static-routing", "stats"}, "stats"},
		{"statix-r", []string{"static-routing", "static-rib"}, "static-rib"},
		{"stat-x", []string{"static-a", "static-b"}, ""}, // starts like two
		{"", []string{"a"}, ""},
		{"x", nil, ""},
	} {
		if got := Suggest(tc.word, tc.candidates); got != tc.want {
			t.Errorf("Suggest(%q, %q) = %q, want %q", tc.word, tc.candidates, got, tc.want)
		}
	}
	if got, want := DidYouMean("vlna", []string{"vlan"}), `did you mean "vlan"?`; got != want {
		t.Errorf("DidYouMean = %q, want %q", got, want)
	}
	if got := DidYouMean("zzzz", []string{"vlan"}); got != "" {
		t.Errorf("DidYouMean of nothing close = %q", got)
	}
}

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"", "abc", 3}, {"abc", "", 3}, {"vlan", "vlan", 0},
		{"vlna", "vlan", 1}, {"kitten", "sitting", 3}, {"ca", "abc", 3},
		{"größe", "grösse", 2}, // runes, not bytes
	} {
		if got := distance(tc.a, tc.b); got != tc.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func FuzzSuggest(f *testing.F) {
	f.Add("vlna", "vlan")
	f.Add("größe", "grösse")
	f.Add("\xff\xfe", "a")
	f.Fuzz(func(t *testing.T, word, candidate string) {
		d := distance(word, candidate)
		if d != distance(candidate, word) {
			t.Fatalf("distance is not symmetric for %q, %q", word, candidate)
		}
		if d > max(len([]rune(word)), len([]rune(candidate))) || distance(word, word) != 0 {
			t.Fatalf("distance(%q, %q) = %d", word, candidate, d)
		}
		if s := Suggest(word, []string{candidate}); s != "" && s != candidate {
			t.Fatalf("Suggest made up %q", s)
		}
	})
}
