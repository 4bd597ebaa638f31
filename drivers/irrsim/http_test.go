package irrsim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func submitHTTP(t *testing.T, db *Database, method, body string) (int, httpResponse) {
	t.Helper()
	req, err := http.NewRequest(method, db.SubmitURL(), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out httpResponse
	if res.StatusCode == http.StatusOK {
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
	}
	return res.StatusCode, out
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestHTTPSubmission(t *testing.T) {
	s := startSim(t, Options{})
	db := s.DB("JPIRR")
	good := `{"objects":[{"object_text":` + jsonString(newCustomers) + `}],"passwords":["` + bcryptPassword + `"]}`

	code, resp := submitHTTP(t, db, http.MethodPost, `{"objects":[{"object_text":`+jsonString(newCustomers)+`}],"passwords":["guess"]}`)
	if code != 200 || resp.Summary.FailedModify != 1 || resp.Objects[0].Successful ||
		!strings.Contains(strings.Join(resp.Objects[0].ErrorMessages, " "), "Authorisation for [as-set] AS-NETRECON-CUSTOMERS failed") {
		t.Fatalf("wrong password: %d %+v", code, resp)
	}
	code, resp = submitHTTP(t, db, http.MethodPost, good)
	if code != 200 || resp.Summary.SuccessfulModify != 1 || resp.Objects[0].Type != "modify" || resp.Objects[0].RPSLPK != "AS-NETRECON-CUSTOMERS" {
		t.Fatalf("good password: %d %+v", code, resp)
	}
	if got := members(t, db); got != "AS-ACME,AS132003,AS132004" {
		t.Errorf("members %s", got)
	}

	// Attribute lists, and DELETE with its reason.
	route := `{"objects":[{"attributes":[{"name":"route","value":"203.0.113.0/25"},{"name":"origin","value":"AS132003"},
		{"name":"mnt-by","value":["MAINT-NETRECON"]},{"name":"source","value":"JPIRR"}]}],"passwords":["` + md5Password + `"]`
	if code, resp = submitHTTP(t, db, http.MethodPost, route+`}`); code != 200 || resp.Summary.SuccessfulCreate != 1 {
		t.Fatalf("create from attributes: %d %+v", code, resp)
	}
	if code, resp = submitHTTP(t, db, http.MethodDelete, route+`,"delete_reason":"gone"}`); code != 200 || resp.Summary.SuccessfulDelete != 1 {
		t.Fatalf("delete: %d %+v", code, resp)
	}
	if _, ok := db.Object("route", "203.0.113.0/25AS132003"); ok {
		t.Error("deleted route still there")
	}

	for _, bad := range []string{`{`, `{"objects":[]}`, `{"objects":[{"object_text":"x"}]}`} {
		if code, _ := submitHTTP(t, db, http.MethodPost, bad); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, code)
		}
	}
	if code, _ := submitHTTP(t, db, http.MethodGet, ""); code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", code)
	}
}

func TestHTTPFaults(t *testing.T) {
	s := startSim(t, Options{})
	db := s.DB("RADB")
	body := `{"objects":[{"object_text":` + jsonString(strings.ReplaceAll(newCustomers, "JPIRR", "RADB")) + `}],"passwords":["` + bcryptPassword + `"]}`

	db.SetFaults(Faults{RefuseTemp: 1})
	if code, _ := submitHTTP(t, db, http.MethodPost, body); code != http.StatusServiceUnavailable {
		t.Errorf("RefuseTemp: %d, want 503", code)
	}
	db.SetFaults(Faults{RefusePerm: true})
	if code, _ := submitHTTP(t, db, http.MethodPost, body); code != http.StatusForbidden {
		t.Errorf("RefusePerm: %d, want 403", code)
	}
	db.SetFaults(Faults{Lose: true})
	if code, resp := submitHTTP(t, db, http.MethodPost, body); code != 200 || resp.Summary.SuccessfulModify != 1 {
		t.Errorf("Lose: %d %+v, want a success answer", code, resp)
	}
	if got := members(t, db); got != "AS-ACME,AS132003" {
		t.Errorf("Lose: the change was applied: %s", got)
	}
	db.SetFaults(Faults{ShowAfter: 200 * time.Millisecond})
	sent := time.Now()
	if code, resp := submitHTTP(t, db, http.MethodPost, body); code != 200 || resp.Summary.Successful != 1 {
		t.Fatalf("ShowAfter: %d %+v", code, resp)
	}
	if got := members(t, db); got != "AS-ACME,AS132003" && time.Since(sent) < 200*time.Millisecond {
		t.Errorf("ShowAfter: shown at once")
	}
	waitFor(t, "the change to show", 5*time.Second, func() bool { return members(t, db) == "AS-ACME,AS132003,AS132004" })
}

// FuzzRequestObjects: any request body decodes to objects or an error, never
// a panic.
func FuzzRequestObjects(f *testing.F) {
	f.Add(`{"objects":[{"object_text":"as-set: AS-X\nsource: JPIRR\n"}]}`)
	f.Add(`{"objects":[{"attributes":[{"name":"route","value":["a","b"]},{"name":"","value":1}]}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		var req httpRequest
		if json.Unmarshal([]byte(body), &req) != nil {
			return
		}
		objs, err := requestObjects(req, true)
		if err == nil && len(objs) != len(req.Objects) {
			t.Fatalf("%d objects from %d", len(objs), len(req.Objects))
		}
	})
}
