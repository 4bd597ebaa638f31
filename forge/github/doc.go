// Package github is netrecon's only conversation with a code forge: it keeps
// one plan comment on a pull request up to date.
//
// It lives apart from the CLI because talking to GitHub has rules of its own
// that the rest of netrecon must not learn: pagination by Link header, rate
// limits that answer 403 or 429 with a time to come back, a 65,536-character
// cap on a comment, and a token that must never reach a log line or an error.
//
// The one operation, [Client.UpsertComment], finds the comment that carries a
// hidden marker (such as <!-- netrecon-plan -->) and edits it, or creates it
// when there is none, so a pull request holds one plan comment however many
// times CI runs. Transient failures (5xx, rate limits, network errors) are
// retried with capped exponential back-off and jitter; errors a human must
// fix (a bad token, missing permissions, an unknown repository) come back at
// once as an [*APIError] that [errors.Is] matches against [ErrUnauthorized],
// [ErrForbidden] and [ErrNotFound].
//
// REST API reference: https://docs.github.com/en/rest/issues/comments
package github
