// Package whois is a client of the whois protocol ([RFC 3912]) as IRR
// servers speak it: one text query per connection (the server answers and
// closes), and IRRd's query language on a persistent session (!!, then !s,
// !i, !g, !6, each answer framed as A<length> data C, or C, D, E, F).
//
// Every read is bounded (Options.MaxResponse) and every query has a
// deadline; errors name the server and the query.
//
// [RFC 3912]: https://www.rfc-editor.org/rfc/rfc3912
package whois
