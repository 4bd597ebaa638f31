// Package gitsrc reads the intent repo at a revision.
//
// A revision is a commit of the intent repo; its tree is offered as an fs.FS so
// the loader reads a commit exactly as it reads a directory, and never a work tree
// that someone can edit underneath. Changed lists the paths that differ between
// two revisions, which is what lets a plan for a one-file pull request re-render
// only the devices that file touches.
package gitsrc
