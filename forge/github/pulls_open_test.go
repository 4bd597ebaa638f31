package github

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/netrecon/netrecon/forge/github/githubtest"
)

// A pull request is opened once per head: asked again, GitHub answers 422
// and the open one is returned.
func TestOpenPullRequest(t *testing.T) {
	f := githubtest.New(t)
	var opened []map[string]any
	f.Hook = func(w http.ResponseWriter, r *http.Request, _ int) bool {
		switch {
		case r.URL.Path == "/repos/example-isp/intent/pulls" && r.Method == http.MethodPost:
			var in map[string]any
			json.NewDecoder(r.Body).Decode(&in)
			if len(opened) > 0 {
				f.WriteJSON(w, 422, map[string]any{"message": "Validation Failed",
					"errors": []map[string]string{{"message": "A pull request already exists for example-isp:irr-sync."}}})
				return true
			}
			opened = append(opened, in)
			f.WriteJSON(w, 201, map[string]any{"number": 12, "html_url": "https://github.example/example-isp/intent/pull/12", "draft": in["draft"]})
			return true
		case r.URL.Path == "/repos/example-isp/intent/pulls" && r.Method == http.MethodGet:
			if q := r.URL.Query(); q.Get("head") != "example-isp:irr-sync" || q.Get("state") != "open" || q.Get("base") != "main" {
				f.WriteJSON(w, 200, []any{})
				return true
			}
			f.WriteJSON(w, 200, []map[string]any{{"number": 12, "html_url": "https://github.example/example-isp/intent/pull/12", "draft": true}})
			return true
		}
		return false
	}
	c, _, _ := newTestClient(t, f)
	pr, err := c.OpenPullRequest(context.Background(), "example-isp/intent", "irr-sync", "main", "irr sync", "body", true)
	if err != nil || pr.Number != 12 || !pr.Draft {
		t.Fatalf("open: %+v, %v", pr, err)
	}
	if in := opened[0]; in["head"] != "irr-sync" || in["base"] != "main" || in["draft"] != true || in["title"] != "irr sync" {
		t.Errorf("sent %v", in)
	}
	pr, err = c.OpenPullRequest(context.Background(), "example-isp/intent", "irr-sync", "main", "irr sync", "body", true)
	if err != nil || pr.Number != 12 {
		t.Fatalf("again: %+v, %v", pr, err)
	}
	if _, err := c.OpenPullRequest(context.Background(), "not a repo", "a", "b", "t", "b", false); err == nil {
		t.Fatal("a bad repo name was sent")
	}
}
