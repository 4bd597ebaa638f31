// Package schema loads an intent repo and decides whether it is valid.
//
// An intent repo holds devices (inventory/), service instances (services/) and
// optional user-defined service types (service-types/). Load reads the YAML with
// source positions, unifies every document with its CUE schema (built-in types are
// embedded in the binary; user-defined ones come from the repo), then runs the
// cross-document checks CUE cannot express cheaply. The result is a typed Intent, or
// Diagnostics: every problem at once, each with file:line:col and the field.
//
// The format is documented in docs/intent-format.md.
package schema
