// Package api is version 1 of the daemon's HTTP API (/api/v1/...) as values:
// the documents the daemon answers and the requests it takes, with their
// JSON names (snake_case everywhere). docs/openapi.yaml describes the same
// documents, and a test of the daemon checks the one against the other.
//
// These types are the API's own, apart from the daemon's and the journal's
// internal ones: an internal field can change without changing what a client
// reads. The CLI reads the same types (`netrecon status`, `devices`,
// `services`), and `netrecon history --output json` writes Run, so a run
// reads the same from the daemon and from the state folder.
//
// The package imports only the standard library: views and any client can
// use it without linking the daemon.
package api
