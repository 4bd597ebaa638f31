package daemon

import (
	"bytes"
	"net/http/httptest"
	"net/url"
	"testing"
)

// FuzzActionBody posts arbitrary bodies to every operator action and
// arbitrary paging queries to the lists: the answer is a client error or a
// success, never a panic or a 500.
func FuzzActionBody(f *testing.F) {
	for _, seed := range []string{
		`{"reason": "x", "device": "pe1-tyo"}`,
		`{"reason": "x", "devices": ["pe1-tyo", "nope"]}`,
		`{"reason": "x", "alarm": 1}`,
		`{"reason": "x", "commit": "0123"}`,
		`{"reason": ""}`, `{}`, `[]`, `null`, `{"reason": 1}`, `{"unknown": true}`, "",
	} {
		f.Add(seed, "limit=5&before=3")
	}
	l := newLab(f, exampleFiles(f))
	l.withWriteToken()
	l.cfg.API.OpenReads = true
	d := l.start(Options{})
	h := d.Handler()
	f.Fuzz(func(t *testing.T, body, query string) {
		for _, a := range []string{"accept-history", "heal", "acknowledge", "pause", "resume"} {
			r := httptest.NewRequest("POST", "/api/v1/actions/"+a, bytes.NewReader([]byte(body)))
			r.Header.Set("Authorization", "Bearer "+opsToken)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code >= 500 {
				t.Fatalf("%s with %q = %d: %s", a, body, w.Code, w.Body)
			}
		}
		q := url.PathEscape(query)
		for _, p := range []string{"/api/v1/runs", "/api/v1/passes", "/api/v1/alarms", "/api/v1/actions"} {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", p+"?"+q, nil))
			if w.Code >= 500 {
				t.Fatalf("%s?%s = %d: %s", p, q, w.Code, w.Body)
			}
		}
	})
}

// FuzzOrderBody reads arbitrary bodies as orders: a decoded order or an
// error that names the body (with a line:column where there is one), never
// a panic.
func FuzzOrderBody(f *testing.F) {
	for _, seed := range []string{annexOrder, `{"order_id": "x", "bogus": 1}`, "{\n  \"order_id\": \"x\",\n  oops\n}",
		`{"order_id": 5}`, ``, `{} {}`, `[]`, `null`, `{"fields": {"vlan": 1e400}}`, "{\"name\": \"\xff\"}"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		_, err := decodeOrder(bytes.NewReader([]byte(body)))
		if err != nil && !bytes.HasPrefix([]byte(err.Error()), []byte("body")) {
			t.Fatalf("%q: error %q does not name the body", body, err)
		}
	})
}
