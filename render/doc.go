// Package render turns service instances into device configuration.
//
// A service type has one template per platform (html/template text producing
// XML). Rendering a service for a device executes the type's template for the
// device's platform and parses the output back into a configtree.Tree owned by
// the service: a fragment. The desired tree of a device is the merge of the
// fragments of every service that names it; a node two services render alike
// is shared, a leaf they render differently is a conflict reported with both
// services' files.
//
// Values are escaped by construction: html/template escapes every {{ }}
// action, and its escapes (&lt; &amp; &#34; ...) are valid XML character
// references, so a description of "</description><delete/>" stays text.
// Strings XML cannot carry at all (control characters) are refused before the
// template runs. Namespace URIs must be literal in templates: html/template
// treats xmlns attributes as URLs and filters interpolated urn: values. For the
// same reason a template may not contain elements named script or style, whose
// content html/template escapes as JavaScript or CSS. Output is parsed back by
// configtree.Parse, so a template that writes malformed XML, or closes an
// element it did not open, fails with its file and the line that wrote it.
//
// Templates run with missing keys as errors, and every field of the type's
// #Spec (schema.Shape) is given a value first, nil when the spec leaves it
// out, so that a typo fails while an optional field can still be tested.
// Before any runs, New checks each template statically (check.go): every
// field it reads must be declared by the schema, or it is an error at the
// template's line:column with the closest name; a field of a user-defined
// type that no template reads is a warning at its schema.cue declaration.
//
// Build.Origins traces a node of a device's desired tree to the services
// that own it and the template line that writes it, for checks of the
// rendered trees (trace.go).
//
// Built-in types (attachment-circuit, static-routing) ship their templates in
// templates/<kind>/<platform>.xml.tmpl; user-defined types bring theirs in the
// intent repo. Keys gives each platform's list key table, which the drivers
// use too, so that desired and observed trees name list entries alike.
//
// Template functions: ipaddr, prefixlen, netmask, network (canonical forms of
// "a.b.c.d/len" and IPv6 alike), family ("ipv4" or "ipv6"), lower, upper,
// join SEP LIST, default DEF VALUE, which keeps false and 0 (only an absent
// value or "" takes the default), and required NAME VALUE, which fails the
// rendering when VALUE is absent or "".
package render
