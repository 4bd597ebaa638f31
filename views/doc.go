// Package views shows netrecon's values to people and tools: diagnostics and
// plans as text (for terminals), markdown (for pull-request comments), JSON (a
// documented, versioned schema: docs/json-output.md) and GitHub Actions
// annotations. Views never compute; the values come from schema and reconcile.
package views
