// Package reconcile keeps devices equal to the intent: it plans, applies and
// records. Its sub-packages each own one step: plan computes the Plan value from
// desired and current configuration; views elsewhere print it.
//
// The root package states the device vocabulary the steps share, in its own
// types: datastores, commit options, capabilities, the errors the engine
// branches on (ErrSessionLost, ErrInUse, ErrNoPendingCommit, *LockHeldError),
// and the small interfaces it needs of a session (Reader, Transaction,
// Monitor; Device is all three). Drivers satisfy them and map their errors
// onto them; nothing under reconcile imports a driver.
package reconcile
