// Package secretref keeps secrets that the intent names by reference (a BGP
// session key: `session_key: {secret: env:NAME}`) out of everything netrecon
// shows or keeps, and puts them only into what it sends a device.
//
// The render writes a reference as the placeholder "(secret env:NAME)". That
// is what the desired tree, plans, diffs, PR comments, the journal and logs
// hold. Wrap puts a layer around a Dialer's sessions:
//
//   - edit-config: every placeholder in the changes is replaced with the
//     secret, resolved then (env:NAME from the process's environment,
//     file:/PATH from a file only its owner may read). A reference that does
//     not resolve fails the edit before anything is sent, so the transaction
//     stops with nothing of it on the device.
//   - get-config: a leaf whose value is one of the device's resolved secrets
//     reads back as that secret's placeholder, so an unchanged key is no
//     drift; any other value of a secret leaf (another key, a key the
//     reference no longer gives, a device's encrypted form) reads as
//     Unknown, so a plan shows the change without printing either side.
//
// A secret leaf is named as one (authentication-key, auth-password, ...):
// SecretLeaf. Reading masks only those, so a value that happens to equal a
// secret elsewhere is left alone, and writing a masked value back (an undo to
// a pre-image netrecon could not see) is refused rather than sent.
package secretref
