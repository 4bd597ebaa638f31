// Package intentexample carries the example intent repo inside the binaries
// that use it (netrecon demo), so they run from any folder. The folder itself
// is the one source of truth: FS is embedded from it at build time, and a test
// checks that every file of the folder is in FS (a new top-level entry must
// be added to the pattern below) and nothing else. This file and its test are
// the only Go files here and are not part of the repo FS holds.
package intentexample

import "embed"

// FS is the example intent repo: inventory, services, service types, the
// YANG modules of its devices (schemas), the prefix lists netrecon irr sync
// generated (generated), its README, CODEOWNERS and workflow.
//
//go:embed all:inventory all:irr all:services all:service-types all:schemas all:generated all:.github README.md CODEOWNERS
var FS embed.FS
