package daemon

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/netrecon/netrecon/reconcile/journal"
)

// Handler serves the daemon's HTTP endpoints:
//
//	GET  /healthz          200 while the process runs
//	GET  /readyz           200 once a pass has completed, 503 before
//	GET  /metrics          Prometheus metrics of this daemon
//	GET  /api/v1/status    Status as JSON
//	POST /api/v1/runs      trigger a pass (bearer token of api.token_file): 202 {"id": ...}
//	GET  /api/v1/runs/{id} a pass ("p-...") or a journal run (a number)
//	POST /hooks/github     GitHub push webhook (webhook.secret_file)
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !d.Ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("no pass has completed yet\n"))
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", d.metrics.handler())
	mux.HandleFunc("GET /api/v1/status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, d.Status())
	})
	mux.HandleFunc("POST /api/v1/runs", d.postRun)
	mux.HandleFunc("GET /api/v1/runs/{id}", d.getRun)
	mux.HandleFunc("POST /hooks/github", d.githubHook)
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

type apiError struct {
	Error string `json:"error"`
}

// authorized checks the bearer token in constant time. Comparing SHA-256
// digests keeps even the token's length from leaking through timing.
func (d *Daemon) authorized(r *http.Request) bool {
	if len(d.apiToken) == 0 {
		return false
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	a, b := sha256.Sum256([]byte(strings.TrimSpace(got))), sha256.Sum256(d.apiToken)
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

func (d *Daemon) postRun(w http.ResponseWriter, r *http.Request) {
	if !d.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="netrecon"`)
		writeJSON(w, http.StatusUnauthorized, apiError{"missing or wrong bearer token (api.token_file)"})
		return
	}
	id := d.Trigger("api")
	w.Header().Set("Location", "/api/v1/runs/"+id)
	writeJSON(w, http.StatusAccepted, map[string]string{"id": id})
}

// runView is GET /api/v1/runs/{id}: a pass, with the journal runs its
// applies recorded, or a journal run alone.
type runView struct {
	Pass *PassStatus   `json:"pass,omitempty"`
	Runs []journal.Run `json:"runs,omitempty"`
}

func (d *Daemon) getRun(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var v runView
	var ids []string
	if p := d.passByID(id); p != nil {
		v.Pass = p
		ids = p.RunIDs
	} else if _, err := strconv.ParseInt(id, 10, 64); err == nil {
		ids = []string{id}
	} else {
		writeJSON(w, http.StatusNotFound, apiError{"no such run: ids are p-... (passes) or numbers (journal runs)"})
		return
	}
	for _, s := range ids {
		n, _ := strconv.ParseInt(s, 10, 64)
		run, err := d.journal.Run(r.Context(), journal.RunID(n))
		if err != nil {
			if errors.Is(err, journal.ErrNotFound) && v.Pass == nil {
				writeJSON(w, http.StatusNotFound, apiError{"no such run"})
				return
			}
			if !errors.Is(err, journal.ErrNotFound) {
				writeJSON(w, http.StatusInternalServerError, apiError{"journal: " + err.Error()})
				return
			}
			continue
		}
		run.Plan = nil // large; `netrecon` CLI shows plans
		v.Runs = append(v.Runs, *run)
	}
	writeJSON(w, http.StatusOK, v)
}
