// Package views shows netrecon's values to people and tools: diagnostics and
// plans as text (for terminals), markdown (for pull-request comments), JSON (a
// documented, versioned schema: docs/json-output.md) and GitHub Actions
// annotations, run history, and an apply's progress on a terminal. Views never
// compute and import values only (schema, configtree, plan): a run and a
// progress event come as views' own structs that cmd fills, and the daemon's
// status, devices, services and runs as the API's documents (package api, the
// standard library only), so no driver, journal or Git code is linked through
// here.
package views
