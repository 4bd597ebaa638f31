package github

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors that [*APIError] matches with [errors.Is], so callers can
// branch on the kind of failure without reading status codes.
var (
	// ErrUnauthorized: GitHub rejected the token (401).
	ErrUnauthorized = errors.New("github: unauthorized")
	// ErrForbidden: the token is valid but may not do this (403 that is not a
	// rate limit), e.g. a read-only token on a pull request from a fork.
	ErrForbidden = errors.New("github: forbidden")
	// ErrNotFound: the repository or pull request does not exist, or the
	// token cannot see it (404).
	ErrNotFound = errors.New("github: not found")
	// ErrRateLimited: the rate limit is exhausted and retries gave up.
	ErrRateLimited = errors.New("github: rate limited")
	// ErrInvalidArgument: the caller passed a malformed repository, pull
	// request number or marker; nothing was sent.
	ErrInvalidArgument = errors.New("invalid argument")
)

// APIError is an answer of the GitHub API that is not a success. Message is
// GitHub's own message with any secret removed; Error adds what to do next.
type APIError struct {
	Op          string // what netrecon tried, e.g. "list comments of owner/name#12"
	StatusCode  int
	Message     string
	RateLimited bool      // 429, or 403 with x-ratelimit-remaining: 0 or Retry-After
	RetryAt     time.Time // when the server said to come back; zero if it did not
	repo        string
	pr          int
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "github: %s: HTTP %d", e.Op, e.StatusCode)
	if e.Message != "" {
		fmt.Fprintf(&b, " (%s)", e.Message)
	}
	if h := e.hint(); h != "" {
		b.WriteString(": ")
		b.WriteString(h)
	}
	return b.String()
}

func (e *APIError) hint() string {
	switch {
	case e.RateLimited:
		if !e.RetryAt.IsZero() {
			return "rate limit exhausted; it resets at " + e.RetryAt.UTC().Format(time.RFC3339)
		}
		return "rate limit exhausted; try again later"
	case e.StatusCode == 401:
		return "the token was rejected (bad, expired or revoked); check GITHUB_TOKEN"
	case e.StatusCode == 403:
		return "the token may not comment on pull requests; the workflow needs `permissions: pull-requests: write` " +
			"(pull requests from forks only ever get a read-only token)"
	case e.StatusCode == 404:
		return fmt.Sprintf("repository %s or pull request #%d not found, or the token cannot see it", e.repo, e.pr)
	case e.StatusCode >= 500:
		return "GitHub failed; retries gave up"
	}
	return ""
}

// Is reports whether e is of the kind target names.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == 401
	case ErrForbidden:
		return e.StatusCode == 403 && !e.RateLimited
	case ErrNotFound:
		return e.StatusCode == 404
	case ErrRateLimited:
		return e.RateLimited
	}
	return false
}

// TransportError is a request that got no HTTP answer (DNS, TCP, TLS, a
// broken connection). Its message has the token removed.
type TransportError struct {
	Op  string
	msg string
	err error
}

func (e *TransportError) Error() string { return "github: " + e.Op + ": " + e.msg }

// Unwrap gives the cause, so errors.Is(err, context.DeadlineExceeded) works.
func (e *TransportError) Unwrap() error { return e.err }

// redactor removes one secret from text bound for an error or a log line.
type redactor string

func (r redactor) clean(s string) string {
	if r == "" {
		return s
	}
	return strings.ReplaceAll(s, string(r), "[REDACTED]")
}
