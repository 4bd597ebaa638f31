package daemon

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/forge/github/githubtest"
)

const orderToken = "order-token-for-tests"

// withOrders turns the order API on, with pull requests on api when it is
// not nil, and adds an order-scope token.
func (l *lab) withOrders(fake *githubtest.FakeAPI) {
	dir := filepath.Dir(l.cfg.KnownHosts)
	tok := filepath.Join(dir, "order.token")
	writeFile(l.t, tok, orderToken+"\n")
	l.cfg.API.Tokens = append(l.cfg.API.Tokens, TokenConfig{Name: "sales", File: tok, Scope: ScopeOrder})
	l.cfg.Orders = &OrdersConfig{Author: "netrecon", Email: "netrecon@example.net"}
	if fake != nil {
		gh := filepath.Join(dir, "github.token")
		writeFile(l.t, gh, fake.Token+"\n")
		l.cfg.Orders.GitHub = &OrdersGitHubConfig{APIURL: fake.URL(), Repo: fake.Repo, TokenFile: gh}
		fake.HasBranch = func(b string) bool {
			return strings.Contains(l.git("branch", "--list", b), b)
		}
	}
	l.cfg.Defaults()
}

const annexOrder = `{"order_id": "SO-2026-0200", "service_type": "attachment-circuit", "name": "acme-tokyo-annex",
  "customer": "acme", "fields": {"device": "pe1-tyo", "interface": "ge-0/0/2", "vlan": 200,
  "description": "ACME Corp — Tokyo annex", "ipv4": "100.64.9.1/30", "vrf": "ACME"}}`

func postOrder(t *testing.T, h http.Handler, token, body string) (int, []byte) {
	t.Helper()
	w := do(t, h, "POST", "/api/v1/orders", []byte(body), map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"})
	return w.Code, w.Body.Bytes()
}

// An order through the API becomes one pull request; once merged, the
// daemon's pass applies it and the order says so.
func TestOrderThroughTheAPIBecomesAPullRequestThenApplied(t *testing.T) {
	fake := githubtest.New(t)
	l := newLab(t, exampleFiles(t))
	l.withSecrets()
	l.withWriteToken()
	l.withOrders(fake)
	d := l.start(Options{})
	h := d.Handler()
	ctx := context.Background()
	d.SyncOnce(ctx, "test")

	code, body := postOrder(t, h, orderToken, annexOrder)
	if code != http.StatusCreated {
		t.Fatalf("POST: %d %s", code, body)
	}
	var o api.Order
	if err := json.Unmarshal(body, &o); err != nil {
		t.Fatal(err)
	}
	pulls := fake.Pulls()
	if o.State != api.OrderPROpen || len(pulls) != 1 || o.PRURL != pulls[0].HTMLURL || o.Branch != "order/SO-2026-0200" {
		t.Fatalf("order %+v, pull requests %+v", o, pulls)
	}
	if code, again := postOrder(t, h, orderToken, annexOrder); code != http.StatusOK || len(fake.Pulls()) != 1 {
		t.Fatalf("the same order again: %d %s; %d pull requests", code, again, len(fake.Pulls()))
	}
	if code, _ := postOrder(t, h, orderToken, strings.Replace(annexOrder, `"vlan": 200`, `"vlan": 202`, 1)); code != http.StatusConflict {
		t.Errorf("same id, other body: %d; want 409", code)
	}
	// Scopes: an operator's write token places no orders; an order token
	// triggers no pass.
	if code, _ := postOrder(t, h, opsToken, annexOrder); code != http.StatusForbidden {
		t.Errorf("write token: %d; want 403", code)
	}
	if w := do(t, h, "POST", "/api/v1/runs", nil, map[string]string{"Authorization": "Bearer " + orderToken}); w.Code != http.StatusForbidden {
		t.Errorf("order token on POST /api/v1/runs: %d; want 403", w.Code)
	}

	// Not merged: a pass leaves the order open and the service absent.
	d.SyncOnce(ctx, "test")
	var got api.Order
	if code := getJSON(t, h, o.URL, testToken, &got); code != 200 || got.State != api.OrderPROpen {
		t.Fatalf("before the merge: %d %+v", code, got)
	}
	// The reviewer merges; the next pass sees the file and applies it.
	l.git("merge", "-q", "--no-ff", "-m", "Merge order SO-2026-0200", o.Branch)
	p := d.SyncOnce(ctx, "test")
	if !slices.Contains(p.Applied, "pe1-tyo") {
		t.Fatalf("pass after the merge: %+v", p)
	}
	if code := getJSON(t, h, o.URL, testToken, &got); code != 200 || got.State != api.OrderApplied || got.MergeCommit != l.git("rev-parse", "HEAD") || got.Applied == nil {
		t.Fatalf("after the merge: %d %+v", code, got)
	}
	var svc api.Service
	if code := getJSON(t, h, "/api/v1/services/acme-tokyo-annex", testToken, &svc); code != 200 {
		t.Errorf("the ordered service is not in the status: %d", code)
	}
}

func TestBadOrderThroughTheAPIListsEveryErrorAndWritesNothing(t *testing.T) {
	fake := githubtest.New(t)
	l := newLab(t, exampleFiles(t))
	l.withSecrets()
	l.withOrders(fake)
	d := l.start(Options{})
	h := d.Handler()
	bad := `{"order_id": "SO-9", "service_type": "attachment-circuit", "name": "acme-bad", "customer": "acme",
	  "fields": {"device": "pe1-tyo", "vlan": 5000, "ipv4": "100.64.9.5/30"}}`
	code, body := postOrder(t, h, orderToken, bad)
	var inv api.OrderInvalid
	if code != http.StatusUnprocessableEntity || json.Unmarshal(body, &inv) != nil {
		t.Fatalf("bad order: %d %s", code, body)
	}
	var fields []string
	for _, p := range inv.Problems {
		fields = append(fields, p.Field)
	}
	slices.Sort(fields)
	if strings.Join(fields, " ") != "fields.interface fields.vlan" {
		t.Errorf("problems at %v; want fields.interface and fields.vlan\n%s", fields, body)
	}
	if b := l.git("branch", "--list"); strings.Contains(b, "order/") {
		t.Errorf("branches after a bad order: %s", b)
	}
	if len(fake.Pulls()) != 0 {
		t.Error("a pull request was opened for a bad order")
	}
	for _, c := range []struct{ body, want string }{
		{`{"order_id": "x", "bogus": 1}`, `unknown field "bogus"`},
		{"{\n  \"order_id\": \"x\",\n  oops\n}", "body:3:3:"},
		{`{"order_id": 5}`, "order_id: want string"},
		{``, "body: empty"},
	} {
		code, body := postOrder(t, h, orderToken, c.body)
		var e api.Error
		json.Unmarshal(body, &e)
		if code != http.StatusBadRequest || !strings.Contains(e.Error, c.want) {
			t.Errorf("%q: %d %s; want 400 with %q", c.body, code, body, c.want)
		}
	}
}
