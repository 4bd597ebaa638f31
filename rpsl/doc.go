// Package rpsl reads and writes RPSL objects, the text form of Internet Routing
// Registry data ([RFC 2622] §2): an object is a sequence of "attribute: value"
// lines, its class is its first attribute, and objects are separated by blank
// lines.
//
// Parse keeps attributes in their order with their positions, so a caller can
// change one attribute (Set) and print the object back (Format) with every
// other attribute as the registry had it: netrecon's registration reads the
// provider as-set from the registry and changes only its members. The printer
// is deterministic, so the same object always prints to the same bytes.
//
// Names (sets, AS numbers) follow RFC 2622 §2 and §5: ValidSetName, ParseASN.
// Both the IRR simulator (drivers/irrsim) and netrecon's irr package stand on
// this package; it imports nothing of netrecon.
//
// [RFC 2622]: https://www.rfc-editor.org/rfc/rfc2622#section-2
package rpsl
