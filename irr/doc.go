// Package irr keeps netrecon's customers and the Internet Routing Registries
// in step, in both directions, without ever applying anything itself:
//
//   - registration: the bgp-customer services on main say which ASes and
//     as-sets belong in each provider as-set; netrecon reads the as-set from
//     every configured database (whois), changes only its members: attribute,
//     submits it by e-mail (or IRRd's HTTP API) as the maintainer, reads the
//     registry's reply, and verifies by whois until each database shows it.
//     Every submission is a row of the journal (submitted, accepted, refused,
//     verified, failed), so a restart resumes rather than re-mails.
//   - sync: each customer's import (an as-set or AS) is expanded to prefixes
//     as bgpq4 does, written as generated data in the intent repo and
//     proposed as a commit, so the prefix lists reach devices through the
//     normal plan, review and apply (DESIGN.md invariant 1).
//
// The whois protocol itself is package irr/whois.
package irr
