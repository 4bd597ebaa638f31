// Package planfile is the saved form of a plan: `netrecon plan -out FILE`
// writes it, `netrecon apply FILE` reads it and applies exactly that plan
// (DESIGN invariant 2).
//
// The file is JSON (format_version 1): the plan's mode and revisions, and per
// device its name, platform, the fingerprint of the live configuration the
// plan was computed against, the desired tree (with owners: apply needs it to
// filter, verify and record ownership), the planned changes themselves, and
// optionally the live tree the changes were computed from. When the live tree
// is there, Read recomputes the diff and refuses a file whose changes do not
// follow from its trees. A SHA-256 checksum over the content catches a file
// truncated or edited by hand.
package planfile
