// Package schema loads an intent repo and decides whether it is valid.
//
// An intent repo holds devices (inventory/), service instances (services/) and
// optional user-defined service types (service-types/). Load reads the YAML with
// source positions, unifies every document with its CUE schema (built-in types are
// embedded in the binary; user-defined ones come from the repo), then runs the
// cross-document checks CUE cannot express cheaply. The result is a typed Intent, or
// Diagnostics: every problem at once, each with file:line:col and the field.
//
// The steps, one file each:
//
//	files.go     reading the repo: links must stay inside it, sizes are checked before reading
//	yamldoc.go   YAML to plain data with a position per field; anchors, aliases, tags,
//	             duplicate keys and deep nesting are refused before anything is decoded
//	validate.go  CUE unification (cue/*.cue, embedded); CUE errors placed on the YAML
//	types.go     service-types/<kind>/: schema.cue, <platform>.xml.tmpl, type.yaml
//	shape.go     the fields each #Spec declares, for the templates (Shape)
//	decode.go    plain data to the model, built-in defaults filled in Go as well
//	check.go     cross-document checks: names, device references, VLANs
//	addresses.go the address plan: links, routes and next hops per routing context
//	followon.go  errors that follow from a broken document, put under its own
//	load.go      Load and Options: a bounded pool of workers, one cue.Context each
//	root.go      FindRepo: the intent repo a file or folder belongs to
//	cache.go     Options.Cache: each file's result by path and blob ID, and the
//	             cross-document checks' clean verdict by the whole set of files
//
// Files that Options.Trusted vouches for skip CUE (most of the cost) and give
// the same Intent.
//
// The format is documented in docs/intent-format.md.
package schema
