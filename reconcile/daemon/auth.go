package daemon

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// The names the journal records for the tokens of api.token_file and
// api.read_token_file, which have no name of their own.
const (
	tokenFileName     = "api.token_file"
	readTokenFileName = "api.read_token_file"
)

// apiToken is one token the API takes.
type apiToken struct {
	name  string
	scope Scope
	value []byte
}

// caller is who a request comes from.
type caller struct {
	token string // the token's name; "" for an open read
	scope Scope
}

// callerOf finds the token of r's bearer among d's tokens. Every token is
// compared, each in constant time (SHA-256 digests, so that not even a
// token's length leaks through timing).
func (d *Daemon) callerOf(r *http.Request) (caller, bool) {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return caller{}, false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
	var found caller
	hit := false
	for _, t := range d.tokens {
		want := sha256.Sum256(t.value)
		if subtle.ConstantTimeCompare(sum[:], want[:]) == 1 && !hit {
			found, hit = caller{token: t.name, scope: t.scope}, true
		}
	}
	return found, hit
}

// authorize lets a request through to h when its token may do need (reads
// also when api.open_reads is set). A refusal is answered at once, before
// any body is read.
func (d *Daemon) authorize(need Scope, h func(http.ResponseWriter, *http.Request, caller)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, code, msg := d.allowed(r, need)
		switch code {
		case 0:
			h(w, r, c)
		case http.StatusForbidden:
			forbidden(w, msg)
		default:
			unauthorized(w, msg)
		}
	}
}

// allowed is authorize's decision: the caller, or the refusal's status
// (401 or 403) and why. The status page takes the same decision and words
// its refusal as a page.
func (d *Daemon) allowed(r *http.Request, need Scope) (caller, int, string) {
	c, ok := d.callerOf(r)
	switch {
	case ok && c.scope.allows(need):
		return c, 0, ""
	case need == ScopeRead && d.cfg.API.OpenReads:
		return caller{scope: ScopeRead}, 0, ""
	case ok:
		return caller{}, http.StatusForbidden, "token " + c.token + " has scope " + string(c.scope) + "; this needs " + string(need)
	case need == ScopeOrder:
		return caller{}, http.StatusUnauthorized, "missing or wrong bearer token: orders need a token of scope order (api.tokens)"
	}
	return caller{}, http.StatusUnauthorized, "missing or wrong bearer token: " + string(need) + " needs a token of scope " + string(need) +
		" or more (api.tokens, api.token_file for trigger, api.read_token_file for read)"
}

// unauthorized answers 401 without reading the request's body. Closing the
// connection is what keeps net/http from first reading (and discarding) up
// to 256 KiB of an unread body before it sends the answer: a client that
// trickles its body would otherwise hold its 401 back for as long as it
// likes.
func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="netrecon"`)
	w.Header().Set("Connection", "close")
	writeJSON(w, http.StatusUnauthorized, apiErr(msg))
}

// forbidden is unauthorized for a known token of too small a scope.
func forbidden(w http.ResponseWriter, msg string) {
	w.Header().Set("Connection", "close")
	writeJSON(w, http.StatusForbidden, apiErr(msg))
}
