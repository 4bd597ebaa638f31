// Package page is the daemon's status page: the API's documents (package
// api) as server-rendered HTML, with html/template escaping everything a
// device or an intent author wrote (node paths, values, descriptions). The
// page is another view of the documents the API serves, never a second
// computation: the daemon hands them over through Source.
//
// Everything it needs is embedded: the templates, one style sheet and one
// script, served from the page's own origin, so that a Content Security
// Policy without inline script holds (no CDN, no build step). The page reads
// without script (plain HTML; refresh to update); the script keeps it live
// (it fetches the page again while the tab is visible and swaps the main
// part when it changed) and sends operator actions to POST
// /api/v1/actions/{action} with the operator's write token as a Bearer
// header, kept in sessionStorage for the tab's life only.
package page
