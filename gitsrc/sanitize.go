package gitsrc

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
)

// userinfoRE finds the user-info part of any URL in a text ("scheme://user:pass@"):
// transports quote the URL they failed on, and the user part alone may be a token
// (GitHub and GitLab accept a token as the user name).
var userinfoRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@\s"'<>]+@`)

// redactURLs replaces the user-info of every URL in s.
func redactURLs(s string) string {
	return userinfoRE.ReplaceAllString(s, "${1}***@")
}

// scrub removes credentials from a text meant for an error or a log: user-info
// in URLs, and every known secret verbatim or percent-encoded, since a server
// may echo a credential back in the body of a refusal that the transport then
// quotes.
func scrub(s string, secrets []string) string {
	s = redactURLs(s)
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		for _, form := range []string{sec, url.QueryEscape(sec), url.PathEscape(sec)} {
			s = strings.ReplaceAll(s, form, "***")
		}
	}
	return s
}

// sanitizedError is an error whose text has been scrubbed of credentials. It
// deliberately has no Unwrap: errors.As would hand callers the raw error, whose
// text may still hold them. Is keeps classification working, so a caller can
// still tell a timeout (context.DeadlineExceeded) or a refused login
// (transport.ErrAuthenticationRequired) from other failures.
type sanitizedError struct {
	msg string
	err error
}

func (e *sanitizedError) Error() string        { return e.msg }
func (e *sanitizedError) Is(target error) bool { return errors.Is(e.err, target) }

// sanitize wraps err so that its text carries no credentials; nil stays nil.
func sanitize(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	return &sanitizedError{msg: scrub(err.Error(), secrets), err: err}
}
