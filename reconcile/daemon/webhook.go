package daemon

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
)

// githubHook is POST /hooks/github. It answers 401 to a missing or wrong
// X-Hub-Signature-256 (HMAC-SHA256 of the body with the webhook secret), 413
// to a body over webhook.max_body, and 202 to everything it accepts; only a
// push to the followed branch, not seen before (X-GitHub-Delivery), triggers a
// pass, at once and without waiting for it.
func (d *Daemon) githubHook(w http.ResponseWriter, r *http.Request) {
	if len(d.webhookSecret) == 0 {
		d.metrics.webhooks.WithLabelValues("disabled").Inc()
		writeJSON(w, http.StatusNotFound, apiErr("webhook not enabled (webhook.secret_file)"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, d.cfg.Webhook.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			d.metrics.webhooks.WithLabelValues("too-large").Inc()
			writeJSON(w, http.StatusRequestEntityTooLarge, apiErr("body over webhook.max_body"))
			return
		}
		d.metrics.webhooks.WithLabelValues("bad-request").Inc()
		writeJSON(w, http.StatusBadRequest, apiErr("reading the body failed"))
		return
	}
	if !validSignature(d.webhookSecret, body, r.Header.Get("X-Hub-Signature-256")) {
		d.metrics.webhooks.WithLabelValues("bad-signature").Inc()
		writeJSON(w, http.StatusUnauthorized, apiErr("missing or wrong X-Hub-Signature-256"))
		return
	}
	// A replayed delivery is answered like the first one, but triggers
	// nothing. The id is only trusted once the signature held.
	if id := r.Header.Get("X-GitHub-Delivery"); id != "" && !d.deliveries.add(id) {
		d.metrics.webhooks.WithLabelValues("replay").Inc()
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "duplicate delivery ignored"})
		return
	}
	event := r.Header.Get("X-GitHub-Event")
	if event != "push" {
		d.metrics.webhooks.WithLabelValues("ignored").Inc()
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "event " + event + " ignored"})
		return
	}
	var push struct {
		Ref   string `json:"ref"`
		After string `json:"after"`
	}
	if err := json.Unmarshal(body, &push); err != nil {
		d.metrics.webhooks.WithLabelValues("bad-request").Inc()
		writeJSON(w, http.StatusBadRequest, apiErr("push payload is not JSON"))
		return
	}
	if push.Ref != "refs/heads/"+d.cfg.Repo.Branch {
		d.metrics.webhooks.WithLabelValues("ignored").Inc()
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "push to " + push.Ref + " ignored"})
		return
	}
	id := d.Trigger(ReasonWebhook)
	d.metrics.webhooks.WithLabelValues("triggered").Inc()
	d.log.Info("webhook: push", "ref", push.Ref, "after", push.After, "run", id)
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "sync triggered", "id": id})
}

func validSignature(secret, body []byte, header string) bool {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// recentSet remembers the last n ids, evicting the oldest.
type recentSet struct {
	mu   sync.Mutex
	ids  map[string]struct{}
	ring []string
	next int
}

func newRecentSet(n int) *recentSet {
	return &recentSet{ids: make(map[string]struct{}, n), ring: make([]string, n)}
}

// add records id and reports whether it was new.
func (s *recentSet) add(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, seen := s.ids[id]; seen {
		return false
	}
	if old := s.ring[s.next]; old != "" {
		delete(s.ids, old)
	}
	s.ring[s.next] = id
	s.ids[id] = struct{}{}
	s.next = (s.next + 1) % len(s.ring)
	return true
}
