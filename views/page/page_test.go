package page

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// The page's own files: parsed templates, and the style sheet and script
// served with their types, nosniff and the policy (the pages themselves are
// tested on a real daemon: reconcile/daemon/pages_test.go).
func TestStaticFilesAndHeaders(t *testing.T) {
	tm, err := Parse()
	if err != nil {
		t.Fatal(err)
	}
	h := tm.Serve(nil)
	for path, typ := range map[string]string{"/static/page.css": "text/css", "/static/page.js": "text/javascript"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), typ) {
			t.Errorf("GET %s = %d %s", path, w.Code, w.Header().Get("Content-Type"))
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" || w.Header().Get("Content-Security-Policy") != ContentSecurityPolicy {
			t.Errorf("GET %s: headers %v", path, w.Header())
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/static/nope.js", nil))
	if w.Code != 404 {
		t.Errorf("GET /static/nope.js = %d", w.Code)
	}
}

func TestPaging(t *testing.T) {
	for _, tc := range []struct {
		query  string
		before int64
		limit  int
		bad    bool
	}{
		{"", 0, 50, false},
		{"?before=7&limit=10", 7, 10, false},
		{"?limit=0", 0, 0, true},
		{"?limit=501", 0, 0, true},
		{"?before=x", 0, 0, true},
		{"?before=-1", 0, 0, true},
	} {
		before, limit, err := paging(httptest.NewRequest("GET", "/runs"+tc.query, nil))
		if (err != nil) != tc.bad || (!tc.bad && (before != tc.before || limit != tc.limit)) {
			t.Errorf("%q: %d %d %v", tc.query, before, limit, err)
		}
	}
}
