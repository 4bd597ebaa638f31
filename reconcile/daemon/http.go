package daemon

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/netutil"

	"github.com/netrecon/netrecon/reconcile/apply"
	"github.com/netrecon/netrecon/reconcile/journal"
)

// httpLimits bound what one client can hold of the HTTP server: without
// them a body sent a byte at a time keeps a connection (and its goroutine)
// for as long as the client likes, and idle keep-alives pile up.
type httpLimits struct {
	ReadHeader time.Duration // request line and headers
	Read       time.Duration // the whole request, body included
	Write      time.Duration // from the end of the headers to the end of the answer
	Idle       time.Duration // a keep-alive connection between requests
	MaxConns   int           // connections served at once; more wait in the kernel's backlog
}

var defaultHTTPLimits = httpLimits{
	ReadHeader: 10 * time.Second,
	Read:       30 * time.Second,
	Write:      30 * time.Second,
	Idle:       60 * time.Second,
	MaxConns:   64,
}

// httpServer returns the server of d's endpoints and the listener to serve
// it on: ln capped at lim.MaxConns connections.
func (d *Daemon) httpServer(ln net.Listener, lim httpLimits) (*http.Server, net.Listener) {
	srv := &http.Server{
		Handler:           d.Handler(),
		ReadHeaderTimeout: lim.ReadHeader,
		ReadTimeout:       lim.Read,
		WriteTimeout:      lim.Write,
		IdleTimeout:       lim.Idle,
		MaxHeaderBytes:    64 << 10,
	}
	return srv, netutil.LimitListener(ln, lim.MaxConns)
}

// Handler serves the daemon's HTTP endpoints:
//
//	GET  /healthz          200 while the process runs
//	GET  /readyz           200 once a pass has completed, 503 before
//	GET  /metrics          Prometheus metrics of this daemon
//	GET  /api/v1/status    Status as JSON (read token)
//	POST /api/v1/runs      trigger a pass (bearer token of api.token_file): 202 {"id": ...}
//	GET  /api/v1/runs/{id} a pass ("p-...") or a journal run (a number) (read token)
//	POST /hooks/github     GitHub push webhook (webhook.secret_file)
//
// Every /api/v1/ read needs the token of api.read_token_file or of
// api.token_file, unless api.open_reads is set. A refusal is answered at
// once, before any body is read, and closes the connection.
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
	mux.HandleFunc("GET /api/v1/status", d.reader(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, d.Status())
	}))
	mux.HandleFunc("POST /api/v1/runs", d.postRun)
	mux.HandleFunc("GET /api/v1/runs/{id}", d.reader(d.getRun))
	mux.HandleFunc("POST /hooks/github", d.githubHook)
	return mux
}

// writeJSON answers v as JSON. Any persist id in it is masked, wherever it
// came from (an error text in a device's status, a pass error): the id lets
// any session confirm or cancel a pending commit. newAPIRun masks the ids a
// run knows too; this catches the ones no field list can foresee.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error": "internal error: encoding the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(persistIDForm.ReplaceAll(b, []byte("[persist id]")), '\n'))
}

var persistIDForm = regexp.MustCompile(apply.PersistIDPattern)

type apiError struct {
	Error string `json:"error"`
}

// authorized checks the bearer token against the API token in constant time.
func (d *Daemon) authorized(r *http.Request) bool { return bearerIs(r, d.apiToken) }

