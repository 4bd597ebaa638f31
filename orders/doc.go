// Package orders turns an order from an order system into a proposed change
// of the intent repo: order → validated service file → branch → pull request.
//
// An order names a service type, a name, a customer and the type's fields.
// Submit validates it as `netrecon validate` would validate the file it
// becomes (the same CUE schemas and cross-document checks, against the head
// of the branch the daemon applies), writes that file on a branch of its own
// (order/<id>) and, with a forge, opens a pull request for it. Nothing is
// written anywhere when the order has an error: every error comes back at
// once, each with its field path (fields.vlan, name, customer).
//
// Orders never reach a device by themselves (DESIGN.md, invariant 1): the
// file arrives as a pull request, gets the normal plan comment and review,
// and the daemon applies it once it is merged, like anyone's change.
//
// An order's life, as the journal records it:
//
//	proposing  recorded; its branch or pull request not yet confirmed
//	           (a retry of the same order finishes it)
//	pr_open    the branch is pushed (and the pull request open)
//	merged     a head of the applied branch holds the order's file
//	applied    a pass brought the service's devices (or every device) to a
//	           commit containing the merge
//	failed     a pass at such a commit failed on a device of the service
//	           (a later pass that succeeds moves it to applied)
//
// Submit is idempotent by order id: the same id with the same body returns
// the order as it stands; with another body it is a *ConflictError.
package orders
