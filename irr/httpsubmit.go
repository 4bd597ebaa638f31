package irr

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/netrecon/netrecon/schema"
)

// maxHTTPAnswer bounds what a registry's HTTP API answer is read to.
const maxHTTPAnswer = 1 << 20

// RefusedError is a registry's "no" to a submission: it is reported with
// the registry's words and not sent again.
type RefusedError struct {
	Database string
	Text     string
}

func (e *RefusedError) Error() string { return e.Database + " refused the change: " + e.Text }

// submitHTTP sends the object through IRRd's HTTP submission API (POST
// <url> with {"objects": [{"object_text": …}], "passwords": […]}, IRRd's
// documented form). The answer comes at once: a *RefusedError for a refusal
// (the object failed, or 4xx), any other error for a failure worth a retry
// (5xx, the network). IRRd's HTTP API takes passwords, not PGP signatures.
func submitHTTP(ctx context.Context, client *http.Client, db *schema.IRRDatabase, text, key string) error {
	if db.Auth.PGP != nil {
		return fmt.Errorf("irr %s: IRRd's HTTP submission takes passwords only; submit by e-mail to sign with PGP", db.Name)
	}
	pw, err := db.Auth.Password.Resolve()
	if err != nil {
		return fmt.Errorf("irr %s: %w", db.Name, err)
	}
	body, err := json.Marshal(map[string]any{
		"objects":   []map[string]string{{"object_text": text}},
		"passwords": []string{strings.TrimRight(string(pw), "\r\n")},
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, db.Submission.HTTP.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("irr %s: %w", db.Name, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("irr %s: POST %s: %w", db.Name, db.Submission.HTTP.URL, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxHTTPAnswer))
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("irr %s: POST %s: HTTP %d: %s", db.Name, db.Submission.HTTP.URL, resp.StatusCode, strings.TrimSpace(string(data)))
	case resp.StatusCode >= 400:
		return &RefusedError{Database: db.Name, Text: fmt.Sprintf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(data)))}
	}
	var answer struct {
		Objects []struct {
			Successful    bool     `json:"successful"`
			ObjectClass   string   `json:"object_class"`
			RPSLPK        string   `json:"rpsl_pk"`
			ErrorMessages []string `json:"error_messages"`
		} `json:"objects"`
	}
	if err := json.Unmarshal(data, &answer); err != nil {
		return fmt.Errorf("irr %s: POST %s: the answer is not IRRd's JSON: %w", db.Name, db.Submission.HTTP.URL, err)
	}
	for _, o := range answer.Objects {
		if o.ObjectClass != "as-set" || !strings.EqualFold(o.RPSLPK, key) {
			continue
		}
		if !o.Successful {
			return &RefusedError{Database: db.Name, Text: strings.Join(o.ErrorMessages, "\n")}
		}
		return nil
	}
	return fmt.Errorf("irr %s: POST %s: the answer does not speak of as-set %s", db.Name, db.Submission.HTTP.URL, key)
}
