package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/netrecon/netrecon/backoff"
)

// DefaultBaseURL is the API of github.com. GitHub Enterprise Server serves it
// under https://HOST/api/v3; Actions tells the runner which in GITHUB_API_URL.
const DefaultBaseURL = "https://api.github.com"

// maxResponseBytes bounds what is read of one API answer (a page of 100
// comments of at most 65,536 characters each fits).
const maxResponseBytes = 32 << 20

// RetryPolicy says how hard to try before giving up on a transient failure.
type RetryPolicy struct {
	// MaxAttempts is the number of tries of one request, at least 1.
	MaxAttempts int
	// BaseDelay is the first back-off; each retry doubles it, with jitter.
	BaseDelay time.Duration
	// MaxDelay caps one back-off.
	MaxDelay time.Duration
	// MaxWait caps a wait the server asks for (Retry-After, the rate-limit
	// reset). When the server asks for longer, the request fails at once with
	// the time it resets rather than sleeping through a CI job's budget.
	MaxWait time.Duration
}

// DefaultRetryPolicy suits a CI job: about a minute of trying at most.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 5, BaseDelay: time.Second, MaxDelay: 20 * time.Second, MaxWait: 60 * time.Second}
}

// Client talks to the GitHub REST API with one token. Build it with [New].
type Client struct {
	base      *url.URL
	token     string
	redact    redactor
	http      *http.Client
	log       *slog.Logger
	retry     RetryPolicy
	sleep     func(context.Context, time.Duration) error
	now       func() time.Time
	userAgent string
}

// Option configures a [Client]; a bad value makes [New] fail.
type Option func(*Client) error

// WithBaseURL sets the API root, e.g. https://ghe.example.com/api/v3.
// URLs carrying credentials are refused: the token goes in a header only.
func WithBaseURL(raw string) Option {
	return func(c *Client) error {
		u, err := url.Parse(strings.TrimRight(raw, "/"))
		if err != nil {
			return fmt.Errorf("github: base URL: %w", err)
		}
		if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
			return fmt.Errorf("github: base URL %q: want http(s)://host[/path]", u.Redacted())
		}
		if u.User != nil {
			return fmt.Errorf("github: base URL %q must not carry credentials; pass the token with WithToken", u.Redacted())
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("github: base URL %q must not have a query or fragment", u.Redacted())
		}
		c.base = u
		return nil
	}
}

// WithToken sets the token sent as "Authorization: Bearer". Surrounding
// white space (a token file's newline) is dropped.
func WithToken(token string) Option {
	return func(c *Client) error {
		t := strings.TrimSpace(token)
		if strings.ContainsAny(t, " \t\r\n") {
			return errors.New("github: token contains white space")
		}
		c.token = t
		c.redact = redactor(t)
		return nil
	}
}

// WithHTTPClient sets the HTTP client (timeouts, proxies, test servers).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("github: nil HTTP client")
		}
		c.http = hc
		return nil
	}
}

// WithLogger sets the logger; nil discards. Requests are logged at debug
// level and retries at warn level, never with headers.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) error {
		if l == nil {
			l = slog.New(slog.DiscardHandler)
		}
		c.log = l
		return nil
	}
}

// WithRetry sets the retry policy.
func WithRetry(p RetryPolicy) Option {
	return func(c *Client) error {
		if p.MaxAttempts < 1 || p.BaseDelay < 0 || p.MaxDelay < p.BaseDelay || p.MaxWait < 0 {
			return fmt.Errorf("github: retry policy %+v: want MaxAttempts ≥ 1 and 0 ≤ BaseDelay ≤ MaxDelay, MaxWait ≥ 0", p)
		}
		c.retry = p
		return nil
	}
}

// WithSleep replaces the wait between retries; tests pass one that records
// the delay and returns at once. It must return ctx.Err() when ctx ends.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) error {
		if sleep == nil {
			return errors.New("github: nil sleep function")
		}
		c.sleep = sleep
		return nil
	}
}

// WithClock replaces time.Now, used to turn x-ratelimit-reset into a wait.
func WithClock(now func() time.Time) Option {
	return func(c *Client) error {
		if now == nil {
			return errors.New("github: nil clock")
		}
		c.now = now
		return nil
	}
}

// WithUserAgent sets the User-Agent header, which GitHub requires.
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		if ua == "" {
			return errors.New("github: empty user agent")
		}
		c.userAgent = ua
		return nil
	}
}

