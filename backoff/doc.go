// Package backoff owns the one retry delay netrecon uses everywhere: capped
// exponential back-off, with jitter where many clients may retry against the
// same peer (the GitHub API, a device another session holds locked).
// DESIGN invariant 5 (polite to devices) and 7 (retries with capped back-off).
package backoff
