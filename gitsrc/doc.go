// Package gitsrc reads the intent repo at a revision.
//
// A revision is a commit of the intent repo; its tree is offered as an fs.FS so
// the loader reads a commit exactly as it reads a directory, and never a work tree
// that someone can edit underneath. Changed lists the paths that differ between
// two revisions, which is what lets a plan for a one-file pull request re-render
// only the devices that file touches.
//
// The daemon reads from a Mirror rather than a Repo: its own bare clone of the protected
// branch, with no work tree for anyone to edit. Before it applies a fetched head
// it calls CheckAdvance: the head must still contain the commit applied last (a
// force-push that rewrote applied history is a RewrittenHistoryError), and with a
// signature Policy every commit since then, not only the head, must be signed by
// a trusted OpenPGP key (else an UnsignedCommitError names the oldest one).
// Credentials for the remote never appear in an error, a log line or the clone's
// config on disk.
package gitsrc