// New builds a Client. A token is required: every call netrecon makes writes.
func New(opts ...Option) (*Client, error) {
	base, _ := url.Parse(DefaultBaseURL)
	c := &Client{
		base:      base,
		http:      &http.Client{Timeout: 30 * time.Second},
		log:       slog.New(slog.DiscardHandler),
		retry:     DefaultRetryPolicy(),
		sleep:     sleepCtx,
		now:       time.Now,
		userAgent: "netrecon",
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if c.token == "" {
		return nil, errors.New("github: no token; in GitHub Actions pass GITHUB_TOKEN: ${{ github.token }} to the step")
	}
	return c, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// response is a successful API answer.
type response struct {
	header http.Header
	body   []byte
}

// request describes one API call.
type request struct {
	op     string
	method string
	url    *url.URL
	body   any // marshalled as JSON when not nil
	// idempotent requests are retried after a 5xx or a network error. A POST
	// is not: GitHub may have created the comment before failing, so the
	// caller looks again before trying once more.
	idempotent bool
	repo       string
	pr         int
}

// do sends r, retrying transient failures, and returns the answer of the
// first success or the error of the last try.
func (c *Client) do(ctx context.Context, r request) (*response, error) {
	var payload []byte
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return nil, fmt.Errorf("github: %s: %w", r.op, err)
		}
	}
	for attempt := 1; ; attempt++ {
		resp, err := c.send(ctx, r, payload)
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		retry, wait := c.classify(err, r.idempotent)
		if !retry || attempt >= c.retry.MaxAttempts {
			return nil, err
		}
		if wait == 0 {
			wait = backoff.Policy{Base: c.retry.BaseDelay, Max: c.retry.MaxDelay}.Jittered(attempt)
		}
		c.log.Warn("github: retrying", "op", r.op, "attempt", attempt, "wait", wait, "error", err.Error())
		if err := c.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("github: %s: %w", r.op, err)
		}
	}
}

// classify says whether err is worth another try and how long the server
// asked to wait (0: use back-off).
func (c *Client) classify(err error, idempotent bool) (retry bool, wait time.Duration) {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		switch {
		case apiErr.RateLimited:
			// The server refused before doing anything: safe for any method.
			if apiErr.RetryAt.IsZero() {
				return true, 0
			}
			wait = max(apiErr.RetryAt.Sub(c.now()), 0)
			if wait > c.retry.MaxWait {
				return false, 0 // fail now, with the reset time in the error
			}
			return true, max(wait, time.Millisecond)
		case apiErr.StatusCode >= 500:
			return idempotent, 0
		}
		return false, 0
	}
	var tErr *TransportError
	return errors.As(err, &tErr) && idempotent, 0
}

// send makes one HTTP exchange.
func (c *Client) send(ctx context.Context, r request, payload []byte) (*response, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url.String(), body)
	if err != nil {
		return nil, &TransportError{Op: r.op, msg: c.redact.clean(err.Error()), err: err}
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Authorization", "Bearer "+c.token)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := c.now()
	res, err := c.http.Do(req)
	if err != nil {
		c.log.Debug("github: request failed", "method", r.method, "path", r.url.EscapedPath())
		return nil, &TransportError{Op: r.op, msg: c.redact.clean(err.Error()), err: err}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes+1))
	if err != nil {
		return nil, &TransportError{Op: r.op, msg: "reading the answer: " + c.redact.clean(err.Error()), err: err}
	}
	c.log.Debug("github: request", "method", r.method, "path", r.url.EscapedPath(), "query", r.url.RawQuery,
		"status", res.StatusCode, "elapsed", c.now().Sub(start))
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		if len(data) > maxResponseBytes {
			return nil, fmt.Errorf("github: %s: answer larger than %d bytes", r.op, maxResponseBytes)
		}
		return &response{header: res.Header, body: data}, nil
	}
	return nil, c.apiError(r, res, data)
}

// apiError turns a failed answer into an *APIError, reading GitHub's message
// and the rate-limit headers:
// https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
func (c *Client) apiError(r request, res *http.Response, data []byte) *APIError {
	e := &APIError{Op: r.op, StatusCode: res.StatusCode, repo: r.repo, pr: r.pr}
	var msg struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &msg) == nil && msg.Message != "" {
		e.Message = msg.Message
	} else {
		e.Message = strings.TrimSpace(string(data))
	}
	e.Message = c.redact.clean(e.Message)
	if len(e.Message) > 300 {
		e.Message = strings.ToValidUTF8(e.Message[:300], "") + "…"
	}
	retryAfter, hasRetryAfter := parseRetryAfter(res.Header.Get("Retry-After"), c.now())
	exhausted := res.Header.Get("X-Ratelimit-Remaining") == "0"
	// A secondary rate limit may come as a bare 403 whose message says so.
	secondary := strings.Contains(strings.ToLower(e.Message), "rate limit")
	switch {
	case res.StatusCode == http.StatusTooManyRequests,
		res.StatusCode == http.StatusForbidden && (exhausted || hasRetryAfter || secondary):
		e.RateLimited = true
	default:
		return e
	}
	// GitHub's rule: Retry-After if present; else the reset time when the
	// limit is exhausted; else wait at least a minute.
	e.RetryAt = c.now().Add(time.Minute)
	switch {
	case hasRetryAfter:
		e.RetryAt = retryAfter
	case exhausted:
		if sec, err := strconv.ParseInt(res.Header.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
			e.RetryAt = time.Unix(sec, 0)
		}
	}
	return e
}

// parseRetryAfter reads Retry-After as delay-seconds or an HTTP date
// ([RFC 9110 10.2.3]).
//
// [RFC 9110 10.2.3]: https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3
func parseRetryAfter(v string, now time.Time) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, false
	}
	if sec, err := strconv.ParseInt(v, 10, 64); err == nil && sec >= 0 {
		return now.Add(time.Duration(min(sec, 1<<31)) * time.Second), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return t, true
	}
	return time.Time{}, false
}