// bearerIs compares the request's bearer token with token in constant time.
// Comparing SHA-256 digests keeps even the token's length from leaking
// through timing. An empty token matches nothing.
func bearerIs(r *http.Request, token []byte) bool {
	if len(token) == 0 {
		return false
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	a, b := sha256.Sum256([]byte(strings.TrimSpace(got))), sha256.Sum256(token)
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// reader lets a request through to h when it may read the API: open reads,
// the read token, or the API token (which may do more than read).
func (d *Daemon) reader(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !d.cfg.API.OpenReads && !bearerIs(r, d.readToken) && !d.authorized(r) {
			unauthorized(w, "missing or wrong bearer token: reads of /api/v1/ need the token of api.read_token_file or api.token_file (or api.open_reads: true)")
			return
		}
		h(w, r)
	}
}

// unauthorized answers 401 without reading the request's body. Closing the
// connection is what keeps net/http from first reading (and discarding) up
// to 256 KiB of an unread body before it sends the answer: a client that
// trickles its body would otherwise hold its 401 back for as long as it
// likes.
func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="netrecon"`)
	w.Header().Set("Connection", "close")
	writeJSON(w, http.StatusUnauthorized, apiError{msg})
}

func (d *Daemon) postRun(w http.ResponseWriter, r *http.Request) {
	if !d.authorized(r) {
		unauthorized(w, "missing or wrong bearer token (api.token_file)")
		return
	}
	id := d.Trigger(ReasonAPI)
	w.Header().Set("Location", "/api/v1/runs/"+id)
	writeJSON(w, http.StatusAccepted, map[string]string{"id": id})
}

// runView is GET /api/v1/runs/{id}: a pass, with the journal runs its
// applies recorded, or a journal run alone.
type runView struct {
	Pass *PassStatus `json:"pass,omitempty"`
	Runs []apiRun    `json:"runs,omitempty"`
}

// apiRun is a journal run as the API shows it. It is a list of what may be
// shown, not the journal's record minus what may not: persist ids let any
// session confirm or cancel a pending commit, and the transitions' details
// carry pre-images of managed configuration (plain commits), so neither is
// here, nor the plan. `netrecon history show` on the state folder shows all.
type apiRun struct {
	ID           journal.RunID   `json:"id"`
	IntentCommit string          `json:"intentCommit"`
	StartedBy    string          `json:"startedBy"`
	Atomic       bool            `json:"atomic"`
	StartedAt    time.Time       `json:"startedAt"`
	FinishedAt   time.Time       `json:"finishedAt,omitzero"`
	Outcome      journal.Outcome `json:"outcome"`
	Summary      string          `json:"summary"`
	Devices      []apiDeviceRun  `json:"devices"`
}

type apiDeviceRun struct {
	Device      string          `json:"device"`
	Phase       journal.Phase   `json:"phase"`
	Error       string          `json:"error,omitempty"`
	Transitions []apiTransition `json:"transitions,omitempty"`
}

type apiTransition struct {
	Phase journal.Phase `json:"phase"`
	At    time.Time     `json:"at"`
}

// newAPIRun copies what may be shown of run; a persist id quoted in an error
// or the summary (recovery names the one it could not settle) is masked.
func newAPIRun(run *journal.Run) apiRun {
	ids := persistIDs(run)
	v := apiRun{ID: run.ID, IntentCommit: run.IntentCommit, StartedBy: run.StartedBy, Atomic: run.Atomic,
		StartedAt: run.StartedAt, FinishedAt: run.FinishedAt, Outcome: run.Outcome, Summary: maskIDs(run.Summary, ids)}
	for _, dr := range run.Devices {
		a := apiDeviceRun{Device: dr.Device, Phase: dr.Phase, Error: maskIDs(dr.Error, ids)}
		for _, t := range dr.Transitions {
			a.Transitions = append(a.Transitions, apiTransition{Phase: t.Phase, At: t.At})
		}
		v.Devices = append(v.Devices, a)
	}
	return v
}

func persistIDs(run *journal.Run) []string {
	var ids []string
	for _, dr := range run.Devices {
		if dr.PersistID != "" {
			ids = append(ids, dr.PersistID)
		}
	}
	return ids
}

func maskIDs(s string, ids []string) string {
	for _, id := range ids {
		s = strings.ReplaceAll(s, id, "[persist id]")
	}
	return s
}

func (d *Daemon) getRun(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var v runView
	var ids, persist []string
	p, err := d.passByID(r.Context(), id)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, apiError{"journal: " + err.Error()})
		return
	}
	if p != nil {
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
		v.Runs = append(v.Runs, newAPIRun(run))
		persist = append(persist, persistIDs(run)...)
	}
	if v.Pass != nil {
		// A pass's error quotes the apply's, which may name a persist id.
		p := *v.Pass
		p.Error = maskIDs(p.Error, persist)
		v.Pass = &p
	}
	writeJSON(w, http.StatusOK, v)
}
