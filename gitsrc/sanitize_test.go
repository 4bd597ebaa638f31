package gitsrc

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestScrub(t *testing.T) {
	secrets := []string{"p@ss/w0rd", "tok3n"}
	for _, tc := range []struct{ in, want string }{
		{"fetch https://u:pw@git.example.com/r.git: 401", "fetch https://***@git.example.com/r.git: 401"},
		{`Get "https://tok@git.example.com/r.git/info/refs"`, `Get "https://***@git.example.com/r.git/info/refs"`},
		{"ssh://git@host/r.git and http://a:b@c/d", "ssh://***@host/r.git and http://***@c/d"},
		{"server said: bad token tok3n", "server said: bad token ***"},
		{"escaped p%40ss%2Fw0rd in a query", "escaped *** in a query"},
		{"path-escaped p@ss%2Fw0rd", "path-escaped ***"},
		{"no URL here: user@host", "no URL here: user@host"},
		{"https://git.example.com/r.git", "https://git.example.com/r.git"},
	} {
		if got := scrub(tc.in, secrets); got != tc.want {
			t.Errorf("scrub(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

// TestSanitizedErrorKeepsClass: scrubbing the text must not stop callers from
// telling a timeout from other failures, and must not let errors.As reach the
// raw error.
func TestSanitizedErrorKeepsClass(t *testing.T) {
	raw := &rawError{msg: "https://u:tok3n@h/r: timeout"}
	err := sanitize(fmt.Errorf("fetch: %w: %w", raw, context.DeadlineExceeded), []string{"tok3n"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Error("errors.Is lost the deadline")
	}
	var re *rawError
	if errors.As(err, &re) {
		t.Error("errors.As reached the raw error and its credentials")
	}
	if want := "fetch: https://***@h/r: timeout: context deadline exceeded"; err.Error() != want {
		t.Errorf("Error() = %q; want %q", err, want)
	}
	if sanitize(nil, nil) != nil {
		t.Error("sanitize(nil) is not nil")
	}
}

type rawError struct{ msg string }

func (e *rawError) Error() string { return e.msg }

// FuzzScrub: whatever the text, a secret given to scrub does not survive it,
// verbatim or percent-encoded. Secrets with '*' are left out: the mask itself
// is made of it.
func FuzzScrub(f *testing.F) {
	f.Add("fetch https://u:tok3n@h/r: 401 tok3n", "tok3n")
	f.Add("p%40ss%2F p@ss/ p@ss%2F", "p@ss/")
	f.Add("ababa", "aba")
	f.Fuzz(func(t *testing.T, text, secret string) {
		if secret == "" || strings.Contains(secret, "*") {
			return
		}
		got := scrub(text, []string{secret})
		for _, form := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret)} {
			if strings.Contains(got, form) {
				t.Fatalf("scrub(%q, %q) = %q still holds %q", text, secret, got, form)
			}
		}
	})
}
