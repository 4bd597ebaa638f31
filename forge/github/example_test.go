package github_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/netrecon/netrecon/forge/github"
)

// A CI job posts the plan; the next push's job edits the same comment.
func ExampleClient_UpsertComment() {
	// A stand-in for api.github.com holding the comments of one pull request.
	var bodies []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Body string }
		switch r.Method {
		case http.MethodGet:
			var out []map[string]any
			for i, b := range bodies {
				out = append(out, map[string]any{"id": i + 1, "body": b})
			}
			_ = json.NewEncoder(w).Encode(out)
			return
		case http.MethodPost:
			_ = json.NewDecoder(r.Body).Decode(&in)
			bodies = append(bodies, in.Body)
		case http.MethodPatch:
			_ = json.NewDecoder(r.Body).Decode(&in)
			bodies[0] = in.Body
		}
		fmt.Fprintf(w, `{"id":1,"html_url":"https://github.com/example-isp/intent/pull/7#issuecomment-1"}`)
	}))
	defer api.Close()

	client, err := github.New(github.WithBaseURL(api.URL), github.WithToken("ghs_example"))
	if err != nil {
		fmt.Println(err)
		return
	}
	const marker = "<!-- netrecon-plan -->"
	for _, plan := range []string{"1 to add", "2 to add"} {
		url, created, err := client.UpsertComment(context.Background(), "example-isp/intent", 7, marker, marker+"\n"+plan)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(created, url)
	}
	fmt.Println(len(bodies), strings.ReplaceAll(bodies[0], "\n", " | "))
	// Output:
	// true https://github.com/example-isp/intent/pull/7#issuecomment-1
	// false https://github.com/example-isp/intent/pull/7#issuecomment-1
	// 1 <!-- netrecon-plan --> | 2 to add
}
