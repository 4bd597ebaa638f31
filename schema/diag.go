package schema

import "github.com/netrecon/netrecon/diag"

// The intent's diagnostics are package diag's; schema names them too, as
// its model (Device.Pos, Service.Pos) and its API speak in them.
type (
	Severity         = diag.Severity
	Pos              = diag.Pos
	Diagnostic       = diag.Diagnostic
	Related          = diag.Related
	Diagnostics      = diag.Diagnostics
	DiagnosticsError = diag.DiagnosticsError
)

const (
	Error   = diag.Error
	Warning = diag.Warning
)
