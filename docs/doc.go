// Package docs carries the documents the netrecon binary serves, embedded:
// the daemon's OpenAPI description, served at /api/v1/openapi.yaml.
package docs

import _ "embed"

// OpenAPI is openapi.yaml: the daemon's HTTP API, version 1.
//
//go:embed openapi.yaml
var OpenAPI []byte
