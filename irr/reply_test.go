package irr

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A reply speaks of several objects: each is read on its own, with the
// registry's errors for the one refused.
func TestReplyOutcome(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "reply-failed.txt"))
	if err != nil {
		t.Fatal(err)
	}
	r := Reply{Body: string(b)}
	acc, ref, text := r.Outcome("as-set", "AS-NETRECON-CUSTOMERS")
	if acc || !ref || !strings.Contains(text, "ERROR: Authorisation for [as-set] AS-NETRECON-CUSTOMERS failed") {
		t.Errorf("refused object: %v %v %q", acc, ref, text)
	}
	if acc, ref, _ := r.Outcome("as-set", "as-other"); !acc || ref {
		t.Errorf("accepted object: %v %v", acc, ref)
	}
	if acc, ref, _ := r.Outcome("as-set", "AS-ELSE"); acc || ref {
		t.Errorf("an object the reply does not name: %v %v", acc, ref)
	}
	bad := Reply{Body: "JPIRR could not process your submission.\n\nERROR: not a mail message\n"}
	if _, ref, text := bad.Outcome("as-set", "AS-X"); !ref || !strings.Contains(text, "not a mail message") {
		t.Errorf("an unprocessed submission: %v %q", ref, text)
	}
}

func FuzzReplyOutcome(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "reply-failed.txt"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b), "AS-NETRECON-CUSTOMERS")
	f.Fuzz(func(t *testing.T, body, key string) {
		acc, ref, _ := Reply{Body: body}.Outcome("as-set", key)
		if acc && ref {
			t.Fatal("accepted and refused at once")
		}
	})
}

func FuzzParseGenerated(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "as-acme.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseGenerated(b)
		if err != nil {
			return
		}
		// What parses prints back to the same prefixes.
		again, err := parseGenerated(render("AS-X", []string{"X"}, p))
		if err != nil || again.Len() != p.Len() {
			t.Fatalf("round trip: %v, %d → %d", err, p.Len(), again.Len())
		}
	})
}
