package irrsim

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/netrecon/netrecon/rpsl"
)

// httpRequest is the body of IRRd's HTTP submission API (POST to create or
// modify, DELETE to delete, both at /v1/submit/): objects as full RPSL text or
// as attribute lists, the passwords to authenticate with, and for a delete
// its reason.
type httpRequest struct {
	Objects []struct {
		ObjectText string `json:"object_text"`
		Attributes []struct {
			Name  string          `json:"name"`
			Value json.RawMessage `json:"value"`
		} `json:"attributes"`
	} `json:"objects"`
	Passwords    []string `json:"passwords"`
	Override     string   `json:"override"`
	DeleteReason string   `json:"delete_reason"`
}

// httpResponse is IRRd's answer: a summary and one entry per object.
type httpResponse struct {
	Summary httpSummary  `json:"summary"`
	Objects []httpObject `json:"objects"`
}

type httpSummary struct {
	ObjectsFound     int `json:"objects_found"`
	Successful       int `json:"successful"`
	SuccessfulCreate int `json:"successful_create"`
	SuccessfulModify int `json:"successful_modify"`
	SuccessfulDelete int `json:"successful_delete"`
	Failed           int `json:"failed"`
	FailedCreate     int `json:"failed_create"`
	FailedModify     int `json:"failed_modify"`
	FailedDelete     int `json:"failed_delete"`
}

type httpObject struct {
	Successful    bool     `json:"successful"`
	Type          string   `json:"type"`
	ObjectClass   string   `json:"object_class"`
	RPSLPK        string   `json:"rpsl_pk"`
	InfoMessages  []string `json:"info_messages"`
	ErrorMessages []string `json:"error_messages"`
}

// count adds one object's outcome to the summary.
func (s *httpSummary) count(r Result) {
	type key struct {
		ok bool
		op string
	}
	field := map[key]*int{
		{true, "create"}: &s.SuccessfulCreate, {true, "modify"}: &s.SuccessfulModify, {true, "delete"}: &s.SuccessfulDelete,
		{false, "create"}: &s.FailedCreate, {false, "modify"}: &s.FailedModify, {false, "delete"}: &s.FailedDelete,
	}
	*field[key{r.OK, r.Op}]++
	if r.OK {
		s.Successful++
	} else {
		s.Failed++
	}
}

func (db *Database) startHTTP() {
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/submit/", db.serveSubmit)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	db.sim.mu.Lock()
	db.sim.closers = append(db.sim.closers, func() { srv.Close() })
	db.sim.mu.Unlock()
	ln := db.http
	db.sim.wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			db.log.Warn("http server stopped", "err", err)
		}
	})
}

func (db *Database) serveSubmit(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodDelete {
		w.Header().Set("Allow", "POST, DELETE")
		http.Error(w, "use POST or DELETE", http.StatusMethodNotAllowed)
		return
	}
	db.mu.Lock()
	faults := db.faults
	switch {
	case faults.RefusePerm:
		db.mu.Unlock()
		http.Error(w, db.name+" does not accept submissions", http.StatusForbidden)
		return
	case db.refused < faults.RefuseTemp:
		db.refused++
		db.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		http.Error(w, db.name+" is busy, try again later", http.StatusServiceUnavailable)
		return
	}
	db.mu.Unlock()

	var req httpRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxMessage))
	if err := dec.Decode(&req); err != nil {
		http.Error(w, "request body is not the submission JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	objs, err := requestObjects(req, r.Method == http.MethodDelete)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sub := Submission{From: "http " + r.RemoteAddr, Received: db.store.now()}
	if faults.Lose {
		sub.Lost = true
		for _, o := range objs {
			op := "create"
			if _, ok := db.store.get(o.Class(), o.RouteKey()); ok {
				op = "modify"
			}
			if _, del := o.Get("delete"); del {
				op = "delete"
			}
			sub.Results = append(sub.Results, Result{Op: op, Class: o.Class(), Key: o.Key(), OK: true})
		}
		db.log.Info("submission lost (fault)", "from", sub.From)
	} else {
		sub.Results = db.applyAll(objs, credentials{passwords: req.Passwords}, faults.ShowAfter)
	}
	db.record(sub)

	resp := httpResponse{Summary: httpSummary{ObjectsFound: len(sub.Results)}, Objects: []httpObject{}}
	for _, res := range sub.Results {
		resp.Objects = append(resp.Objects, httpObject{
			Successful: res.OK, Type: res.Op, ObjectClass: res.Class, RPSLPK: res.Key,
			InfoMessages: []string{}, ErrorMessages: append([]string{}, res.Errors...),
		})
		resp.Summary.count(res)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

// requestObjects turns the request's objects into RPSL objects; a DELETE
// marks each with its delete reason.
func requestObjects(req httpRequest, del bool) ([]*rpsl.Object, error) {
	if len(req.Objects) == 0 {
		return nil, errors.New("no objects in the request")
	}
	var objs []*rpsl.Object
	for i, ro := range req.Objects {
		var o *rpsl.Object
		if ro.ObjectText != "" {
			var err error
			if o, err = rpsl.ParseOne(ro.ObjectText); err != nil {
				return nil, fmt.Errorf("objects[%d].object_text: %v", i, err)
			}
		} else {
			o = &rpsl.Object{}
			for j, a := range ro.Attributes {
				values, err := attrValues(a.Value)
				if err != nil || a.Name == "" {
					return nil, fmt.Errorf("objects[%d].attributes[%d]: want a name and a string or list value", i, j)
				}
				for _, v := range values {
					o.Add(a.Name, v)
				}
			}
			if len(o.Attrs) == 0 {
				return nil, fmt.Errorf("objects[%d]: neither object_text nor attributes", i)
			}
		}
		if del {
			o.Set("delete", cmp.Or(req.DeleteReason, "deleted over HTTP"))
		}
		objs = append(objs, o)
	}
	return objs, nil
}

// attrValues reads an attribute value: a string, or a list IRRd joins with
// commas.
func attrValues(raw json.RawMessage) ([]string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return []string{s}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, err
	}
	return []string{strings.Join(list, ", ")}, nil
}
