// Package planfile is the saved form of a plan: `netrecon plan --out FILE`
// writes it, `netrecon apply FILE` reads it and applies exactly that plan
// (DESIGN invariant 2).
//
// A plan file is data, not instructions. The file is JSON (format_version
// 3; Read still reads 2): the plan's mode and revisions, and per device its name, platform, the
// fingerprint of the live configuration the plan was computed against, the
// desired tree (with owners: apply needs it to filter, verify and record
// ownership), the planned changes, and optionally the live tree the changes
// were computed from. Read rebuilds each edit from the trees: the nodes and
// ancestors a create or an update sends come from the desired tree, a
// delete's from the live tree when the file has it, and a change whose
// stored nodes differ from the trees', or do not spell its path, or whose
// values disagree with them, is refused with the device, the change's index
// and its path. Compare checks a fresh plan of the devices against the
// saved one, which apply does before it touches anything.
//
// WriteSigned and ReadSigned add an HMAC-SHA256 (RFC 2104) over every byte
// of the file, keyed by a random key in the state folder (LoadKey), so a
// file edited outside netrecon, or made with another state folder, is
// refused. The journal keeps its own copy of each run's plan with Write and
// Read, unsigned: it lives in the state folder already. That copy leaves out
// the nodes and ancestors of the changes the trees rebuild (all but a
// delete without the live tree), which were most of its bytes; the signed
// file keeps them for the person who reads it.
//
// [RFC 2104]: https://www.rfc-editor.org/rfc/rfc2104
package planfile
