// Package diag owns positioned diagnostics for everything a person writes:
// intent documents, templates and the daemon's config. A Diagnostics is a
// list, never a first error: checks report every problem at once, each with
// its file:line:col, the field path, what is wrong and what to do next
// (modelled on terraform's tfdiags), and the other places it concerns
// (Related). Suggest finds the name a person meant ("did you mean"). It
// imports only the standard library.
package diag
