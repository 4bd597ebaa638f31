// Package irrsim simulates Internet Routing Registries for netrecon's tests: one
// Sim serves several named databases (JPIRR, RADB, NTTCOM, ...), each with its
// own whois server and, for submissions, its own SMTP server, seeded from RPSL
// text.
//
// The whois server speaks RFC 3912 with the query language IRRd documents and
// bgpq4 uses: "!!" (keep the connection open), "!s" / "!s-lc" (sources),
// "!g" / "!6" (IPv4 / IPv6 prefixes by origin), "!i" and "!i<set>,1" (set
// members, recursive and cycle safe), "!a" (prefixes of a set), "!m" (one
// object), "!o" (by maintainer), "!v", "!t", "!q", framed as IRRd frames them
// ("A<len>", "C", "D", "F <msg>"); and RIPE-style text queries ("-T as-set -r
// AS-FOO", "-K", "-s", "-i mnt-by X", "-k") answered with RPSL text, as Debian's
// whois sends them. Password hashes never leave the server.
//
// Submissions arrive by e-mail (smtp.go, submit.go): RPSL objects in the
// body, authenticated against the mnt-by maintainer by a "password:" line
// (BCRYPT-PW or MD5-PW hashes) or a PGP clear-signature checked against the
// maintainer's key-cert; the sim applies create, modify and delete and mails a
// reply, IRRd style, to the sender through the configured relay (the lab's
// MTA). The same checks serve IRRd's HTTP submission API (http.go: POST or
// DELETE /v1/submit/ with JSON objects and passwords), for databases a
// submitter reaches over HTTPS instead of mail. Fault knobs per database (Faults) reproduce what real registries do to
// a submitter: refuse mail for a while or for ever, accept and show the change
// late, or accept and lose it.
package irrsim
